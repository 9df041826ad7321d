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

  test("durations read like people write them", () => {
    assert.deepEqual([0, 3, 75, 600, 3600, 3725].map(duration), ["0s", "3s", "1m15s", "10m", "1h", "1h2m5s"]);
  });

});

