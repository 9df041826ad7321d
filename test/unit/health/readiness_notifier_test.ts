import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createLogger } from "../../../src/base/log.ts";
import { formatIssue } from "../../../src/health/readiness_issue.ts";
import { ReadinessNotifier } from "../../../src/health/readiness_notifier.ts";
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
