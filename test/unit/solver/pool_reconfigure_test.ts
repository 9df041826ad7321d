import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { silentLogger } from "../../../src/base/log.ts";
import { Bulkhead } from "../../../src/solver/_bulkhead.ts";
import { SolverPool } from "../../../src/solver/pool.ts";
import type { LaneOptions } from "../../../src/solver/pool_options.ts";
import type { TaskParams } from "../../../src/tasks/task_catalogue.ts";
import { FakeClock, settle } from "../../_support/fake_clock.ts";
import { FakeUpstream, RecordingHealth } from "./_fake_upstream.ts";

const IMAGE: TaskParams = { type: "image", image: "aGVsbG8=" };
const OK = (value: string) => ({ kind: "ok" as const, value });

/** A pool over a thread plan `plan` (2 threads) and, behind it, per-solve `paid` ($2 per 1000, after 5 s). */
function rig(o: { plan?: Partial<LaneOptions>; paid?: Partial<LaneOptions> } = {}) {
  const clock = new FakeClock();
  const plan = { upstream: new FakeUpstream(), health: new RecordingHealth() };
  const paid = { upstream: new FakeUpstream(), health: new RecordingHealth() };
  const pool = new SolverPool({
    clock,
    providers: [
      { name: "plan", upstream: plan.upstream, health: plan.health, threads: 2, named: true, ...o.plan },
      { name: "paid", upstream: paid.upstream, health: paid.health, threads: 50, plan: false, afterMs: 5000, priceUsd: () => 0.002, named: true, ...o.paid },
    ],
    log: silentLogger,
    limits: { queueMax: 100 },
    timing: { taskTimeoutMs: 180_000, firstPollMs: { image: 5000, token: 15_000 }, pollIntervalMs: 5000 },
    random: () => 0,
  });
  return { clock, pool, plan, paid };
}

/** Submits answered, then one poll round answered with solutions, for `up`'s pending calls. */
async function solveAll(clock: FakeClock, up: FakeUpstream): Promise<void> {
  for (const [i] of up.pending("submit").entries()) up.answer("submit", OK(`u${i}`));
  await settle();
  await clock.advance(5000);
  while (up.pending("poll").length > 0) up.answer("poll", OK("ANSWER"));
  await settle();
}

describe("SolverPool.reconfigure (a reload, docs/providers.md)", () => {
  test("Bulkhead.resize moves the fair split with the slots; held slots stay, and a lower limit starts nothing until enough end", () => {
    const b = new Bulkhead(2);
    b.acquire("image");
    b.acquire("token");
    b.resize(4);
    assert.equal(b.threads, 4);
    assert.deepEqual([b.share("image"), b.share("token")], [2, 2]);
    assert.equal(b.may("image", true), true);
    b.resize(1);
    assert.equal(b.total, 2, "held slots stay");
    assert.equal(b.may("image", false), false);
    b.release("image");
    assert.equal(b.may("image", false), false, "still one held of one");
    b.release("token");
    assert.equal(b.may("image", false), true);
    const hard = new Bulkhead(4, { image: 1, token: 3 });
    hard.resize(2);
    assert.deepEqual([hard.share("image"), hard.share("token")], [1, 3], "hard limits stay as given");
  });

  test("more threads on the plan start queued work at once; fewer let no new task start until enough of the held ones end", async () => {
    const { pool, clock, plan } = rig({ paid: { takes: () => false } });
    for (let i = 0; i < 4; i++) pool.enqueue("image", IMAGE);
    assert.equal(plan.upstream.pending("submit").length, 2);
    assert.equal(pool.reconfigure("plan", { threads: 3 }), true);
    assert.equal(plan.upstream.pending("submit").length, 3, "the third thread takes a queued task at once");
    assert.deepEqual([pool.provider("plan")!.limit, pool.provider("plan")!.plan], [3, 3]);
    pool.reconfigure("plan", { threads: 1 });
    for (let i = 0; i < 3; i++) plan.upstream.answer("submit", OK(`p${i}`));
    await settle();
    await clock.advance(5000);
    const solveOne = async () => {
      plan.upstream.answer("poll", OK("ANSWER"));
      await settle();
    };
    await solveOne();
    await solveOne();
    assert.deepEqual([pool.provider("plan")!.busy, pool.queueDepth, plan.upstream.count("submit")], [1, 1, 3], "one held of one: the fourth waits");
    await solveOne();
    assert.equal(plan.upstream.pending("submit").length, 1, "the slot freed under the new limit takes it");
    assert.equal(pool.reconfigure("nobody", { threads: 9 }), false);
  });

  test("a removed provider takes no new task (the next one takes it at once), still polls and reports the ones it holds, and comes back when listed again", async () => {
    const { pool, clock, plan, paid } = rig();
    const held = pool.enqueue("image", IMAGE);
    plan.upstream.answer("submit", OK("p1"));
    await settle();
    pool.reconfigure("plan", { removed: true });
    assert.equal(pool.provider("plan")!.removed, true);
    const next = pool.enqueue("image", IMAGE);
    assert.equal(paid.upstream.pending("submit").length, 1, "no after to wait: the removed provider is out of the running");
    assert.equal(next.provider, "paid");
    await clock.advance(5000);
    assert.equal(plan.upstream.pending("poll").length, 1, "its held task is still polled there");
    plan.upstream.answer("poll", OK("ANSWER"));
    await settle();
    assert.equal(held.status, "solved");
    const report = pool.report(held, true);
    assert.equal(plan.upstream.pending("report").length, 1, "and reported there");
    plan.upstream.answer("report", OK("OK_REPORT_RECORDED"));
    assert.equal((await report).kind, "ok");
    pool.reconfigure("plan", { removed: false });
    pool.enqueue("image", IMAGE);
    assert.equal(plan.upstream.pending("submit").length, 1, "listed again: it takes work");
  });

  test("a new price applies to tasks taken from then on; one already out is charged, and uncommitted, at the price it was taken at", async () => {
    const { pool, clock, paid } = rig({ plan: { takes: () => false }, paid: { dailyBudgetUsd: 0.006 } });
    const old = pool.enqueue("image", IMAGE);
    pool.reconfigure("paid", { priceUsd: () => 0.004 });
    const dear = pool.enqueue("image", IMAGE);
    // $0.002 + $0.004 committed of $0.006: no room for a third.
    pool.enqueue("image", IMAGE);
    assert.equal(paid.upstream.pending("submit").length, 2);
    await solveAll(clock, paid.upstream);
    assert.deepEqual([old.costUsd, dear.costUsd], [0.002, 0.004]);
    assert.equal(pool.provider("paid")!.budgetLeftUsd, 0);
    pool.reconfigure("paid", { dailyBudgetUsd: 0.01 });
    assert.equal(paid.upstream.pending("submit").length, 1, "a bigger budget takes the waiting task at once");
  });

  test("a changed after and types take effect for the tasks waiting now", async () => {
    const { pool, plan, paid } = rig();
    for (let i = 0; i < 3; i++) pool.enqueue("image", IMAGE);
    assert.equal(paid.upstream.pending("submit").length, 0, "waits its after");
    pool.reconfigure("paid", { afterMs: 0 });
    assert.equal(paid.upstream.pending("submit").length, 1, "no after now: overflow at once");
    pool.reconfigure("plan", { takes: () => false });
    assert.equal(plan.upstream.pending("submit").length, 2, "what it holds stays");
  });
});
