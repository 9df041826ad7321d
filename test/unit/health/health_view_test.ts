import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { fixture } from "./_fixture.ts";

describe("HealthView", () => {
  test("HealthView.evaluate is pure: the same state gives the same answer, and reading changes nothing", async () => {
    const f = fixture();
    await f.setBalance(0.5);
    f.view.setPhase("running");
    const a = f.view.evaluate();
    const b = f.view.evaluate();
    assert.deepEqual(a, b);
    assert.deepEqual(a.issues, [{ kind: "low_balance", balanceUsd: 0.5 }]);
    assert.equal(a.ready, false);
    assert.equal(a.phase, "running");
  });

  test("HealthView.evaluate reports starting until the phase is set, and draining after", () => {
    const f = fixture();
    assert.deepEqual(f.view.evaluate().issues.slice(0, 1), [{ kind: "starting" }]);
    f.view.setPhase("draining");
    assert.deepEqual(f.view.evaluate().issues.slice(0, 1), [{ kind: "draining" }]);
    assert.equal(f.view.evaluate().phase, "draining");
  });

  test("HealthView.evaluate reads the balance and its age from the upstream check, and extra issues from outside", async () => {
    const f = fixture({ extraIssues: () => [{ kind: "state_dir", reason: "EACCES" }] });
    f.view.setPhase("running");
    await f.setBalance(12.5);
    await f.clock.advance(30_000);
    const r = f.view.evaluate();
    assert.equal(r.balanceUsd, 12.5);
    assert.equal(r.balanceAgeMs, 30_000);
    assert.deepEqual(r.issues, [{ kind: "state_dir", reason: "EACCES" }]);
  });

  test("HealthView.live fails only when work is pending and progress is overdue past stallMs", async () => {
    const f = fixture();
    f.setLoad({ lastProgressAt: f.clock.now() - 3_600_000 });
    assert.equal(f.view.live().ok, true, "idle: a quiet scheduler is fine");
    f.setLoad({ queueDepth: 1, lastProgressAt: f.clock.now() - 61_000 });
    assert.deepEqual(f.view.live(), { ok: false, uptimeS: 0, stalledMs: 61_000 });
    await f.clock.advance(5000);
    assert.equal(f.view.live().uptimeS, 5);
  });

  test("HealthView.state reads readiness, liveness and every check at one instant", async () => {
    const f = fixture();
    f.view.setPhase("running");
    await f.setBalance(3);
    const s = f.view.state();
    assert.equal(s.at, f.clock.now());
    assert.deepEqual(s.readiness, f.view.evaluate());
    assert.deepEqual(s.live, f.view.live());
    assert.deepEqual(s.checks.map((c) => [c.name, c.status]), [["captchaai_api", "ok"]]);
    assert.equal(s.thresholds, f.view.thresholds);
  });
});
