import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { agentLine, freeCapacityPercent, type AgentState } from "../../../src/integrations/haproxy_agent.ts";
import { issues } from "../../_support/readiness_issues.ts";

const IDLE: AgentState = { phase: "running", ready: true, issues: [], inFlight: 0, queueDepth: 0, threads: 5, queueMax: 1000 };

describe("agentLine", () => {
  test("agentLine answers up with the free capacity when ready", () => {
    assert.equal(agentLine(IDLE), "up ready 100%\n");
  });

  test("agentLine answers drain while draining, whatever the readiness", () => {
    assert.equal(agentLine({ ...IDLE, phase: "draining", ready: false, issues: issues("draining") }), "drain\n");
    assert.equal(agentLine({ ...IDLE, phase: "draining" }), "drain\n");
  });

  test("agentLine answers down with every issue after ' #', one short printable line", () => {
    assert.equal(agentLine({ ...IDLE, ready: false, issues: issues("low_balance=$0.42") }), "down #low_balance=$0.42\n");
    assert.equal(agentLine({ ...IDLE, phase: "starting", ready: false, issues: issues("starting") }), "down #starting\n");
    assert.equal(agentLine({ ...IDLE, ready: false, issues: issues("circuit_open", "error_rate=0.600") }), "down #circuit_open,error_rate=0.600\n");
    const long = agentLine({ ...IDLE, ready: false, issues: [{ kind: "state_dir", reason: "bad\nline with spaces\r" }, { kind: "upstream_auth", code: "x".repeat(500) }] });
    assert.match(long, /^down #[\x21-\x7e]{1,100}\n$/);
    assert.ok(long.startsWith("down #state_dir=bad_line_with_spaces_,upstream_auth=xxx"));
    assert.equal(agentLine({ ...IDLE, ready: false, issues: [] }), "down #not_ready\n");
  });

  test("freeCapacityPercent at several loads: threads first, then the queue, never below 1", () => {
    const at = (inFlight: number, queueDepth: number, threads = 5, queueMax = 1000) => freeCapacityPercent({ inFlight, queueDepth, threads, queueMax });
    assert.equal(at(0, 0), 100);
    assert.equal(at(1, 0), 83);
    assert.equal(at(5, 0), 50, "every thread busy");
    assert.equal(at(5, 5), 33, "a queue as long as the thread count");
    assert.equal(at(5, 45), 9, "a queue nine times the thread count");
    assert.equal(at(4, 4, 4, 1000), 33);
    assert.equal(at(5, 5, 5, 10), 17, "a short queue half full halves it again");
    assert.equal(at(5, 999), 1, "floor: a ready worker still gets some work");
    assert.equal(at(5, 5000), 1, "a queue beyond its cap counts as full");
    let last = 101;
    for (let load = 0; load <= 200; load++) {
      const n = at(Math.min(load, 5), Math.max(0, load - 5));
      assert.ok(n <= last && n >= 1, `monotonic at ${load}`);
      last = n;
    }
  });
});
