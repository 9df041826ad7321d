import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { HealthChecks } from "../../../src/health/checks.ts";
import { FakeClock, settle } from "../../_support/fake_clock.ts";

describe("HealthChecks", () => {
  test("a check that throws reads as down with a code; one that never answers is cut at its deadline", async () => {
    const clock = new FakeClock();
    const checks = new HealthChecks({ clock, sanitize: (m) => m.replaceAll("k3y", "[REDACTED]") });
    checks.register({ name: "throws", ttlMs: 10_000, timeoutMs: 1000, run: () => { throw new Error("boom with k3y"); } });
    checks.register({ name: "hangs", ttlMs: 10_000, timeoutMs: 1000, run: () => new Promise(() => {}) });
    checks.register({ name: "fine", ttlMs: 10_000, timeoutMs: 1000, run: async () => ({ observedValue: 3, observedUnit: "USD" }) });
    const started = checks.start();
    await settle();
    assert.equal(checks.result("hangs")!.status, "degraded", "first run still out: degraded, not ok");
    await clock.advance(1000);
    await started;
    const byName = Object.fromEntries(checks.results().map((r) => [r.name, r]));
    assert.equal(byName.throws!.status, "down");
    assert.equal(byName.throws!.errorCode, "ERR_CHECK_FAILED");
    assert.equal(byName.throws!.error, "boom with [REDACTED]");
    assert.equal(byName.hangs!.status, "down");
    assert.equal(byName.hangs!.errorCode, "ERR_CHECK_TIMEOUT");
    assert.equal(byName.fine!.status, "ok");
    assert.equal(byName.fine!.value?.observedValue, 3);
    assert.equal(byName.fine!.stale, false);
    checks.stop();
  });

  test("checks run in parallel: a slow one does not delay the others", async () => {
    const clock = new FakeClock();
    const checks = new HealthChecks({ clock });
    checks.register({ name: "slow", ttlMs: 60_000, timeoutMs: 5000, run: () => new Promise((r) => clock.setTimeout(() => r({}), 4000)) });
    checks.register({ name: "quick", ttlMs: 60_000, timeoutMs: 5000, run: async () => ({}) });
    void checks.start();
    await settle();
    assert.equal(checks.result("quick")!.status, "ok");
    assert.equal(checks.result("slow")!.status, "degraded");
    await clock.advance(4000);
    assert.equal(checks.result("slow")!.status, "ok");
    assert.equal(checks.result("slow")!.responseMs, 4000);
    checks.stop();
  });

  test("after a good result, a failure is degraded (stale value kept), not down", async () => {
    const clock = new FakeClock();
    let fail = false;
    const checks = new HealthChecks({ clock, random: () => 0 });
    checks.register({ name: "api", ttlMs: 1000, timeoutMs: 500, run: async () => {
      if (fail) throw new Error("ECONNREFUSED");
      return { observedValue: 5 };
    } });
    await checks.start();
    fail = true;
    await clock.advance(900); // the background refresh, 100 ms before the TTL ends
    const r = checks.result("api")!;
    assert.equal(r.status, "degraded");
    assert.equal(r.stale, true);
    assert.equal(r.value?.observedValue, 5);
    assert.equal(r.checkedAt, clock.now());
    assert.equal(r.valueAt, clock.now() - 900);
    checks.stop();
  });

  test("a check may report its own degraded or down status", async () => {
    const clock = new FakeClock();
    const checks = new HealthChecks({ clock });
    checks.register({ name: "self", ttlMs: 1000, timeoutMs: 500, run: async () => ({ status: "down", output: "disk full" }) });
    await checks.refresh("self");
    assert.equal(checks.result("self")!.status, "down");
    assert.equal(checks.result("self")!.error, "disk full");
  });

  test("HealthChecks passes each run a signal that aborts at the check's timeout, with ERR_CHECK_TIMEOUT", async () => {
    const clock = new FakeClock();
    const checks = new HealthChecks({ clock });
    let seen: AbortSignal | undefined;
    checks.register({ name: "slow", ttlMs: 10_000, timeoutMs: 800, run: (signal) => ((seen = signal), new Promise(() => {})) });
    const done = checks.refresh("slow");
    await settle();
    assert.equal(seen?.aborted, false);
    await clock.advance(800);
    await done;
    assert.equal(seen?.aborted, true);
    assert.equal((seen?.reason as { code?: string }).code, "ERR_CHECK_TIMEOUT");
    assert.equal(checks.result("slow")!.status, "down");
  });

  test("HealthChecks.onResult tells subscribers after every run ends, success or not, until unsubscribed", async () => {
    const clock = new FakeClock();
    const checks = new HealthChecks({ clock });
    let fail = false;
    checks.register({ name: "api", ttlMs: 10_000, timeoutMs: 500, run: async () => {
      if (fail) throw new Error("down");
      return {};
    } });
    const seen: string[] = [];
    const statuses: string[] = [];
    const off = checks.onResult((name) => {
      seen.push(name);
      statuses.push(checks.result(name)!.status);
      assert.equal(checks.result(name)!.refreshing, false, "the result is settled when subscribers hear of it");
    });
    checks.onResult(() => {
      throw new Error("a failing subscriber");
    });
    await checks.refresh("api");
    fail = true;
    await checks.refresh("api");
    off();
    await checks.refresh("api");
    assert.deepEqual(seen, ["api", "api"]);
    assert.deepEqual(statuses, ["ok", "degraded"]);
  });

  test("remove stops a check and drops it from the results (it runs no more); add puts it back, running and kept fresh", async () => {
    const clock = new FakeClock();
    const checks = new HealthChecks({ clock });
    let runs = 0;
    checks.register({ name: "a", ttlMs: 10_000, timeoutMs: 1000, run: async () => ({ observedValue: ++runs }) });
    checks.register({ name: "b", ttlMs: 10_000, timeoutMs: 1000, run: async () => ({}) });
    await checks.start();
    const def = checks.remove("a");
    assert.equal(def?.name, "a");
    assert.equal(checks.remove("nobody"), undefined);
    assert.deepEqual(checks.results().map((r) => r.name), ["b"]);
    await clock.advance(60_000);
    assert.equal(runs, 1, "stopped");
    await checks.add(def!);
    assert.equal(checks.result("a")!.value?.observedValue, 2);
    await clock.advance(10_000);
    assert.ok(runs >= 3, "kept fresh again");
    checks.stop();
  });
});
