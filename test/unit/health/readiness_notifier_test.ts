import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createLogger } from "../../../src/base/log.ts";
import { formatIssue } from "../../../src/health/readiness_issue.ts";
import { ReadinessNotifier } from "../../../src/health/readiness_notifier.ts";
import type { Readiness } from "../../../src/health/health_view.ts";
import { FakeClock } from "../../_support/fake_clock.ts";
import { fixture } from "./_fixture.ts";

function setup(everyMs?: number) {
  const f = fixture();
  const lines: { level: string; msg: string; issues?: string[] }[] = [];
  const log = createLogger({ level: "debug", write: (l) => lines.push(JSON.parse(l)) });
  const notifier = new ReadinessNotifier({ view: f.view, clock: f.clock, log, ...(everyMs === undefined ? {} : { everyMs }) });
  const published: string[][] = [];
  notifier.subscribe((r) => published.push(r.issues.map(formatIssue)));
  return { ...f, notifier, lines, published };
}

describe("ReadinessNotifier", () => {
  test("ReadinessNotifier takes the starting state silently: the first line of a start is its first transition", () => {
    const s = setup();
    assert.deepEqual(s.notifier.last.issues, [{ kind: "starting" }]);
    s.notifier.check();
    assert.equal(s.lines.length, 0);
    s.view.setPhase("running");
    s.notifier.check();
    assert.deepEqual(s.lines.map((l) => [l.level, l.msg, l.issues]), [["info", "ready", []]]);
    assert.deepEqual(s.published, [[]]);
  });

  test("ReadinessNotifier: a failed first check while starting is published once, when the start ends, not also under `starting`", async () => {
    const s = setup();
    await s.setBalance(0.1);
    s.notifier.check();
    assert.equal(s.lines.length, 0, "still starting: the start's end says it");
    assert.deepEqual(s.notifier.history(), []);
    s.view.setPhase("running");
    s.notifier.check();
    assert.deepEqual(s.lines.map((l) => [l.level, l.msg, l.issues]), [["warn", "not ready", ["low_balance=$0.10"]]]);
    assert.deepEqual(s.notifier.history().map((c) => `${c.from} -> ${c.to}`), ["starting -> not_ready"]);
  });

  test("ReadinessNotifier logs the drain at info, even over other issues: a stop asked for is no warning", async () => {
    const s = setup();
    s.view.setPhase("running");
    await s.setBalance(0.1);
    s.notifier.check();
    s.view.setPhase("draining");
    s.notifier.check();
    assert.deepEqual(s.lines.map((l) => [l.level, l.msg, l.issues]), [["warn", "not ready", ["low_balance=$0.10"]], ["info", "not ready", ["draining", "low_balance=$0.10"]]]);
  });

  test("ReadinessNotifier publishes each change once, however often it is checked, and a new kind of issue too", async () => {
    const s = setup();
    s.view.setPhase("running");
    s.notifier.check();
    await s.setBalance(0.1);
    for (let i = 0; i < 5; i++) s.notifier.check();
    await s.setBalance(0.05);
    s.notifier.check();
    s.health.circuit("open");
    s.notifier.check();
    s.notifier.check();
    s.health.circuit("closed");
    await s.setBalance(5);
    s.notifier.check();
    assert.deepEqual(s.published, [[], ["low_balance=$0.10"], ["circuit_open", "low_balance=$0.05"], []]);
    assert.deepEqual(s.lines.map((l) => `${l.level} ${l.msg}`), ["info ready", "warn not ready", "warn not ready", "info ready"]);
    assert.deepEqual(s.notifier.last.issues, []);
  });

  test("ReadinessNotifier: a probe's evaluate publishes nothing; only check() does", async () => {
    const s = setup();
    s.view.setPhase("running");
    await s.setBalance(0.1);
    for (let i = 0; i < 3; i++) s.view.evaluate();
    assert.deepEqual(s.published, []);
    assert.deepEqual(s.lines, []);
  });

  test("ReadinessNotifier keeps publishing when a subscriber throws, and logs it", () => {
    const s = setup();
    s.notifier.subscribe(() => {
      throw new Error("boom");
    });
    const after: boolean[] = [];
    s.notifier.subscribe((r) => after.push(r.ready));
    s.view.setPhase("running");
    s.notifier.check();
    assert.deepEqual(after, [true]);
    assert.equal(s.lines.filter((l) => l.level === "error" && l.msg === "readiness listener failed").length, 1);
  });

  test("ReadinessNotifier.together judges readiness once, after every input the event moved: no line for a state held for no time", async () => {
    const s = setup();
    s.view.setPhase("running");
    s.notifier.check();
    await s.setBalance(0.1);
    s.health.circuit("open");
    s.notifier.check();
    const before = s.lines.length;
    const answer = s.notifier.together(() => {
      s.health.circuit("closed");
      s.notifier.check();
      assert.equal(s.lines.length, before, "held while the event runs");
      return 7;
    });
    assert.equal(answer, 7);
    assert.deepEqual(s.lines.slice(before).map((l) => [l.msg, l.issues]), [["not ready", ["low_balance=$0.10"]]], "published at its end");
    const lines = s.lines.length;
    s.notifier.together(() => s.notifier.together(() => {}));
    assert.equal(s.lines.length, lines, "no check asked: nothing judged, nested or not");
    assert.throws(() => s.notifier.together(() => {
      s.health.circuit("open");
      s.notifier.check();
      throw new Error("boom");
    }), /boom/);
    assert.deepEqual(s.lines.at(-1)?.issues, ["circuit_open", "low_balance=$0.10"], "a throw still publishes what moved");
    s.health.circuit("closed");
    s.notifier.check();
    assert.deepEqual(s.lines.at(-1)?.issues, ["low_balance=$0.10"], "and check() is not held after it");
  });

  test("ReadinessNotifier: a provider down while another serves (a warning, readiness holds) is one warn line, its way back one info line", () => {
    const clock = new FakeClock();
    const lines: { level: string; msg: string; provider?: string; reason?: string; was?: string }[] = [];
    const log = createLogger({ level: "debug", write: (l) => lines.push(JSON.parse(l)) });
    let now: Pick<Readiness, "state" | "ready" | "issues" | "warnings"> = { state: "starting", ready: false, issues: [{ kind: "starting" }], warnings: [] };
    const notifier = new ReadinessNotifier({ view: { evaluate: () => now as Readiness }, clock, log });
    const down = (provider: string, reason: string) => ({ kind: "provider_down" as const, provider, reason });
    const set = (n: typeof now) => ((now = n), notifier.check());
    set({ state: "ready", ready: true, issues: [], warnings: [] });
    set({ state: "ready", ready: true, issues: [], warnings: [down("plan", "low_balance=$0.50")] });
    set({ state: "ready", ready: true, issues: [], warnings: [down("plan", "low_balance=$0.49")] });
    set({ state: "ready", ready: true, issues: [], warnings: [down("plan", "upstream_unreachable")] });
    set({ state: "not_ready", ready: false, issues: [down("plan", "upstream_unreachable"), down("paid", "budget")], warnings: [] });
    set({ state: "ready", ready: true, issues: [], warnings: [down("plan", "upstream_unreachable")] });
    set({ state: "ready", ready: true, issues: [], warnings: [] });
    assert.deepEqual(lines.map((l) => [l.level, l.msg, l.provider, l.reason, l.was].filter((x) => x !== undefined).join(" ")), [
      "info ready",
      "warn provider down plan low_balance=$0.50",
      "warn provider down plan upstream_unreachable low_balance=$0.50",
      "warn provider down paid budget",
      "warn not ready",
      "info provider up paid budget",
      "info ready",
      "info provider up plan upstream_unreachable",
    ]);
  });

  test("ReadinessNotifier.subscribe returns the unsubscribe", () => {
    const s = setup();
    const seen: boolean[] = [];
    const off = s.notifier.subscribe((r) => seen.push(r.ready));
    off();
    s.view.setPhase("running");
    s.notifier.check();
    assert.deepEqual(seen, []);
  });

  test("ReadinessNotifier.start re-checks on the clock, for rules time alone moves (no_solve_for)", async () => {
    const s = setup(1000);
    s.view.setPhase("running");
    s.notifier.check();
    s.health.solved("image", 1000);
    s.setLoad({ inFlight: 1 });
    s.notifier.start();
    await s.clock.advance(600_000);
    assert.equal(s.published.length, 1, "600 s is not past the limit");
    await s.clock.advance(2000);
    assert.deepEqual(s.published.at(-1), ["no_solve_for=601s"]);
    await s.clock.advance(10_000);
    assert.equal(s.published.length, 2, "the number moving on is not a transition");
    assert.equal(s.lines.filter((l) => l.msg === "not ready").length, 1);
    s.notifier.stop();
    assert.equal(s.clock.pendingCount, 0, "stop cancels the timer");
    s.notifier.start();
    assert.equal(s.clock.pendingCount, 0, "and is for good: a late start() does nothing");
  });
});
