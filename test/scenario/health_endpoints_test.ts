import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { HealthChecks } from "../../src/health/checks.ts";
import { HealthView } from "../../src/health/health_view.ts";
import { formatIssue } from "../../src/health/readiness_issue.ts";
import { WorkerHealth } from "../../src/health/worker_health.ts";
import { FakeClock } from "../_support/fake_clock.ts";
import { advance, eventually, withHarness, type Harness } from "../_support/harness.ts";
import { json } from "../_support/http.ts";
import { pngOfSize } from "../_support/images.ts";

const IMAGE = { type: "image" as const, image: pngOfSize(150, 2).toString("base64") };
const get = (h: Harness, path: string) => fetch(h.base + path);


async function ready(h: Harness): Promise<{ status: number; body: any }> {
  const res = await get(h, "/health/ready");
  return { status: res.status, body: await json(res) };
}

describe("health endpoints", () => {
  test("a healthy worker: every endpoint 200 with the documented shapes, no-store, HEAD too", () =>
    withHarness(async (h) => {
      const live = await get(h, "/health/live");
      assert.equal(live.status, 200);
      assert.deepEqual(Object.keys(await json(live)), ["status", "uptime_s"]);
      const r = await ready(h);
      assert.equal(r.status, 200);
      assert.equal(r.body.status, "ready");
      assert.equal(r.body.state, "ready");
      assert.deepEqual(r.body.issues, []);
      assert.deepEqual(r.body.warnings, []);
      assert.deepEqual(Object.keys(r.body.stats), [
        "solved", "failed", "success_rate", "error_rate", "balance", "balance_age_s", "queue_depth", "in_flight", "window_s", "window_outcomes", "window_failed",
        "oldest_queued_s", "saturation",
      ]);
      assert.equal(r.body.stats.balance, 10);
      assert.deepEqual(r.body.thresholds, {
        max_consecutive_failures: 10, max_seconds_without_solve: 600, min_balance: 1, max_error_rate: 0.5, queue_max: 1000, max_queue_wait: 60, max_saturation: 0.1,
      });
      assert.deepEqual(await json(await get(h, "/health/startup")), { status: "started" });
      const deps = await json(await get(h, "/health/dependencies"));
      assert.equal(deps.status, "ok");
      assert.equal(deps.checks.captchaai_api.status, "ok");
      assert.equal(deps.checks.captchaai_api.stale, false);
      assert.match(deps.checks.captchaai_api.checked_at, /^\d{4}-\d\d-\d\dT/);
      assert.equal(typeof deps.checks.captchaai_api.response_ms, "number");
      const report = await get(h, "/health");
      assert.equal(report.status, 200);
      assert.equal(report.headers.get("content-type"), "application/health+json");
      const rb = await json(report);
      assert.equal(rb.status, "pass");
      for (const [name, items] of Object.entries(rb.checks as Record<string, any[]>)) {
        assert.match(name, /^[a-z_]+(:[A-Za-z]+)?$/);
        for (const k of ["componentId", "componentType", "observedValue", "observedUnit", "status", "time"]) assert.ok(k in items[0], `${name}.${k}`);
      }
      assert.equal(rb.checks["captchaai_api:balance"][0].observedValue, 10);
      for (const path of ["/health/live", "/health/ready", "/health/startup", "/health/dependencies", "/health"]) {
        const head = await fetch(h.base + path, { method: "HEAD" });
        assert.equal(head.status, 200, path);
        assert.equal(head.headers.get("cache-control"), "no-store", path);
        assert.equal(await head.text(), "");
        assert.equal((await fetch(h.base + path, { method: "POST" })).status, 405, path);
      }
    }));

  test("startup: starting until the first balance check ends, even when it hangs (then it timed out)", () =>
    withHarness(async (h) => {
      assert.equal((await get(h, "/health/startup")).status, 503);
      const r = await ready(h);
      assert.deepEqual([r.status, r.body.issues], [503, ["starting"]]);
      assert.equal((await get(h, "/health/live")).status, 200, "live during startup");
      await eventually(() => h.sim.counts().requests["res.php:getbalance"] === 1, "check sent");
      await h.clock.advance(5000);
      await eventually(() => h.worker.view.phase === "running", "started");
      assert.equal((await get(h, "/health/startup")).status, 200);
      const deps = await get(h, "/health/dependencies");
      assert.equal(deps.status, 503);
      assert.equal((await json(deps)).checks.captchaai_api.status, "down");
    }, { noStartup: true, beforeWorker: (sim) => sim.control.setFault("res.php:getbalance", { hang: true }) }));

  test("the balance check never slows a probe: readiness answers from the cache while the refresh hangs; getbalance alone failing is a degraded dependency", () =>
    withHarness(async (h) => {
      h.sim.control.setFault("res.php:getbalance", { hang: true });
      await h.clock.advance(59_900); // the background refresh, 100 ms before the 60 s TTL ends
      await eventually(() => h.worker.checks.result("captchaai_api")!.refreshing, "refresh out");
      const r = await ready(h);
      assert.equal(r.status, 200, "the cached balance still stands");
      assert.equal(r.body.stats.balance, 10);
      assert.equal((await get(h, "/health/live")).status, 200);
      await h.clock.advance(5000);
      const deps = await json(await get(h, "/health/dependencies"));
      assert.equal(deps.checks.captchaai_api.status, "degraded", "stale-while-revalidate: the last good value kept");
      assert.equal(deps.checks.captchaai_api.stale, true);
      assert.match(deps.checks.captchaai_api.error, /No answer within 5000ms/);
      await eventually(() => (h.sim.counts().requests["res.php:get"] ?? 0) > 0, "the free res.php probe");
      const still = await ready(h);
      assert.deepEqual([still.status, still.body.issues], [200, []], "res.php answers: the upstream is reachable, only getbalance is broken");
      assert.equal((await json(await get(h, "/health"))).status, "warn");
      h.sim.control.setFault("all", { hang: true });
      await h.clock.advance(60_000);
      await eventually(() => h.worker.checks.result("captchaai_api")!.refreshing, "next refresh out");
      await advance(h.clock, 5000);
      await advance(h.clock, 5000);
      const unready = await ready(h);
      assert.deepEqual([unready.status, unready.body.issues], [503, ["upstream_unreachable"]], "idle, with nothing answering, it cannot tell the upstream reachable");
      h.sim.control.clearFaults();
      await advance(h.clock, 2000);
      await eventually(() => h.worker.view.evaluate().ready, "a trial within a second or two");
      assert.equal((await ready(h)).status, 200);
    }));

  test("a solving worker stays ready while only getbalance fails (dependencies degraded)", () =>
    withHarness(async (h) => {
      h.sim.control.setFault("res.php:getbalance", { hang: true });
      for (let i = 0; i < 3; i++) h.worker.pool.enqueue("image", IMAGE);
      await h.clock.advance(59_900);
      await eventually(() => h.worker.checks.result("captchaai_api")!.refreshing, "refresh out");
      h.worker.pool.enqueue("image", IMAGE);
      await advance(h.clock, 5000);
      await eventually(() => h.worker.health.snapshot().solved === 4, "solved while the check hung");
      assert.equal(h.worker.checks.result("captchaai_api")!.status, "degraded");
      assert.equal((await ready(h)).status, 200, "a solve since the check started: the upstream is reachable");
      h.sim.control.clearFaults();
    }));

  test("one balance call per refresh however many probes read during it (single flight, counted by the simulator)", () =>
    withHarness(async (h) => {
      h.sim.control.setFault("res.php:getbalance", { latencyMs: 1000 });
      const before = h.sim.counts().requests["res.php:getbalance"]!;
      await h.clock.advance(59_900); // the background refresh starts
      const probes = await Promise.all(Array.from({ length: 1000 }, () => get(h, "/health/ready").then((r) => r.status)));
      assert.ok(probes.every((s) => s === 200));
      await advance(h.clock, 1500);
      assert.equal(h.sim.counts().requests["res.php:getbalance"], before + 1);
    }));

  test("low_balance, then ready again when the balance is topped up", () =>
    withHarness(async (h) => {
      h.sim.control.setBalance(0.42);
      await h.worker.checks.refresh("captchaai_api");
      const r = await ready(h);
      assert.deepEqual([r.status, r.body.status, r.body.issues], [503, "not_ready", ["low_balance=$0.42"]]);
      assert.equal((await json(await get(h, "/health"))).status, "fail");
      h.sim.control.setBalance(5);
      await h.worker.checks.refresh("captchaai_api");
      assert.equal((await ready(h)).status, 200);
    }));

  test("consecutive_failures and error_rate from tasks charged to the worker; client mistakes do not count", () =>
    withHarness(async (h) => {
      for (let i = 0; i < 12; i++) h.worker.pool.enqueue("recaptcha_v2", { type: "recaptcha_v2", sitekey: "6Le-bad-pageurl", pageurl: "ftp://x" });
      await eventually(() => h.worker.health.snapshot().clientFailed === 12, "client failures");
      assert.equal((await ready(h)).status, 200, "client mistakes are not the worker's health");
      h.sim.control.setUnsolvableRatio(1);
      // Each is retried once after ERROR_CAPTCHA_UNSOLVABLE: 10 s a task, 5 threads, about 25 s in all.
      for (let i = 0; i < 10; i++) h.worker.pool.enqueue("image", IMAGE);
      await advance(h.clock, 30_000);
      await eventually(() => h.worker.health.snapshot().failed === 10, "worker failures");
      const r = await ready(h);
      assert.equal(r.status, 503);
      assert.deepEqual(r.body.issues, ["consecutive_failures=10"]);
      // The cool-down (10 s from the tenth failure) ends on probation: readiness 200, a few tasks to tell.
      await advance(h.clock, 10_000);
      const probation = await ready(h);
      assert.deepEqual([probation.status, probation.body.state, probation.body.issues], [200, "probation", []]);
      h.worker.pool.enqueue("image", IMAGE);
      await advance(h.clock, 10_000);
      await eventually(() => h.worker.health.snapshot().failed === 11, "a failure on probation");
      const again = await ready(h);
      assert.deepEqual([again.body.state, again.body.issues], ["not_ready", ["consecutive_failures=11"]], "back to not ready, a longer cool-down");
      await advance(h.clock, 19_000);
      assert.equal((await ready(h)).body.state, "not_ready", "20 s this time");
      h.sim.control.setUnsolvableRatio(0);
      await advance(h.clock, 1000);
      assert.equal((await ready(h)).body.state, "probation");
      h.worker.pool.enqueue("image", IMAGE);
      await advance(h.clock, 5000);
      await eventually(() => h.worker.health.snapshot().solved === 1, "a solve");
      await h.worker.notifier.check();
      const back = await ready(h);
      assert.deepEqual([back.status, back.body.state, back.body.issues], [200, "ready", []], "a solve ends the streak; old failures do not hold the error rate");
    }));

  test("error_rate judges only outcomes since the last return to ready", () =>
    withHarness(async (h) => {
      h.sim.control.setUnsolvableRatio(1);
      for (let i = 0; i < 9; i++) h.worker.pool.enqueue("image", IMAGE);
      h.sim.control.setUnsolvableRatio(1);
      await advance(h.clock, 30_000);
      await eventually(() => h.worker.health.snapshot().failed === 9, "nine failures, below the streak");
      assert.equal(h.worker.health.snapshot().windowOutcomes, 9);
      h.worker.health.markReady();
      assert.equal(h.worker.health.snapshot().windowOutcomes, 0, "markReady starts the window afresh");
    }));

  test("no_solve_for only after a first solve, only while work waits, counted from when work found the worker idle", () =>
    withHarness(async (h) => {
      h.worker.pool.enqueue("image", IMAGE);
      await advance(h.clock, 5000);
      await eventually(() => h.worker.health.snapshot().solved === 1, "solved");
      await h.clock.advance(700_000);
      assert.equal((await ready(h)).status, 200, "idle: not judged");
      h.sim.control.setFault("res.php:get", { error: "CAPCHA_NOT_READY" }); // never solved, never failed
      h.worker.pool.enqueue("image", IMAGE);
      await eventually(() => h.worker.pool.inFlight === 1, "submitted");
      assert.equal((await ready(h)).status, 200, "the first task after an idle spell is no alarm");
      await advance(h.clock, 600_000, 10_000);
      assert.equal((await ready(h)).status, 200, "600 s of waiting: at the limit");
      await advance(h.clock, 2000);
      const r = await ready(h);
      assert.equal(r.status, 503);
      assert.match(r.body.issues[0], /^no_solve_for=60\ds$/);
      h.sim.control.clearFaults();
    }, { flags: { "task-timeout": "1200s" } }));

  test("queue_full, then draining flips readiness first", () =>
    withHarness(async (h) => {
      h.sim.control.setFault("in.php", { hang: true });
      h.worker.pool.enqueue("image", IMAGE);
      await eventually(() => h.worker.pool.inFlight === 1, "in flight");
      h.worker.pool.enqueue("image", IMAGE);
      h.worker.pool.enqueue("image", IMAGE);
      assert.deepEqual((await ready(h)).body.issues, ["queue_full=2"]);
      const changes: string[][] = [];
      h.worker.notifier.subscribe((r) => changes.push(r.issues.map(formatIssue)));
      h.worker.beginDrain();
      assert.equal(changes[0]![0], "draining", "published at once, before anything else");
      assert.deepEqual((await ready(h)).body.issues, ["draining"]);
      h.sim.control.clearFaults();
    }, { flags: { threads: "1", "queue-max": "2" } }));

  test("readiness changes are logged once each and published to subscribers", () =>
    withHarness(async (h) => {
      const seen: boolean[] = [];
      h.worker.notifier.subscribe((r) => seen.push(r.ready));
      h.sim.control.setBalance(0.1);
      await h.worker.checks.refresh("captchaai_api");
      for (let i = 0; i < 5; i++) await ready(h);
      h.sim.control.setBalance(3);
      await h.worker.checks.refresh("captchaai_api");
      await ready(h);
      assert.deepEqual(seen, [false, true]);
      assert.equal(h.logs.filter((l) => l.includes('"msg":"not ready"') && l.includes("low_balance")).length, 1);
    }));

  test("a check that throws and one that never resolves: every endpoint still answers at once, never 500", () =>
    withHarness(async (h) => {
      h.worker.checks.register({ name: "throws", ttlMs: 10_000, timeoutMs: 1000, run: () => { throw new Error("boom"); } });
      h.worker.checks.register({ name: "hangs", ttlMs: 10_000, timeoutMs: 1000, run: () => new Promise(() => {}) });
      void h.worker.checks.refresh("throws");
      void h.worker.checks.refresh("hangs");
      for (const path of ["/health/live", "/health/ready", "/health/startup", "/health/dependencies", "/health", "/metrics"]) {
        const res = await get(h, path);
        assert.notEqual(res.status, 500, path);
      }
      await h.clock.advance(1000);
      const deps = await json(await get(h, "/health/dependencies"));
      assert.equal(deps.checks.throws.status, "down");
      assert.equal(deps.checks.hangs.status, "down");
      assert.match(deps.checks.hangs.error, /1000ms/);
      assert.equal(deps.status, "down", "the worst check");
    }));
});

describe("liveness", () => {
  test("503 only when work is pending and the scheduler is overdue past the stall limit", () => {
    const clock = new FakeClock();
    const health = new WorkerHealth(clock, 60_000);
    const view = new HealthView({ clock, health, checks: new HealthChecks({ clock }), thresholds: { maxConsecutiveFailures: 10, maxWithoutSolveMs: 600_000, minBalanceUsd: 1, maxErrorRate: 0.5, queueMax: 10, maxQueueWaitMs: 60_000, maxSaturation: 0.1 }, stallMs: 60_000 });
    let load = { queueDepth: 0, inFlight: 0, oldestQueuedAgeMs: 0, lastProgressAt: clock.now() - 3_600_000 };
    health.setLoadSource(() => load);
    assert.equal(view.live().ok, true, "no work pending: a quiet scheduler is fine");
    load = { ...load, inFlight: 3, lastProgressAt: clock.now() - 59_000 };
    assert.equal(view.live().ok, true, "slow but within the limit");
    load = { ...load, lastProgressAt: clock.now() - 61_000 };
    assert.equal(view.live().ok, false);
    assert.equal(view.live().stalledMs, 61_000);
  });
});
