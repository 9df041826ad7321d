import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createAdmission, type AdmissionView } from "../../../src/intake/admission.ts";
import type { Phase } from "../../../src/health/readiness.ts";
import type { ReadinessIssue } from "../../../src/health/readiness_issue.ts";

function view(phase: Phase, ready: boolean, issues: ReadinessIssue[] = []): AdmissionView & { evaluations: number } {
  return {
    phase,
    evaluations: 0,
    evaluate() {
      this.evaluations++;
      return { ready, issues, state: phase === "draining" ? "draining" : ready ? "ready" : "not_ready", probationSince: undefined };
    },
  };
}

const OPTS = { probationAdmits: 2 };

describe("createAdmission", () => {
  test("takes a task when ready", () => {
    assert.equal(createAdmission(view("running", true), OPTS)(), undefined);
  });

  test("refuses with ERR_DRAINING while draining, without evaluating readiness", () => {
    const v = view("draining", false, [{ kind: "draining" }]);
    assert.deepEqual(createAdmission(v, OPTS)(), { code: "ERR_DRAINING", detail: "The worker is draining and takes no new tasks." });
    assert.equal(v.evaluations, 0);
  });

  test("refuses with ERR_NOT_READY naming the blocking issues", () => {
    const refusal = createAdmission(view("running", false, [{ kind: "low_balance", balanceUsd: 0.42 }, { kind: "circuit_open" }]), OPTS)();
    assert.equal(refusal?.code, "ERR_NOT_READY");
    assert.match(refusal!.detail, /low_balance=\$0\.42, circuit_open/);
  });

  test("a full queue alone is not a refusal (the pool answers 429), but does not hide other issues", () => {
    assert.equal(createAdmission(view("running", false, [{ kind: "queue_full", depth: 1000 }]), OPTS)(), undefined);
    const refusal = createAdmission(view("running", false, [{ kind: "queue_full", depth: 1000 }, { kind: "starting" }]), OPTS)();
    assert.equal(refusal?.code, "ERR_NOT_READY");
    assert.ok(!refusal!.detail.includes("queue_full"));
  });

  test("on probation takes --threads tasks per probation, then refuses until an outcome decides", () => {
    let since: number | undefined = 1000;
    const v: AdmissionView = { phase: "running", evaluate: () => ({ ready: true, issues: [], state: "probation", probationSince: since }) };
    const admit = createAdmission(v, OPTS);
    assert.equal(admit(), undefined);
    assert.equal(admit(), undefined);
    const refusal = admit();
    assert.equal(refusal?.code, "ERR_NOT_READY");
    assert.match(refusal!.detail, /probation/);
    since = 5000; // a new probation: a new allowance
    assert.equal(admit(), undefined);
  });
});
