import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { HealthChecks } from "../../../src/health/checks.ts";
import { HealthView, type ProviderLoad } from "../../../src/health/health_view.ts";
import { WorkerHealth } from "../../../src/health/worker_health.ts";
import { FakeClock } from "../../_support/fake_clock.ts";
import { fixture, THRESHOLDS } from "./_fixture.ts";

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

describe("HealthView over several providers", () => {
  const several = () => {
    const clock = new FakeClock();
    const load = (removed = false, busy = 0): ProviderLoad => ({ busy, limit: 2, plan: 2, spentTodayUsd: 0, dailyBudgetUsd: undefined, budgetLeftUsd: undefined, removed });
    const loads: Record<string, ProviderLoad> = { plan: load(), paid: load(), old: load() };
    const providers = ["plan", "paid", "old"].map((name) => {
      const health = new WorkerHealth(clock, 300_000, { maxConsecutiveFailures: 3 });
      health.setLoadSource(() => ({ queueDepth: 0, inFlight: 0, oldestQueuedAgeMs: 0, lastProgressAt: clock.now() }));
      return { name, health, check: `${name}_api`, extra: () => (name === "paid" ? ["budget"] : []), load: () => loads[name] };
    });
    const view = new HealthView({ clock, health: providers[0]!.health, providers, checks: new HealthChecks({ clock }), thresholds: THRESHOLDS, stallMs: 60_000 });
    view.setPhase("running");
    return { view, providers, loads, load };
  };

  test("providerStates: each provider up, down for the reason provider_down gives, or removed, with its load", () => {
    const { view, providers, loads, load } = several();
    providers[2]!.health.upstreamAuth("ERROR_KEY_DOES_NOT_EXIST");
    assert.deepEqual(view.providerStates().map((p) => [p.name, p.check, p.state, p.reason]), [
      ["plan", "plan_api", "up", undefined],
      ["paid", "paid_api", "down", "budget"],
      ["old", "old_api", "down", "upstream_auth=ERROR_KEY_DOES_NOT_EXIST"],
    ]);
    loads.old = load(true, 1);
    assert.deepEqual(view.providerStates().map((p) => p.state), ["up", "down", "removed"]);
    assert.equal(view.providerStates()[2]!.load, loads.old);
    assert.deepEqual(view.state().providers, view.providerStates());
  });

  test("a provider removed by a reload is neither an issue nor a warning, is not up, and has no issues of its own for its trials", () => {
    const { view, providers, loads, load } = several();
    providers[2]!.health.upstreamAuth("ERROR_KEY_DOES_NOT_EXIST");
    assert.ok(view.evaluate().warnings.some((w) => w.kind === "provider_down" && w.provider === "old"));
    loads.old = load(true, 1);
    const r = view.evaluate();
    assert.equal(r.ready, true);
    assert.deepEqual(r.warnings.map((w) => (w.kind === "provider_down" ? w.provider : w.kind)), ["paid"], "only the spent budget warns");
    assert.equal(view.providerUp("old"), false);
    assert.deepEqual(view.providerIssues("old"), []);
    // The others down too: readiness fails for their reasons, never for the removed one.
    providers[0]!.health.upstreamAuth("ERROR_WRONG_USER_KEY");
    assert.deepEqual(view.evaluate().issues.map((i) => (i.kind === "provider_down" ? i.provider : i.kind)), ["plan", "paid"]);
  });

  test("a provider on trial (one task at a time after a fault) while another serves: providerUp false, down for `trial` on the status page and the HAProxy weight, a warning, still ready", () => {
    const { view, providers, loads, load } = several();
    assert.equal(view.providerUp("plan"), true);
    loads.plan = { ...load(), trial: true };
    assert.equal(view.providerUp("plan"), false, "a submit that may have arrived unanswered");
    assert.deepEqual([view.providerStates()[0]!.state, view.providerStates()[0]!.reason], ["down", "trial"], "its one task at a time is no capacity");
    const r = view.evaluate();
    assert.equal(r.state, "ready", "another provider serves");
    assert.ok(r.warnings.some((w) => w.kind === "provider_down" && w.provider === "plan" && w.reason === "trial"), JSON.stringify(r.warnings));
    loads.plan = load();
    providers[0]!.health.circuit("half_open");
    assert.equal(view.providerUp("plan"), false, "its circuit half-open");
    providers[0]!.health.circuit("closed");
    assert.equal(view.providerUp("plan"), true);
  });

  test("every provider that can take work on trial after a fault: readiness is probation, from the trial's start, not ready (the built binary: a plan whose in.php hangs, the paid one's budget spent, said ready with no word of the plan)", () => {
    const { view, providers, loads, load } = several();
    providers[2]!.health.upstreamAuth("ERROR_KEY_DOES_NOT_EXIST");
    loads.plan = { ...load(), trial: true, trialSince: 5000 };
    const r = view.evaluate();
    assert.deepEqual([r.state, r.ready, r.probationSince], ["probation", true, 5000], "one task at a time goes to the plan: only probation's admits are taken");
    loads.plan = load();
    assert.equal(view.evaluate().state, "ready");
  });
});
