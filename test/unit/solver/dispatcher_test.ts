// The dispatcher's choices that only show over time: a provider on trial after a fault gets one task
// at a time, and a task some provider can take now is never kept waiting behind ones none can take.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { silentLogger } from "../../../src/base/log.ts";
import { SolverPool, SUBMIT_UNCERTAIN } from "../../../src/solver/pool.ts";
import type { LaneOptions } from "../../../src/solver/pool_options.ts";
import type { TaskParams, TaskType } from "../../../src/tasks/task_catalogue.ts";
import { TaskProxy } from "../../../src/tasks/task_proxy.ts";
import { FakeClock, settle } from "../../_support/fake_clock.ts";
import { FakeUpstream, RecordingHealth } from "./_fake_upstream.ts";

const IMAGE: TaskParams = { type: "image", image: "aGVsbG8=" };
const OK = (value: string) => ({ kind: "ok" as const, value });
const HANG = { kind: "transient" as const, code: "TIMEOUT", message: "timed out", maybeDelivered: true };
const TIMING = { taskTimeoutMs: 3_600_000, firstPollMs: { image: 5000, token: 15_000 }, pollIntervalMs: 5000 };

/** A pool over the lanes `o` names, in order; each a FakeUpstream. */
function rig(o: Record<string, Partial<LaneOptions>>, queueMax = 200, clock = new FakeClock()) {
  const spends: [string, string, number][] = [];
  const up: Record<string, FakeUpstream> = {};
  const providers: LaneOptions[] = Object.entries(o).map(([name, more]) => {
    up[name] = new FakeUpstream();
    return { name, upstream: up[name], health: new RecordingHealth(), threads: 50, named: true, ...more };
  });
  const pool = new SolverPool({ clock, providers, log: silentLogger, limits: { queueMax }, timing: TIMING, random: () => 0, onSpend: (p, day, usd) => void spends.push([p, day, usd]) });
  return { clock, pool, up, spends };
}

const PAID: Partial<LaneOptions> = { plan: false, afterMs: 5000, priceUsd: () => 0.002 };
const TURNSTILE: TaskParams = { type: "turnstile", sitekey: "0x4AAAAAAAunit", pageurl: "https://example.com/" };
const PROXIED: TaskParams = { ...TURNSTILE, proxy: TaskProxy.parse("u:p@10.0.0.1:3128", "HTTP") as TaskProxy };
const V3: TaskParams = { type: "recaptcha_v3", sitekey: "k".repeat(40), pageurl: "https://example.com/", action: "login", min_score: 0.3 };
const V2: TaskParams = { type: "recaptcha_v2", sitekey: "k".repeat(40), pageurl: "https://example.com/" };
/** Takes the types listed, never with a proxy. */
const only = (...types: TaskType[]) => (type: TaskType, proxied: boolean) => types.includes(type) && !proxied;

describe("Dispatcher trials", () => {
  test("a provider whose submit may have arrived unanswered is on trial: one task at a time goes there, the others elsewhere at once, until a submit of it is answered", async () => {
    const { pool, clock, up } = rig({ plan: { threads: 3 }, paid: PAID });
    const first = [1, 2, 3].map(() => pool.enqueue("image", IMAGE));
    assert.equal(up.plan!.pending("submit").length, 3, "before anything went wrong: the plan's three threads");
    for (let i = 0; i < 3; i++) up.plan!.answer("submit", HANG);
    await settle();
    assert.ok(first.every((t) => t.error?.code === SUBMIT_UNCERTAIN), "what the plan may have taken stays with it");
    assert.equal(pool.provider("plan")!.trial, true);
    const since = pool.provider("plan")!.trialSince;
    assert.equal(since, clock.now(), "on trial from the unanswered submit (readiness's probation starts there)");
    await clock.advance(60_000); // its pause after the fault is over
    const next = [1, 2, 3, 4].map(() => pool.enqueue("image", IMAGE));
    assert.equal(up.plan!.pending("submit").length, 1, "one task: the trial");
    assert.equal(up.paid!.pending("submit").length, 3, "the others at the next provider at once, not after its after");
    up.plan!.answer("submit", HANG);
    await settle();
    assert.equal(next[0]!.error?.code, SUBMIT_UNCERTAIN);
    assert.equal(pool.provider("plan")!.trialSince, clock.now(), "a trial failed again: a new round from then");
    assert.ok(since! < clock.now());
    await clock.advance(60_000);
    const more = [1, 2, 3].map(() => pool.enqueue("image", IMAGE));
    assert.equal(up.plan!.pending("submit").length, 1, "still one at a time while the fault lasts");
    up.plan!.answer("submit", OK("p9"));
    await settle();
    assert.equal(pool.provider("plan")!.trial, false, "an answered submit ends the trial");
    pool.enqueue("image", IMAGE);
    pool.enqueue("image", IMAGE);
    assert.equal(up.plan!.pending("submit").length, 2, "its threads are all in use again");
    assert.deepEqual(more.map((t) => t.provider), ["plan", "paid", "paid"]);
  });

  test("a lone provider is never put on trial: its tasks have nowhere else to go", async () => {
    const { pool, up } = rig({ captchaai: { threads: 2, named: false } });
    pool.enqueue("image", IMAGE);
    up.captchaai!.answer("submit", HANG);
    await settle();
    assert.equal(pool.provider("captchaai")!.trial, false);
    [1, 2].map(() => pool.enqueue("image", IMAGE));
    assert.equal(up.captchaai!.pending("submit").length, 2);
  });

  test("a half-open circuit lets one task through, its trial; the next waits for its verdict", async () => {
    const { pool, clock, up } = rig({ captchaai: { threads: 5, named: false } });
    const refused = { kind: "transient" as const, code: "HTTP_503", message: "503", maybeDelivered: false };
    const fail = async (n: number) => {
      for (let i = 0; i < n; i++) {
        up.captchaai!.answer("submit", refused);
        await settle();
        await clock.advance(60_000); // past the submit back-off
      }
    };
    pool.enqueue("image", IMAGE);
    await fail(1);
    await fail(4);
    assert.equal(pool.circuit.state, "open");
    pool.balanceObserved({ kind: "ok", value: 5 }, clock.now()); // getbalance answers: a check closes it
    assert.equal(pool.circuit.state, "closed");
    await fail(5); // the task path alone fails: open for a cool-down, then half-open on its own
    assert.equal(pool.circuit.cause, "task_path");
    [1, 2, 3].map(() => pool.enqueue("image", IMAGE));
    await clock.advance(pool.circuit.retryInMs + 60_000);
    assert.equal(pool.circuit.state, "half_open");
    assert.equal(up.captchaai!.pending("submit").length, 1, "one trial, not one per free thread");
    up.captchaai!.answer("submit", OK("u1"));
    await settle();
    assert.equal(pool.circuit.state, "closed");
    assert.equal(up.captchaai!.pending("submit").length, 3, "the trial answered: the rest go");
  });
});

describe("Dispatcher queue walk", () => {
  test("a task whose deadline has come is not submitted when a slot frees at that instant: it is failing, and a submit would be paid for nothing", async () => {
    const { pool, clock, up } = rig({ captchaai: { threads: 1, named: false } });
    const first = pool.enqueue("image", IMAGE);
    const second = pool.enqueue("image", IMAGE); // the same deadline
    up.captchaai!.answer("submit", OK("u1"));
    await settle();
    await clock.advance(TIMING.taskTimeoutMs);
    assert.deepEqual([first.error?.code, second.error?.code], ["timeout", "timeout"]);
    assert.equal(up.captchaai!.count("submit"), 1, "the second never went: the first's end freed the slot at its own deadline");
  });

  test("tasks no provider can take now do not hide the ones behind them: 70 proxied Turnstiles nobody takes, then work for two idle providers", () => {
    const { pool, up } = rig({ plan: { threads: 2, takes: only("recaptcha_v3") }, cs: { ...PAID, afterMs: 0, takes: only("turnstile") } });
    const stuck = Array.from({ length: 70 }, () => pool.enqueue("turnstile", PROXIED));
    const v3 = [1, 2, 3, 4, 5].map(() => pool.enqueue("recaptcha_v3", V3));
    const plain = [1, 2, 3].map(() => pool.enqueue("turnstile", TURNSTILE));
    assert.equal(up.plan!.pending("submit").length, 2, "the plan's two threads at once");
    assert.equal(up.cs!.pending("submit").length, 3, "the Turnstiles without a proxy at once");
    assert.deepEqual(v3.map((t) => t.provider), ["plan", "plan", undefined, undefined, undefined]);
    assert.ok(plain.every((t) => t.provider === "cs"));
    assert.ok(stuck.every((t) => t.status === "queued" && t.provider === undefined));
  });

  test("a backed-up plan does not stop overflow of a type only a later provider takes: 65 tasks waiting on a busy plan, Turnstiles behind them go after their `after`", async () => {
    const { pool, clock, up } = rig({ plan: { threads: 1 }, cs: { ...PAID, afterMs: 1000, takes: only("turnstile") } });
    const waiting = Array.from({ length: 65 }, () => pool.enqueue("recaptcha_v2", V2));
    const turnstiles = [1, 2, 3].map(() => pool.enqueue("turnstile", TURNSTILE));
    assert.equal(up.plan!.pending("submit").length, 1);
    assert.equal(up.cs!.pending("submit").length, 0, "they wait their `after` for the plan first");
    await clock.advance(1000);
    assert.equal(up.cs!.pending("submit").length, 3, "after 1 s, not once the plan drained");
    assert.ok(turnstiles.every((t) => t.provider === "cs"));
    assert.equal(waiting.filter((t) => t.provider === undefined).length, 64, "cs does not take recaptcha_v2");
  });

  test("far past the default --queue-max: 5 000 tasks nobody takes now do not hide the one behind them", () => {
    const { pool, up } = rig({ plan: { threads: 1, takes: only("recaptcha_v3") } }, 20_000);
    for (let i = 0; i < 5000; i++) pool.enqueue("turnstile", PROXIED);
    const v3 = pool.enqueue("recaptcha_v3", V3);
    assert.equal(up.plan!.pending("submit").length, 1);
    assert.equal(v3.provider, "plan");
  });

  test("however long the queue: 12 000 tasks nobody takes now (a --queue-max of 20 000) do not hide the ones behind them, nor those that come after", () => {
    const { pool, up } = rig({ plan: { threads: 2, takes: only("recaptcha_v3") } }, 20_000);
    for (let i = 0; i < 12_000; i++) pool.enqueue("turnstile", PROXIED);
    const v3 = [1, 2, 3].map(() => pool.enqueue("recaptcha_v3", V3));
    assert.equal(up.plan!.pending("submit").length, 2, "the plan's two threads at once");
    assert.deepEqual(v3.map((t) => t.provider), ["plan", "plan", undefined]);
    assert.equal(pool.queueDepth, 12_001);
  });
});

/** A FakeClock whose wall clock reads `offsetMs` ahead of its monotonic time (stepped after the start). */
class SteppedClock extends FakeClock {
  offsetMs = 0;
  wallNow(): number {
    return this.now() + this.offsetMs;
  }
}

describe("Dispatcher and the UTC day", () => {
  const solveOne = async (r: ReturnType<typeof rig>) => {
    const t = r.pool.enqueue("image", IMAGE);
    r.up.paid!.answer("submit", OK("1"));
    await settle();
    await r.clock.advance(5000);
    r.up.paid!.answer("poll", OK("A"));
    await settle();
    return t;
  };

  test("a task waiting on a spent budget goes when the UTC day turns, with nothing else to pump", async () => {
    const r = rig({ paid: { ...PAID, afterMs: 0, dailyBudgetUsd: 0.002 } }, 200, new FakeClock(Date.UTC(2026, 0, 1, 23, 30)));
    assert.equal((await solveOne(r)).status, "solved");
    const waiting = r.pool.enqueue("image", IMAGE);
    assert.equal(r.up.paid!.pending("submit").length, 0, "the budget is spent");
    const midnight = Date.UTC(2026, 0, 2);
    await r.clock.advance(midnight - r.clock.now() - 1);
    assert.equal(r.up.paid!.pending("submit").length, 0);
    await r.clock.advance(1);
    assert.equal(r.up.paid!.pending("submit").length, 1, "the day turned: a new budget");
    assert.equal(waiting.provider, "paid");
  });

  test("the day is the wall clock's: one stepped since the start moves the budget's day, not the timers", async () => {
    const clock = new SteppedClock(Date.UTC(2026, 0, 1, 12, 0));
    const r = rig({ paid: { ...PAID, afterMs: 0, dailyBudgetUsd: 0.004 } }, 200, clock);
    await solveOne(r);
    clock.offsetMs = 12 * 3_600_000; // the host's clock set right: it is past midnight already
    await solveOne(r);
    assert.deepEqual(r.spends.map(([, day, usd]) => [day, usd]), [["2026-01-01", 0.002], ["2026-01-02", 0.002]]);
    assert.equal(r.pool.provider("paid")!.spentTodayUsd, 0.002, "today (2 January) has one solve");
  });
});
