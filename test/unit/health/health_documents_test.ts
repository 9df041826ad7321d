import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  dependenciesDocument, healthReport, liveDocument, readyDocument, startupDocument, statusDocuments,
} from "../../../src/health/health_documents.ts";
import type { CheckResult } from "../../../src/health/checks.ts";
import { VERSION } from "../../../src/base/version.ts";
import { isIssue, parseIssue, type ReadinessIssue, type ReadinessWarning } from "../../../src/health/readiness_issue.ts";
import { fixture, THRESHOLDS } from "./_fixture.ts";

const check = (over: Partial<CheckResult>): CheckResult => ({
  name: "captchaai_api", componentType: "component", status: "ok", responseMs: 12.4, checkedAt: Date.UTC(2026, 0, 1), stale: false,
  error: undefined, errorCode: undefined, value: undefined, valueAt: undefined, refreshing: false, ...over,
});

describe("health documents", () => {
  test("liveDocument and startupDocument: the documented shapes", () => {
    assert.deepEqual(liveDocument({ ok: true, uptimeS: 7, stalledMs: 10 }), { status: "ok", uptime_s: 7 });
    assert.deepEqual(liveDocument({ ok: false, uptimeS: 70, stalledMs: 61_500 }), { status: "stuck", uptime_s: 70, stalled_s: 61 });
    assert.deepEqual(startupDocument("starting"), { status: "starting" });
    assert.deepEqual(startupDocument("running"), { status: "started" });
    assert.deepEqual(startupDocument("draining"), { status: "started" });
  });

  test("readyDocument: status, issues, stats rounded, thresholds in the documented units", async () => {
    const f = fixture();
    f.view.setPhase("running");
    f.setLoad({ queueDepth: 2, inFlight: 1 });
    f.health.solved("image", 1);
    f.health.failed("image", "x", "worker");
    f.health.failed("image", "x", "worker");
    await f.setBalance(0.42);
    await f.clock.advance(2500);
    const doc = readyDocument(f.view.evaluate(), THRESHOLDS);
    assert.deepEqual(doc, {
      status: "not_ready",
      state: "not_ready",
      issues: ["low_balance=$0.42"],
      warnings: [],
      stats: {
        solved: 1, failed: 2, success_rate: 0.333, error_rate: 0.667, balance: 0.42, balance_age_s: 2,
        queue_depth: 2, in_flight: 1, window_s: 300, window_outcomes: 3, window_failed: 2, oldest_queued_s: 0, saturation: 0,
      },
      thresholds: { max_consecutive_failures: 3, max_seconds_without_solve: 600, min_balance: 1, max_error_rate: 0.5, queue_max: 10, max_queue_wait: 60, max_saturation: 0.1 },
    });
  });

  test("readyDocument: oldest_queued_s counts a lone task out submitting (the queue reads 0, the task still waits)", async () => {
    const f = fixture();
    f.view.setPhase("running");
    f.setLoad({ queueDepth: 0, inFlight: 1, oldestQueuedAgeMs: 42_500 });
    await f.setBalance(10);
    assert.equal(readyDocument(f.view.evaluate(), THRESHOLDS).stats.oldest_queued_s, 42);
  });

  test("readyDocument: null balance and age before the first balance read", () => {
    const f = fixture();
    const doc = readyDocument(f.view.evaluate(), THRESHOLDS);
    assert.deepEqual([doc.status, doc.stats.balance, doc.stats.balance_age_s], ["not_ready", null, null]);
  });

  test("dependenciesDocument: its status is the worst check's; times as ISO 8601, errors only when there are some", () => {
    const ok = dependenciesDocument([check({})]);
    assert.deepEqual(ok, { status: "ok", checks: { captchaai_api: { status: "ok", response_ms: 12, checked_at: "2026-01-01T00:00:00.000Z", stale: false } } });
    const bad = dependenciesDocument([check({}), check({ name: "disk", status: "down", responseMs: undefined, checkedAt: undefined, stale: true, error: "boom" })]);
    assert.equal(bad.status, "down", "the worst check: down");
    assert.equal(dependenciesDocument([check({}), check({ name: "disk", status: "degraded" })]).status, "degraded");
    assert.deepEqual(bad.checks.disk, { status: "down", response_ms: null, checked_at: null, stale: true, error: "boom" });
  });

  test("healthReport: pass when ready and every check ok, warn on a degraded check, fail when not ready", async () => {
    const f = fixture();
    f.view.setPhase("running");
    await f.setBalance(5);
    const pass = healthReport(f.view.state());
    assert.equal(pass.status, "pass");
    assert.equal(pass.releaseId, VERSION);
    assert.equal(pass.output, undefined);
    assert.deepEqual(pass.checks["captchaai_api:balance"], [
      { componentId: "captchaai_api", componentType: "component", observedValue: 5, observedUnit: "USD", status: "pass", time: new Date(f.clock.now()).toISOString() },
    ]);
    assert.equal(pass.checks["captchaai_api:responseTime"]![0]!.status, "pass");
    for (const key of Object.keys(pass.checks)) assert.match(key, /^[a-z_]+(:[A-Za-z]+)?$/);

    await f.setBalance(new Error("ECONNREFUSED"));
    const warn = healthReport(f.view.state());
    assert.equal(warn.status, "warn", "the stale balance still stands, the check is degraded");
    assert.equal(warn.checks["captchaai_api:responseTime"]![0]!.status, "warn");

    for (let i = 0; i < 3; i++) f.health.failed("image", "x", "worker");
    const fail = healthReport(f.view.state());
    assert.equal(fail.status, "fail");
    assert.equal(fail.output, "consecutive_failures=3");
    assert.equal(fail.checks["solver:consecutiveFailures"]![0]!.status, "fail");
  });

  test("statusDocuments: the three documents from one state", async () => {
    const f = fixture();
    f.view.setPhase("running");
    await f.setBalance(5);
    const s = f.view.state();
    assert.deepEqual(statusDocuments(s), { ready: readyDocument(s.readiness, s.thresholds), dependencies: dependenciesDocument(s.checks, s.providers), health: healthReport(s) });
    // The lone upstream is listed as its provider, judged by the provider rules; no solver, no load.
    assert.deepEqual(statusDocuments(s).dependencies.providers, [{
      name: "captchaai", check: "captchaai_api", state: "up", reason: null, billing: null, busy: null, limit: null, plan: null, spent_today_usd: null, daily_budget_usd: null, budget_left_usd: null,
    }]);
  });

  test("dependenciesDocument lists each provider with its state, reason, billing, load and money; without providers, no list", () => {
    const load = { busy: 2, limit: 10, plan: 10, spentTodayUsd: 0, dailyBudgetUsd: undefined, budgetLeftUsd: undefined, removed: false };
    const doc = dependenciesDocument([check({ name: "plan_api" })], [
      { name: "plan", check: "plan_api", state: "up", reason: undefined, load },
      { name: "paid", check: "paid_api", state: "down", reason: "budget", load: { busy: 1, limit: 100, plan: undefined, spentTodayUsd: 20.0000001, dailyBudgetUsd: 20, budgetLeftUsd: 0, removed: false } },
      { name: "old", check: "old_api", state: "removed", reason: undefined, load: { ...load, busy: 0, removed: true } },
    ]);
    assert.deepEqual(doc.providers!.map((p) => [p.name, p.state, p.reason, p.billing, p.busy, p.plan, p.spent_today_usd, p.daily_budget_usd, p.budget_left_usd]), [
      ["plan", "up", null, "plan", 2, 10, 0, null, null],
      ["paid", "down", "budget", "per_solve", 1, null, 20, 20, 0],
      ["old", "removed", null, "plan", 0, 10, 0, null, null],
    ]);
    assert.equal(dependenciesDocument([check({})]).providers, undefined);
  });

  test("healthReport: each issue fails its solver item and each warning warns it; the documents carry their texts", async () => {
    const f = fixture();
    f.view.setPhase("running");
    await f.setBalance(5);
    const s = f.view.state();
    const solverMarks = (issues: ReadinessIssue[], warnings: ReadinessWarning[]) => {
      const report = healthReport({ ...s, readiness: { ...s.readiness, issues, warnings, ready: issues.length === 0 } });
      const marked = Object.entries(report.checks).filter(([k, [item]]) => k.startsWith("solver:") && item!.status !== "pass");
      return { marks: Object.fromEntries(marked.map(([k, [item]]) => [k, item!.status])), output: report.output };
    };
    const CASES: [string, Record<string, string>][] = [
      ["consecutive_failures=3", { "solver:consecutiveFailures": "fail" }],
      ["error_rate=0.600", { "solver:errorRate": "fail" }],
      ["no_solve_for=601s", { "solver:secondsSinceLastSolve": "fail" }],
      ["backlog=121s", { "solver:oldestQueued": "fail" }],
      ["queue_wait=61s", { "solver:oldestQueued": "warn" }],
      ["saturation=0.300", { "solver:saturation": "warn" }],
      ["starting", {}], ["draining", {}], ["upstream_auth=IP_BANNED", {}], ["upstream_unreachable", {}], ["circuit_open", {}],
      ["low_balance=$0.42", {}], ["queue_full=10", {}], ["state_dir=EIO", {}],
    ];
    for (const [text, expected] of CASES) {
      const f = parseIssue(text)!;
      const got = isIssue(f) ? solverMarks([f], []) : solverMarks([], [f]);
      assert.deepEqual(got, { marks: expected, output: text }, text);
    }
    const both = healthReport({ ...s, readiness: { ...s.readiness, issues: [{ kind: "backlog", waitedMs: 121_000 }], warnings: [{ kind: "queue_wait", waitedMs: 121_000 }] } });
    assert.equal(both.checks["solver:oldestQueued"]![0]!.status, "fail", "a failure outranks a warning");
    assert.equal(both.output, "backlog=121s, queue_wait=121s");
  });
});
