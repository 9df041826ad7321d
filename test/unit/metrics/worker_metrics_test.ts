import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { HealthState } from "../../../src/health/health_view.ts";
import { Registry } from "../../../src/metrics/registry.ts";
import { failureCodeLabel, registerWorkerMetrics } from "../../../src/metrics/worker_metrics.ts";
import type { Task } from "../../../src/tasks/task.ts";
import { fixture } from "../health/_fixture.ts";

const CONFIG = { maxConsecutiveFailures: 3, maxWithoutSolveMs: 600_000, minBalanceUsd: 1, maxErrorRate: 0.5, queueMax: 10, threads: 5, maxQueueWaitMs: 60_000, maxSaturation: 0.1 };

function value(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(series + " "));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** The fixture's HealthView, counting the state reads. */
function counted() {
  const f = fixture();
  let reads = 0;
  const view = { state: (): HealthState => (reads++, f.view.state()) };
  return { ...f, countedView: view, reads: () => reads };
}

describe("registerWorkerMetrics", () => {
  test("registerWorkerMetrics reads the health state once per scrape, and every gauge shows that one state", async () => {
    const f = counted();
    const r = new Registry();
    registerWorkerMetrics(r, { view: f.countedView, config: CONFIG, nodeVersion: "v9.9.9" });
    f.view.setPhase("running");
    await f.setBalance(0.5);
    f.setLoad({ queueDepth: 4, inFlight: 2 });
    assert.equal(f.reads(), 0, "nothing is read before a scrape");
    const text = r.render();
    assert.equal(f.reads(), 1);
    assert.equal(value(text, "captcha_worker_ready"), 0);
    assert.equal(value(text, "captcha_worker_live"), 1);
    assert.equal(value(text, "captcha_worker_queue_depth"), 4);
    assert.equal(value(text, "captcha_worker_in_flight"), 2);
    assert.equal(value(text, "captcha_worker_balance_usd"), 0.5);
    assert.equal(value(text, "captcha_worker_balance_age_seconds"), 0);
    assert.equal(value(text, 'captcha_worker_check_status{check="captchaai_api"}'), 1);
    assert.equal(value(text, 'captcha_worker_threshold{name="max_seconds_without_solve"}'), 600);
    assert.equal(value(text, 'captcha_worker_threshold{name="threads"}'), 5);
    assert.match(text, /^captcha_worker_build_info\{version="[^"]+",node="v9\.9\.9"\} 1$/m);
    r.render();
    assert.equal(f.reads(), 2);
  });

  test("registerWorkerMetrics gives the check status as 1, 0.5 or 0, and leaves out a balance never read", async () => {
    const f = counted();
    const r = new Registry();
    registerWorkerMetrics(r, { view: f.countedView, config: CONFIG, nodeVersion: "v1" });
    let text = r.render();
    assert.equal(value(text, "captcha_worker_balance_usd"), undefined);
    assert.equal(value(text, 'captcha_worker_check_status{check="captchaai_api"}'), 0.5, "first run not ended: degraded");
    await f.setBalance(new Error("down"));
    text = r.render();
    assert.equal(value(text, 'captcha_worker_check_status{check="captchaai_api"}'), 0);
  });

  test("registerWorkerMetrics counts ended tasks by type and outcome class, with every series from zero", () => {
    const r = new Registry();
    const m = registerWorkerMetrics(r, { view: counted().countedView, config: CONFIG, nodeVersion: "v1" });
    assert.equal(value(r.render(), 'captcha_worker_tasks_total{type="turnstile",outcome="shutdown"}'), 0);
    const task = (over: Partial<Task>) => ({ type: "image", status: "failed", createdAt: 0, endedAt: 3000, ...over }) as Task;
    m.taskEnded(task({ status: "solved" }));
    m.taskEnded(task({ error: { code: "timeout", message: "" } } as Partial<Task>));
    m.taskEnded(task({ error: { code: "ERROR_CAPTCHA_UNSOLVABLE", message: "" } } as Partial<Task>));
    m.upstreamCall("in.php", "ok", 250);
    const text = r.render();
    assert.equal(value(text, 'captcha_worker_tasks_total{type="image",outcome="solved"}'), 1);
    assert.equal(value(text, 'captcha_worker_tasks_total{type="image",outcome="timeout"}'), 1);
    assert.equal(value(text, 'captcha_worker_tasks_total{type="image",outcome="failed"}'), 1);
    assert.equal(value(text, 'captcha_worker_solve_duration_seconds_sum{type="image"}'), 3);
    assert.equal(value(text, 'captcha_worker_upstream_requests_total{endpoint="in.php",outcome="ok"}'), 1);
    assert.equal(value(text, 'captcha_worker_upstream_request_duration_seconds_bucket{endpoint="in.php",le="0.25"}'), 1);
  });

  test("failureCodeLabel keeps known codes and the worker's own, and bounds anything else to other", () => {
    for (const code of ["ERROR_CAPTCHA_UNSOLVABLE", "ERROR_WRONG_FILE_EXTENSION", "timeout", "shutdown", "SUBMIT_UNCERTAIN"]) assert.equal(failureCodeLabel(code), code);
    for (const code of ["journal"]) assert.equal(failureCodeLabel(code), code);
    // owner_unavailable is a forwarded read's answer, never a failure of a task this worker holds.
    for (const code of ["ERROR_NEW_THING", "", "constructor", "__proto__", "a\nb", "owner_unavailable"]) assert.equal(failureCodeLabel(code), "other");
  });
});
