import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createLogger } from "../../../src/base/log.ts";
import type { StopSignal } from "../../../src/base/runtime.ts";
import type { Phase } from "../../../src/health/readiness.ts";
import { createStopLadder, stopOnSignal, type StopPart, type StopParts } from "../../../src/app/lifecycle.ts";
import { FakeClock, settle } from "../../_support/fake_clock.ts";

/** Parts that record what the ladder does to them, in order; the pool's idle() runs on the fake clock. */
function rig(o: { journal?: boolean; inFlight?: number; failClose?: boolean; samples?: number } = {}) {
  const clock = new FakeClock();
  const events: string[] = [];
  const logs: Array<{ level: string; msg: string } & Record<string, unknown>> = [];
  const log = createLogger({ level: "debug", write: (l) => logs.push(JSON.parse(l)) });
  let inFlight = o.inFlight ?? 0;
  let open = inFlight + 1;
  const idleWaiters = new Set<() => void>();
  let phase: Phase = "running";
  const closer = (name: string) => ({
    close: async (graceMs?: number) => {
      events.push(graceMs === undefined ? `${name}.close` : `${name}.close(${graceMs})`);
      if (o.failClose && name === "http") throw new Error("close failed");
    },
  });
  const parts: StopParts = {
    log,
    view: {
      setPhase: (p) => {
        phase = p;
        events.push(`view.${p}`);
      },
    },
    notifier: { check: () => void events.push("notifier.check"), stop: () => void events.push("notifier.stop") },
    pool: {
      get inFlight() {
        return inFlight;
      },
      stopAccepting: () => (events.push("pool.stopAccepting"), 0),
      idle: (timeoutMs) => {
        events.push(`pool.idle(${timeoutMs})`);
        if (inFlight === 0) return Promise.resolve();
        return new Promise((resolve) => {
          const done = () => (timer.cancel(), idleWaiters.delete(done), resolve());
          const timer = clock.setTimeout(done, timeoutMs);
          idleWaiters.add(done);
        });
      },
      suspend: () => (events.push("pool.suspend"), open),
      failAll: (code) => {
        events.push(`pool.failAll(${code})`);
        const n = open;
        open = 0;
        return n;
      },
      releaseWaiters: () => (events.push("waits.release"), 2),
    },
    journal: o.journal ? { dir: "/var/lib/captcha-worker", ...closer("journal") } : undefined,
    http: closer("http"),
    // In the order the worker starts them; the ladder visits them last first.
    started: [
      { stopping: () => void events.push("demo.stopping"), expendable: () => o.samples ?? 0, ...closer("demo") },
      closer("client"),
      { stop: () => void events.push("timers.stop") },
      closer("agent"),
      { stopping: () => void events.push("notify.stopping"), ...closer("notify") },
    ],
  };
  const finishInFlight = () => {
    inFlight = 0;
    open = 0;
    for (const w of [...idleWaiters]) w();
  };
  return { clock, events, logs, parts, finishInFlight, phase: () => phase };
}

/** A Runtime signal source a test fires by hand. */
function signals() {
  const handlers = new Set<(s: StopSignal) => void>();
  const exits: number[] = [];
  return {
    onSignal: (h: (s: StopSignal) => void) => (handlers.add(h), () => void handlers.delete(h)),
    send: (s: StopSignal) => [...handlers].forEach((h) => h(s)),
    exit: ((code: number) => {
      exits.push(code);
      throw new Error(`exit(${code})`);
    }) as (code: number) => never,
    exits,
    get count() {
      return handlers.size;
    },
  };
}

describe("createStopLadder", () => {
  test("climbs in order: STOPPING, demo traffic off, readiness draining, no new tasks, wait in flight, fail the rest, then close HTTP before the rest", async () => {
    const r = rig({ inFlight: 2 });
    const ladder = createStopLadder(r.parts);
    assert.equal(ladder.state, "running");
    const drained = ladder.drain(5000);
    assert.equal(ladder.state, "draining");
    assert.deepEqual(r.events, ["notify.stopping", "demo.stopping", "view.draining", "notifier.check", "pool.stopAccepting", "pool.idle(5000)"]);
    await r.clock.advance(4999);
    assert.equal(ladder.state, "draining", "still waiting for in-flight tasks");
    await r.clock.advance(1);
    assert.equal(await drained, 3, "what was left failed with shutdown");
    assert.equal(ladder.state, "drained");
    assert.deepEqual(r.events.slice(-2), ["pool.failAll(shutdown)", "waits.release"]);
    assert.ok(r.logs.some((l) => l.level === "warn" && l.msg === "drain timeout: tasks failed with shutdown" && l.count === 3 && l.drain_timeout === "5s"));

    r.events.length = 0;
    await ladder.close();
    assert.equal(ladder.state, "closed");
    assert.deepEqual(r.events, ["timers.stop", "notifier.stop", "waits.release", "http.close(1000)", "notify.close", "agent.close", "client.close", "demo.close"], "the pool is not settled twice");
  });

  test("with a journal, what is left is kept for the next start, not failed, and the journal closes after HTTP", async () => {
    const r = rig({ journal: true, inFlight: 1 });
    const ladder = createStopLadder(r.parts);
    const drained = ladder.drain(0);
    await r.clock.advance(0);
    assert.equal(await drained, 0);
    assert.ok(r.events.includes("pool.suspend"));
    assert.ok(!r.events.some((e) => e.startsWith("pool.failAll")));
    assert.ok(r.logs.some((l) => l.msg === "drain: open tasks kept in the journal for the next start" && l.count === 2 && l.dir === "/var/lib/captcha-worker"));
    r.events.length = 0;
    await ladder.close();
    assert.deepEqual(r.events.slice(0, 5), ["timers.stop", "notifier.stop", "waits.release", "http.close(1000)", "journal.close"]);
  });

  test("at the drain deadline with a journal, clients waiting on kept tasks are answered before HTTP closes", async () => {
    const r = rig({ journal: true, inFlight: 1 });
    const ladder = createStopLadder(r.parts);
    const drained = ladder.drain(2000);
    await r.clock.advance(1999);
    assert.ok(!r.events.includes("waits.release"), "not before the deadline");
    await r.clock.advance(1);
    await drained;
    assert.deepEqual(r.events.slice(-2), ["pool.suspend", "waits.release"]);
    assert.ok(r.logs.some((l) => l.msg === "drain: open tasks kept in the journal for the next start" && l.waits_answered === 2));
  });

  test("at the drain deadline, a part's expendable tasks (the demo's samples) failing with shutdown are info; only the others warn", async () => {
    for (const [samples, warned, info] of [[3, undefined, 3], [2, 1, 2], [0, 3, undefined]] as const) {
      const r = rig({ inFlight: 2, samples });
      const drained = createStopLadder(r.parts).drain(300);
      await r.clock.advance(300);
      assert.equal(await drained, 3, "every task left failed with shutdown all the same");
      assert.equal(r.logs.find((l) => l.msg === "drain timeout: tasks failed with shutdown")?.count, warned, `${samples} samples`);
      assert.equal(r.logs.find((l) => l.msg === "drain: sample tasks stopped unfinished")?.count, info, `${samples} samples`);
      assert.ok(!r.logs.some((l) => l.level === "warn") || warned !== undefined);
    }
  });

  test("drain ends as soon as in-flight tasks finish, before the timeout", async () => {
    const r = rig({ inFlight: 1 });
    const ladder = createStopLadder(r.parts);
    const drained = ladder.drain(25_000);
    await r.clock.advance(1000);
    r.finishInFlight();
    assert.equal(await drained, 0);
    assert.ok(!r.logs.some((l) => l.msg === "drain timeout: tasks failed with shutdown"));
  });

  test("beginDrain is taken once; close without a drain settles the pool and closes everything once", async () => {
    const r = rig();
    const ladder = createStopLadder(r.parts);
    ladder.beginDrain();
    ladder.beginDrain();
    assert.equal(r.events.filter((e) => e === "view.draining").length, 1);
    assert.equal(r.logs.filter((l) => l.msg === "draining").length, 1);
    r.events.length = 0;
    const a = ladder.close();
    const b = ladder.close();
    assert.equal(a, b);
    await a;
    assert.deepEqual(r.events, ["timers.stop", "notifier.stop", "pool.failAll(shutdown)", "waits.release", "http.close(1000)", "notify.close", "agent.close", "client.close", "demo.close"]);
  });
});

describe("createStopLadder's started parts", () => {
  test("a part that starts after the ladder was made is stopped and closed too, before the ones started earlier", async () => {
    const r = rig();
    const ladder = createStopLadder(r.parts);
    (r.parts.started as StopPart[]).push({ stopping: () => void r.events.push("late.stopping"), stop: () => void r.events.push("late.stop"), close: () => void r.events.push("late.close") });
    ladder.beginDrain();
    assert.deepEqual(r.events.slice(0, 3), ["late.stopping", "notify.stopping", "demo.stopping"]);
    r.events.length = 0;
    await ladder.close();
    assert.equal(r.events[0], "late.stop");
    assert.deepEqual(r.events.slice(-5), ["late.close", "notify.close", "agent.close", "client.close", "demo.close"]);
  });
});

describe("stopOnSignal", () => {
  test("the first signal drains within --drain-timeout, closes and resolves 0; a second one exits 1 at once", async () => {
    const r = rig({ inFlight: 1 });
    const s = signals();
    const stopped = stopOnSignal({ onSignal: s.onSignal, exit: s.exit, drainTimeoutMs: 2000, log: r.parts.log }, createStopLadder(r.parts));
    assert.equal(s.count, 1);
    s.send("SIGTERM");
    assert.equal(r.phase(), "draining", "readiness flips at once");
    assert.deepEqual(r.logs.map((l) => l.msg).slice(0, 2), ["stopping", "draining"]);
    assert.equal(r.logs[0]!.drain_timeout_ms, 2000);
    assert.throws(() => s.send("SIGINT"), /exit\(1\)/);
    assert.deepEqual(s.exits, [1]);
    assert.ok(r.logs.some((l) => l.level === "warn" && l.msg === "second signal: exiting at once" && l.signal === "SIGINT"));
    await r.clock.advance(2000);
    assert.equal(await stopped, 0);
    assert.deepEqual(r.logs.at(-1), { ...r.logs.at(-1)!, level: "info", msg: "stopped", failed_with_shutdown: 2 });
  });

  test("a failure while stopping resolves 1 and says so", async () => {
    const r = rig({ failClose: true });
    const s = signals();
    const stopped = stopOnSignal({ onSignal: s.onSignal, exit: s.exit, drainTimeoutMs: 0, log: r.parts.log }, createStopLadder(r.parts));
    s.send("SIGINT");
    await settle();
    assert.equal(await stopped, 1);
    assert.ok(r.logs.some((l) => l.level === "error" && l.msg === "stop failed"));
  });
});
