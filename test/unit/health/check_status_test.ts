import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { checkStatusForms } from "../../../src/health/check_status.ts";

describe("checkStatusForms", () => {
  test("checkStatusForms maps ok, degraded and down to the health+json verdict, the metric value and the page's mark", () => {
    assert.deepEqual(checkStatusForms("ok"), { verdict: "pass", metricValue: 1, mark: "ok" });
    assert.deepEqual(checkStatusForms("degraded"), { verdict: "warn", metricValue: 0.5, mark: "warn" });
    assert.deepEqual(checkStatusForms("down"), { verdict: "fail", metricValue: 0, mark: "fail" });
  });

  test("checkStatusForms reads a status it does not know as down, never as fine", () => {
    for (const s of ["unknown", "", "OK", "pass"]) assert.equal(checkStatusForms(s).mark, "fail", s);
  });
});
