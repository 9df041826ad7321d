import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { ReadyDocument } from "../../../src/health/health_documents.ts";
import { readStatusDocs } from "../../../src/status_report/status_docs.ts";
import { duration, statusModel } from "../../../src/status_report/status_model.ts";
import { READY_DOC } from "../../_support/ready_doc.ts";
import { renderText } from "../../../src/status_report/status_render.ts";
import { renderHtml } from "../../../src/status_report/status_page.ts";


describe("status model", () => {
  test("marks come from the worker's own issues; thresholds are shown beside the values", () => {
    const m = statusModel({ ready: READY_DOC, dependencies: { checks: { captchaai_api: { status: "degraded", response_ms: 12, stale: true, error: "boom" } } }, health: { status: "fail", releaseId: "9.9.9" } });
    assert.equal(m.ready, false);
    assert.equal(m.version, "9.9.9");
    const row = (name: string) => m.rows.find((r) => r.name.startsWith(name))!;
    assert.deepEqual(row("balance"), { name: "balance", value: "$0.42 (1m15s old)", threshold: ">= $1.00", mark: "fail" });
    assert.equal(row("error rate").mark, "ok");
    assert.equal(row("error rate").value, "10% of 40 (4 failed)");
    assert.equal(row("error rate").name, "error rate (5m)");
    assert.equal(row("upstream").value, "circuit_open");
    assert.equal(row("upstream").mark, "fail");
    assert.equal(row("queue").mark, "ok");
    assert.deepEqual(m.checks, [{ name: "captchaai_api", status: "degraded", responseMs: 12, checkedAt: undefined, stale: true, error: "boom" }]);
  });

  test("each issue fails its row and each warning warns it; a text this version does not know is listed and marks nothing", () => {
    const quiet: ReadyDocument = { ...READY_DOC, issues: [], warnings: [], stats: { ...READY_DOC.stats, balance: 10 } };
    const marked = (issues: string[], warnings: string[] = []) => {
      const m = statusModel({ ready: { ...quiet, issues, warnings }, dependencies: {}, health: {} });
      return Object.fromEntries(m.rows.filter((r) => r.mark !== "ok").map((r) => [r.name.replace(/ \(.*/, ""), r.mark]));
    };
    assert.deepEqual(marked([]), {});
    const ISSUES: [string, Record<string, string>][] = [
      ["consecutive_failures=10", { "consecutive failures": "fail" }],
      ["no_solve_for=601s", { "since last solve": "fail" }],
      ["low_balance=$0.42", { balance: "fail" }],
      ["error_rate=0.600", { "error rate": "fail" }],
      ["queue_full=1000", { queue: "fail" }],
      ["backlog=150s", { "oldest queued": "fail" }],
      ["upstream_auth=ERROR_WRONG_USER_KEY", { upstream: "fail" }],
      ["upstream_unreachable", { upstream: "fail" }],
      ["circuit_open", { upstream: "fail" }],
      ["starting", {}], ["draining", {}], ["state_dir=EACCES", {}],
      ["kind_from_a_newer_worker=1", {}], ["low_balance", {}], ["queue_wait=75s", {}],
    ];
    for (const [issue, expected] of ISSUES) assert.deepEqual(marked([issue]), expected, issue);
    assert.deepEqual(marked([], ["queue_wait=75s"]), { "oldest queued": "warn" });
    assert.deepEqual(marked([], ["saturation=0.300"]), { saturation: "warn" });
    assert.deepEqual(marked([], ["backlog=150s", "circuit_open"]), {}, "an issue among the warnings marks nothing");
    const m = statusModel({ ready: { ...quiet, issues: ["state_dir=EACCES", "upstream_unreachable"] }, dependencies: {}, health: {} });
    assert.equal(m.rows.find((r) => r.name === "upstream")!.value, "upstream_unreachable");
    assert.deepEqual(m.issues, ["state_dir=EACCES", "upstream_unreachable"]);
  });

  test("a balance under three times the minimum is a warning before it is a failure", () => {
    const m = statusModel({ ready: { ...READY_DOC, issues: [], stats: { ...READY_DOC.stats, balance: 2.5 } }, dependencies: {}, health: {} });
    assert.equal(m.rows.find((r) => r.name === "balance")!.mark, "warn");
  });

  test("documents of the wrong shape give question marks, never a throw", () => {
    for (const junk of [null, 42, "x", [], { stats: "no", thresholds: [1] }]) {
      const m = statusModel(readStatusDocs({ ready: junk, dependencies: junk, health: junk }));
      assert.equal(m.ready, false);
      assert.ok(renderText(m, "http://x/", false).includes("NOT READY"));
      assert.ok(renderHtml(m).includes("NOT READY"));
    }
  });

  test("probation, a long queue wait and saturation show as such: the state, and warn marks on their rows", () => {
    const doc: ReadyDocument = {
      ...READY_DOC, status: "ready", state: "probation", issues: [], warnings: ["queue_wait=75s", "saturation=0.300"],
      stats: { ...READY_DOC.stats, balance: 10, oldest_queued_s: 75, saturation: 0.3 },
    };
    const m = statusModel({ ready: doc, dependencies: {}, health: {} });
    assert.equal(m.state, "probation");
    assert.deepEqual(m.rows.filter((r) => r.mark === "warn").map((r) => r.name), ["oldest queued", "saturation"]);
    assert.match(renderText(m, "http://x/", false), /PROBATION[\s\S]*warnings: queue_wait=75s, saturation=0\.300/);
    assert.ok(renderHtml(m).includes("PROBATION"));
    const backlog = statusModel({ ready: { ...doc, status: "not_ready", state: "not_ready", issues: ["backlog=150s"] }, dependencies: {}, health: {} });
    assert.equal(backlog.rows.find((r) => r.name === "oldest queued")!.mark, "fail");
  });

  test("the tasks row counts every failure /metrics counts, with the share charged to the worker, and no success rate without tasks", () => {
    const doc: ReadyDocument = { ...READY_DOC, stats: { ...READY_DOC.stats, solved: 1, failed: 0, success_rate: 1 } };
    const row = (m: ReturnType<typeof statusModel>) => m.rows.find((r) => r.name === "tasks since start")!;
    const withTotals = statusModel({ ready: doc, dependencies: {}, health: {} }, { tasks: { solved: 1, failed: 3, byOutcome: { failed: 2, timeout: 1, shutdown: 0 } } });
    assert.deepEqual(row(withTotals), { name: "tasks since start", value: "1 solved, 3 failed (1 timed out, 0 charged to the worker), 25% solved", threshold: "", mark: "ok" });
    const none = statusModel({ ready: { ...doc, stats: { ...doc.stats, solved: 0 } }, dependencies: {}, health: {} }, { tasks: { solved: 0, failed: 0, byOutcome: { failed: 0, timeout: 0, shutdown: 0 } } });
    assert.equal(row(none).value, "none yet");
    assert.equal(none.figures.success_rate, null, "no task, no rate");
    const overHttp = statusModel({ ready: doc, dependencies: {}, health: {} });
    assert.equal(row(overHttp).value, "1 solved, 0 worker failures (not client errors)");
    assert.equal(renderHtml(statusModel({ ready: { ...doc, stats: { ...doc.stats, solved: 0 } }, dependencies: {}, health: {} })).match(/100% (success|solved)/), null);
  });

  test("a negative or fractional count is never marked ok", () => {
    const m = statusModel({ ready: { ...READY_DOC, issues: [], stats: { ...READY_DOC.stats, queue_depth: -3, window_failed: 1.5, solved: -1, error_rate: 1.5 } }, dependencies: {}, health: {} });
    const row = (name: string) => m.rows.find((r) => r.name.startsWith(name))!;
    assert.deepEqual([row("queue").value, row("queue").mark], ["-3 (impossible) queued, 2 in flight", "fail"]);
    assert.equal(row("error rate").mark, "fail");
    assert.equal(row("tasks").mark, "fail");
    const totals = statusModel({ ready: READY_DOC, dependencies: {}, health: {} }, { tasks: { solved: -2, failed: 0, byOutcome: { failed: 0, timeout: 0, shutdown: 0 } } });
    assert.equal(totals.rows.find((r) => r.name === "tasks since start")!.mark, "fail");
  });

  test("durations read like people write them", () => {
    assert.deepEqual([0, 3, 75, 600, 3600, 3725].map(duration), ["0s", "3s", "1m15s", "10m", "1h", "1h2m5s"]);
  });

});

