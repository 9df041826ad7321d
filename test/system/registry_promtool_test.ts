import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { sampleRegistry } from "../_support/registry_sample.ts";
import { promtoolFindings } from "../_support/promtool.ts";

describe("Registry and promtool", () => {
  test("Registry renders counters, gauges and histograms that promtool check metrics accepts", (t) => {
    const r = sampleRegistry();
    const findings = promtoolFindings(t, r.render());
    if (findings !== undefined) assert.equal(findings, "");
  });
});
