import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { silentLogger } from "../../../src/base/log.ts";
import { SolverPool, SUBMIT_UNCERTAIN } from "../../../src/solver/pool.ts";
import type { LaneOptions } from "../../../src/solver/pool_options.ts";
import type { TaskParams, TaskType } from "../../../src/tasks/task_catalogue.ts";
import { FakeClock, settle } from "../../_support/fake_clock.ts";
import { FakeUpstream, RecordingHealth } from "./_fake_upstream.ts";

const IMAGE: TaskParams = { type: "image", image: "aGVsbG8=" };
const GEETEST: TaskParams = { type: "geetest", gt: "g".repeat(32), challenge: "c".repeat(32), pageurl: "https://example.com/" };
const OK = (value: string) => ({ kind: "ok" as const, value });

interface Provider {
  name: string;
  upstream: FakeUpstream;
  health: RecordingHealth;
}

/** A pool over a thread plan `plan` (2 threads) and, behind it, per-solve `paid` ($2 per 1000, after 5 s) and `spare` (after 10 s). */
function rig(o: { plan?: Partial<LaneOptions>; paid?: Partial<LaneOptions>; spare?: Partial<LaneOptions> } = {}) {
  const clock = new FakeClock();
  const spends: [string, string, number][] = [];
  const make = (name: string): Provider => ({ name, upstream: new FakeUpstream(), health: new RecordingHealth() });
  const [plan, paid, spare] = [make("plan"), make("paid"), make("spare")];
  const lanes: LaneOptions[] = [
    { name: "plan", upstream: plan.upstream, health: plan.health, threads: 2, named: true, ...o.plan },
    { name: "paid", upstream: paid.upstream, health: paid.health, threads: 50, plan: false, afterMs: 5000, priceUsd: () => 0.002, named: true, ...o.paid },
    { name: "spare", upstream: spare.upstream, health: spare.health, threads: 50, plan: false, afterMs: 10_000, priceUsd: () => 0.001, named: true, ...o.spare },
  ];
  const pool = new SolverPool({
    clock,
    providers: lanes,
    log: silentLogger,
    limits: { queueMax: 100 },
    timing: { taskTimeoutMs: 180_000, firstPollMs: { image: 5000, token: 15_000 }, pollIntervalMs: 5000 },
    onSpend: (provider, day, usd) => void spends.push([provider, day, usd]),
    random: () => 0,
  });
  return { clock, pool, plan, paid, spare, spends };
}

describe("SolverPool providers", () => {
  test("a thread plan takes work first; a burst past its threads overflows to the next provider only after that provider's `after`", async () => {
    const { pool, clock, plan, paid, spare } = rig();
    const tasks = [1, 2, 3, 4].map(() => pool.enqueue("image", IMAGE));
    assert.equal(plan.upstream.pending("submit").length, 2, "the plan's two threads");
    assert.equal(paid.upstream.pending("submit").length, 0, "the paid provider waits its after");
    await clock.advance(4999);
    assert.equal(paid.upstream.pending("submit").length, 0);
    await clock.advance(1);
    assert.equal(paid.upstream.pending("submit").length, 2, "overflow once the tasks waited 5 s");
    assert.equal(spare.upstream.count("submit"), 0);
    assert.deepEqual(tasks.map((t) => t.provider), ["plan", "plan", "paid", "paid"]);
  });

  test("polls, reports and the solve's charge go to the provider that took the task; spend is counted per UTC day", async () => {
    const { pool, clock, plan, paid, spends } = rig({ plan: { threads: 1 } });
    pool.enqueue("image", IMAGE);
    const t = pool.enqueue("image", IMAGE);
    plan.upstream.answer("submit", OK("p1"));
    await clock.advance(5000);
    paid.upstream.answer("submit", OK("x1"));
    await settle();
    await clock.advance(5000);
    assert.equal(paid.upstream.pending("poll").length, 1);
    paid.upstream.answer("poll", OK("ANSWER"));
    await settle();
    assert.equal(t.status, "solved");
    assert.equal(t.provider, "paid");
    assert.equal(t.costUsd, 0.002);
    assert.deepEqual(spends, [["paid", new Date(clock.now()).toISOString().slice(0, 10), 0.002]]);
    assert.equal(pool.provider("paid")!.spentTodayUsd, 0.002);
    const report = pool.report(t, false);
    assert.equal(paid.upstream.pending("report").length, 1, "the report goes where the task was solved");
    assert.equal(plan.upstream.pending("report").length, 0);
    paid.upstream.answer("report", OK("OK_REPORT_RECORDED"));
    assert.equal((await report).kind, "ok");
  });

  test("a submit that surely did not arrive (refused connection) moves to the next provider at once, without waiting its after", async () => {
    const { pool, clock, plan, paid } = rig();
    const t = pool.enqueue("image", IMAGE);
    plan.upstream.answer("submit", { kind: "transient", code: "NETWORK", message: "ECONNREFUSED", maybeDelivered: false });
    await settle();
    assert.equal(paid.upstream.pending("submit").length, 1, "at once");
    assert.equal(clock.now() - t.createdAt, 0);
    assert.equal(t.provider, "paid");
  });

  test("a submit that may have arrived is never sent elsewhere: SUBMIT_UNCERTAIN", async () => {
    const { pool, plan, paid } = rig();
    const t = pool.enqueue("image", IMAGE);
    plan.upstream.answer("submit", { kind: "transient", code: "TIMEOUT", message: "timed out", maybeDelivered: true });
    await settle();
    assert.equal(t.status, "failed");
    assert.equal(t.error?.code, SUBMIT_UNCERTAIN);
    assert.equal(paid.upstream.count("submit"), 0);
  });

  test("a refused key takes the provider out: new work goes to the next at once, and comes back when its key works", async () => {
    const { pool, plan, paid } = rig();
    pool.enqueue("image", IMAGE);
    plan.upstream.answer("submit", { kind: "fatal_account", code: "ERROR_KEY_DOES_NOT_EXIST", message: "no key" });
    await settle();
    assert.equal(paid.upstream.pending("submit").length, 1);
    assert.equal(plan.health.auth, "ERROR_KEY_DOES_NOT_EXIST");
    pool.balanceObserved({ kind: "ok", value: 5 }, 0, undefined, "plan");
    pool.enqueue("image", IMAGE);
    assert.equal(plan.upstream.pending("submit").length, 1, "the plan takes work again");
  });

  test("a task a provider refused is no provider's again, and one that runs out of time in the queue is charged to no provider's health", async () => {
    const { pool, clock, plan, paid } = rig({ paid: { takes: () => false }, spare: { takes: () => false } });
    const solved = pool.enqueue("image", IMAGE);
    const refused = pool.enqueue("image", IMAGE);
    plan.upstream.answer("submit", OK("p1"));
    plan.upstream.answer("submit", { kind: "fatal_account", code: "ERROR_KEY_DOES_NOT_EXIST", message: "no key" });
    await settle();
    assert.equal(refused.status, "queued");
    assert.equal(refused.provider, undefined, "the plan refused it: it does not have it");
    assert.equal(solved.provider, "plan");
    await clock.advance(5000);
    plan.upstream.answer("poll", OK("A"));
    await settle();
    await clock.advance(180_000);
    assert.equal(refused.error?.code, "timeout");
    assert.equal(refused.provider, undefined);
    assert.deepEqual([plan.health.failures, paid.health.failures], [[], []], "waiting in the queue is no provider's failure");
  });

  test("with one provider, a task that runs out of time in the queue is still charged to it (it is the worker)", async () => {
    const clock = new FakeClock();
    const upstream = new FakeUpstream();
    const health = new RecordingHealth();
    const pool = new SolverPool({
      clock, providers: [{ name: "captchaai", upstream, health, threads: 1 }], log: silentLogger, limits: { queueMax: 10 },
      timing: { taskTimeoutMs: 60_000, firstPollMs: { image: 5000, token: 15_000 }, pollIntervalMs: 5000 }, random: () => 0,
    });
    pool.enqueue("image", IMAGE);
    const waiting = pool.enqueue("image", IMAGE);
    await clock.advance(60_000);
    assert.equal(waiting.error?.code, "timeout");
    assert.ok(health.failures.length >= 1 && health.failures.every(([code]) => code === "timeout"));
  });

  test("a thread plan's 'no free thread' keeps the task for the plan until it has waited its overflow time", async () => {
    const { pool, clock, plan, paid } = rig();
    const t = pool.enqueue("image", IMAGE);
    plan.upstream.answer("submit", { kind: "back_off", code: "ERROR_ZERO_BALANCE", message: "no free threads" });
    await settle();
    assert.equal(paid.upstream.count("submit"), 0, "not at once: a plan refusal is a wait");
    await clock.advance(5000);
    assert.equal(paid.upstream.pending("submit").length + plan.upstream.pending("submit").length, 1);
    assert.ok(t.provider === "paid" || t.provider === "plan");
  });

  test("a per-solve provider's refusal (no slot) moves the task on at once", async () => {
    const { pool, clock, paid, spare } = rig({ plan: { takes: () => false } });
    const t = pool.enqueue("image", IMAGE);
    assert.equal(paid.upstream.pending("submit").length, 1, "no earlier provider takes images: no wait");
    paid.upstream.answer("submit", { kind: "back_off", code: "ERROR_NO_SLOT_AVAILABLE", message: "no slot" });
    await settle();
    assert.equal(spare.upstream.pending("submit").length, 1);
    assert.equal(clock.now() - t.createdAt, 0);
  });

  test("a type a provider does not take goes to one that does, at once", async () => {
    const { pool, plan, paid } = rig({ plan: { takes: (type: TaskType) => type !== "geetest" } });
    const t = pool.enqueue("geetest", GEETEST);
    assert.equal(plan.upstream.count("submit"), 0);
    assert.equal(paid.upstream.pending("submit").length, 1);
    assert.equal(t.provider, "paid");
  });

  test("a daily budget reached stops a provider taking new work until the UTC day turns", async () => {
    const { pool, clock, paid, spare } = rig({ plan: { takes: () => false }, paid: { dailyBudgetUsd: 0.002 } });
    const first = pool.enqueue("image", IMAGE);
    paid.upstream.answer("submit", OK("1"));
    await settle();
    await clock.advance(5000);
    paid.upstream.answer("poll", OK("A"));
    await settle();
    assert.equal(first.status, "solved");
    assert.equal(pool.provider("paid")!.budgetLeftUsd, 0);
    pool.enqueue("image", IMAGE);
    assert.equal(paid.upstream.count("submit"), 1, "budget spent: no more");
    assert.equal(spare.upstream.pending("submit").length, 1, "the next provider takes it");
  });

  test("a provider answering that it does not take a type moves the task to the next at once, blaming no one, and is skipped for that type a while", async () => {
    const { pool, clock, plan, paid } = rig();
    const t = pool.enqueue("geetest", GEETEST);
    plan.upstream.answer("submit", { kind: "task_failed", code: "ERROR_METHOD_CALL", message: "no such method", blame: "nobody" });
    await settle();
    assert.equal(paid.upstream.pending("submit").length, 1, "at once, without waiting its after");
    assert.equal(t.provider, "paid");
    assert.equal(t.status, "queued");
    assert.deepEqual(plan.health.failures, [], "nothing charged to the plan's health");
    pool.enqueue("geetest", GEETEST);
    assert.equal(plan.upstream.count("submit"), 1, "the plan is not asked again for geetest");
    pool.enqueue("image", IMAGE);
    assert.equal(plan.upstream.count("submit"), 2, "other types still go to the plan");
    await clock.advance(10 * 60_000);
    pool.enqueue("geetest", GEETEST);
    assert.equal(plan.upstream.count("submit"), 3, "after a while it is asked again");
  });

  test("when no provider takes the type, the task fails with the upstream's code charged to nobody, and so do queued tasks of the type", async () => {
    const one = { afterMs: 0, threads: 1 };
    const { pool, plan, paid, spare } = rig({ plan: { threads: 1 }, paid: one, spare: one });
    const tasks = [1, 2, 3, 4].map(() => pool.enqueue("geetest", GEETEST));
    assert.deepEqual(tasks.map((t) => t.provider), ["plan", "paid", "spare", undefined], "one each, the fourth queued");
    const refuse = (u: FakeUpstream) => u.answer("submit", { kind: "task_failed", code: "ERROR_METHOD_CALL", message: "no such method", blame: "nobody" });
    refuse(plan.upstream);
    await settle();
    refuse(paid.upstream);
    await settle();
    assert.ok(tasks.every((t) => t.status === "queued"), "the spare provider may still take the type");
    refuse(spare.upstream);
    await settle();
    for (const t of tasks) {
      assert.equal(t.status, "failed");
      assert.equal(t.error?.code, "ERROR_METHOD_CALL");
      assert.equal(t.error?.blame, undefined, "charged to nobody");
    }
    assert.deepEqual([plan, paid, spare].map((p) => p.health.failures), [[], [], []], "nobody's failure");
    assert.equal([plan, paid, spare].reduce((n, p) => n + p.upstream.count("submit"), 0), 3, "each provider asked once");
    const image = pool.enqueue("image", IMAGE);
    assert.equal(image.provider, "plan", "other types go on as before");
  });

  test("a restart polls each held task at the provider that took it; one the providers file no longer names fails provider_gone, charged to nobody", async () => {
    const { pool, clock, plan, paid } = rig();
    const now = clock.now();
    const held = (id: string, provider: string | undefined) =>
      ({ id, type: "image" as const, params: IMAGE, createdAt: now - 1000, deadlineAt: now + 60_000, upstreamId: `u-${id}`, uncertain: false, submissions: 1, provider });
    const counts = pool.restore([held("at-paid", "paid"), held("at-plan", "plan"), held("older", undefined), held("at-removed", "retired")]);
    assert.equal(counts.gone, 1);
    assert.equal(counts.polled, 3);
    const gone = pool.find("at-removed")!;
    assert.equal(gone.status, "failed");
    assert.equal(gone.error?.code, "provider_gone");
    assert.equal(gone.error?.blame, undefined);
    await clock.advance(5000);
    assert.deepEqual(paid.upstream.pending("poll").map((c) => c.arg), ["u-at-paid"]);
    assert.deepEqual(plan.upstream.pending("poll").map((c) => c.arg).sort(), ["u-at-plan", "u-older"], "an older journal names no provider: the first");
  });

  test("tasks only a provider that is out takes are no backlog: the queue's wait counts what waits for a provider that can take it", async () => {
    const { pool, clock, plan, paid } = rig({ plan: { threads: 1, takes: (type: TaskType) => type === "image" }, spare: { takes: () => false } });
    pool.enqueue("geetest", GEETEST);
    paid.upstream.answer("submit", { kind: "fatal_account", code: "ERROR_KEY_DOES_NOT_EXIST", message: "no key" });
    await settle();
    await clock.advance(100_000);
    assert.equal(pool.queueDepth, 1, "the geetest task waits for the paid provider's key");
    assert.equal(pool.load().oldestQueuedAgeMs, 0, "waiting on an outage (provider_down says it), not on threads");
    pool.enqueue("image", IMAGE);
    pool.enqueue("image", IMAGE);
    assert.equal(plan.upstream.pending("submit").length, 1, "the plan's one thread");
    await clock.advance(30_000);
    assert.equal(pool.load().oldestQueuedAgeMs, 30_000, "an image waiting for the busy plan is counted");
  });
  test("a provider back from unreachable takes its waiting tasks at once: its tasks are not left queued, out of the backlog, until some other task moves", async () => {
    // As the wiring reads it: its last balance check failed at the transport level.
    const checks: boolean[] = [];
    const { pool, clock, paid } = rig({ plan: { takes: (type: TaskType) => type === "image" }, paid: { unreachable: () => checks.at(-1) === false }, spare: { takes: () => false } });
    paid.health.balanceChecked = (reachable: boolean) => void checks.push(reachable);
    pool.balanceObserved({ kind: "transient", code: "ECONNREFUSED", message: "refused", maybeDelivered: false }, clock.now(), undefined, "paid");
    const t = pool.enqueue("geetest", GEETEST);
    await clock.advance(60_000);
    assert.equal(paid.upstream.count("submit"), 0, "its balance check finds it unreachable");
    pool.balanceObserved({ kind: "ok", value: 5 }, clock.now(), undefined, "paid");
    await settle();
    assert.equal(paid.upstream.pending("submit").length, 1, "a good balance check brings it back");
    assert.equal(t.provider, "paid");
  });

  test("tasks only a provider a reload removed took are a backlog: nothing that comes back waits for them", async () => {
    const { pool, clock, paid } = rig({ plan: { takes: (type: TaskType) => type === "image" }, spare: { takes: () => false } });
    pool.enqueue("geetest", GEETEST);
    paid.upstream.answer("submit", { kind: "fatal_account", code: "ERROR_KEY_DOES_NOT_EXIST", message: "no key" });
    await settle();
    await clock.advance(10_000);
    assert.equal(pool.load().oldestQueuedAgeMs, 0, "its key refused: waiting on an outage provider_down says");
    pool.reconfigure("paid", { removed: true });
    pool.enqueue("image", IMAGE); // a pump
    await clock.advance(10_000);
    assert.equal(pool.load().oldestQueuedAgeMs, 20_000, "removed: no provider in use takes it, and nothing says why it waits but the queue");
  });

  test("a task held back only by a type marked unsupported goes when the mark runs out, with nothing else happening", async () => {
    const { pool, clock, plan, paid } = rig({ spare: { takes: () => false } });
    const t = pool.enqueue("geetest", GEETEST);
    plan.upstream.answer("submit", { kind: "task_failed", code: "ERROR_METHOD_CALL", message: "no such method", blame: "nobody" });
    await settle();
    paid.upstream.answer("submit", { kind: "fatal_account", code: "ERROR_KEY_DOES_NOT_EXIST", message: "no key" });
    await settle();
    assert.equal(t.status, "queued");
    assert.equal(plan.upstream.count("submit"), 1);
    await clock.advance(9 * 60_000);
    assert.equal(t.status, "failed", "timed out (3 min) meanwhile");
    const later = pool.enqueue("geetest", GEETEST);
    assert.equal(plan.upstream.count("submit"), 1, "still marked");
    await clock.advance(60_000);
    assert.equal(plan.upstream.count("submit"), 2, "asked again when the mark ran out: a pump was due then");
    assert.equal(later.provider, "plan");
  });
});
