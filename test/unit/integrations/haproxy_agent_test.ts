import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { ProviderStatus } from "../../../src/health/health_view.ts";
import { agentLine, capacityLeft, freeCapacityPercent, type AgentState } from "../../../src/integrations/haproxy_agent.ts";
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

  test("agentLine answers the floor when ready with no slot that can take work (a lone provider's budget spent)", () => {
    assert.equal(agentLine({ ...IDLE, threads: 0, inFlight: 0 }), "up ready 1%\n");
  });
});

describe("capacityLeft", () => {
  const plan = (name: string, busy: number, threads: number, state: ProviderStatus["state"] = "up"): ProviderStatus => ({
    name, check: `${name}_api`, state, reason: state === "down" ? "circuit_open" : undefined,
    load: { busy, limit: threads, plan: threads, spentTodayUsd: 0, dailyBudgetUsd: undefined, budgetLeftUsd: undefined, removed: state === "removed" },
  });
  const paid = (name: string, busy: number, state: ProviderStatus["state"] = "up"): ProviderStatus => ({
    name, check: `${name}_api`, state, reason: state === "down" ? "budget" : undefined,
    load: { busy, limit: 100, plan: undefined, spentTodayUsd: 1, dailyBudgetUsd: 20, budgetLeftUsd: 19, removed: state === "removed" },
  });
  const weight = (providers: ProviderStatus[], queueDepth = 0) => agentLine({ ...IDLE, ...capacityLeft(providers)!, queueDepth });

  test("capacityLeft of one plan is its threads and its busy ones: the weight of one upstream, unchanged", () => {
    assert.deepEqual(capacityLeft([plan("captchaai", 3, 5)]), { threads: 5, inFlight: 3 });
    assert.equal(weight([plan("captchaai", 5, 5)], 5), agentLine({ ...IDLE, inFlight: 5, queueDepth: 5 }));
  });

  test("capacityLeft sums the plans that can take work; one down or removed adds neither slots nor load", () => {
    assert.deepEqual(capacityLeft([plan("a", 2, 10), plan("b", 1, 5)]), { threads: 15, inFlight: 3 });
    assert.deepEqual(capacityLeft([plan("a", 2, 10), plan("b", 5, 5, "down")]), { threads: 10, inFlight: 2 });
    assert.deepEqual(capacityLeft([plan("a", 2, 10), plan("b", 1, 5, "removed")]), { threads: 10, inFlight: 2 });
  });

  test("a per-solve provider's tasks weigh the replica down while a plan can take work, its slots do not lift it", () => {
    assert.deepEqual(capacityLeft([plan("plan", 10, 10), paid("paid", 20)]), { threads: 10, inFlight: 30 });
    assert.equal(weight([plan("plan", 10, 10), paid("paid", 20)]), "up ready 25%\n", "paying per solve: a quarter of an idle plan's weight");
    assert.equal(weight([plan("plan", 0, 10), paid("paid", 0)]), "up ready 100%\n");
    assert.deepEqual(capacityLeft([plan("plan", 10, 10), paid("paid", 20, "down")]), { threads: 10, inFlight: 10 }, "over its budget: nothing");
  });

  test("with no plan able to take work, the per-solve providers' slots are the capacity", () => {
    assert.deepEqual(capacityLeft([plan("plan", 2, 10, "down"), paid("paid", 20), paid("other", 5)]), { threads: 200, inFlight: 25 });
    assert.deepEqual(capacityLeft([plan("plan", 2, 10, "down"), paid("paid", 20, "down")]), { threads: 0, inFlight: 0 });
  });

  test("capacityLeft is undefined when a provider's load is unknown, and for no providers", () => {
    assert.equal(capacityLeft([]), undefined);
    assert.equal(capacityLeft([{ ...plan("a", 0, 1), load: undefined }]), undefined);
  });
});
