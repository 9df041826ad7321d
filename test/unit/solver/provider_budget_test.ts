import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { silentLogger } from "../../../src/base/log.ts";
import { SolverPool } from "../../../src/solver/pool.ts";
import type { LaneOptions } from "../../../src/solver/pool_options.ts";
import type { TaskParams } from "../../../src/tasks/task_catalogue.ts";
import { FakeClock, settle } from "../../_support/fake_clock.ts";
import { FakeUpstream, RecordingHealth } from "./_fake_upstream.ts";

const IMAGE: TaskParams = { type: "image", image: "aGVsbG8=" };
const TURNSTILE: TaskParams = { type: "turnstile", sitekey: "0x4AAAAAAAunit", pageurl: "https://example.com/" };
/** A poll's answer with the cost the provider reports for the solve (getTaskResult `cost`, get2 `price`). */
const SOLVED = (text: string, cost?: number) => ({ kind: "ok" as const, value: { request: text, fields: cost === undefined ? {} : { cost } } });
const UNSOLVABLE = { kind: "task_failed" as const, code: "ERROR_CAPTCHA_UNSOLVABLE", message: "unsolvable", blame: "nobody" as const };

/** One per-solve provider `paid` (a JSON API that reports its costs unless told otherwise), taking work at once. */
function rig(paid: Partial<LaneOptions>) {
  const clock = new FakeClock();
  const upstream = new FakeUpstream();
  const pool = new SolverPool({
    clock,
    providers: [{ name: "paid", upstream, health: new RecordingHealth(), threads: 50, plan: false, afterMs: 0, named: true, reportsCost: true, ...paid }],
    log: silentLogger,
    limits: { queueMax: 100 },
    timing: { taskTimeoutMs: 180_000, firstPollMs: { image: 5000, token: 15_000 }, pollIntervalMs: 5000 },
    random: () => 0,
  });
  /** Answers every submit pending with a fresh id, then every poll pending with `answer`. */
  const solveAll = async (answer: (i: number) => ReturnType<typeof SOLVED> | typeof UNSOLVABLE) => {
    let n = 0;
    for (const c of upstream.pending("submit")) c.answer({ kind: "ok", value: `u${upstream.calls.indexOf(c)}` });
    await settle();
    await clock.advance(5000);
    for (const c of upstream.pending("poll")) c.answer(answer(n++));
    await settle();
  };
  return { clock, pool, upstream, solveAll };
}

describe("per-solve budgets", () => {
  test("a provider with no price in the file that reports what it bills: one task of a type goes out until its cost is known, and the budget holds", async () => {
    const { pool, upstream, solveAll } = rig({ priceUsd: () => 0, dailyBudgetUsd: 0.01, takes: (type) => type === "image" });
    const tasks = Array.from({ length: 10 }, () => pool.enqueue("image", IMAGE));
    assert.equal(upstream.pending("submit").length, 1, "the cost of images is unknown: one alone");
    await solveAll(() => SOLVED("A", 0.004));
    assert.equal(tasks[0]!.costUsd, 0.004);
    assert.equal(upstream.pending("submit").length, 1, "$0.006 left holds one more at $0.004, not two");
    await solveAll(() => SOLVED("B", 0.004));
    const spent = pool.provider("paid")!.spentTodayUsd;
    assert.ok(spent <= 0.01 + 1e-9, `spent ${spent} within the $0.01 budget`);
    assert.equal(upstream.pending("submit").length, 0, "$0.002 left pays for no image at $0.004");
    assert.equal(pool.provider("paid")!.budgetSpent, true, "images only, and $0.002 left pays for none: spent (another type of unknown cost could still go out alone)");
    assert.equal(tasks.filter((t) => t.status === "queued").length, 8, "the rest wait, none lost");
  });

  test("a type of unknown cost goes out alone of its type, not only when the provider holds nothing: tasks of a known type out do not starve it", async () => {
    const { pool, upstream, clock, solveAll } = rig({ priceUsd: () => 0.001, dailyBudgetUsd: 1 });
    pool.enqueue("image", IMAGE);
    await solveAll(() => SOLVED("A", 0.001));
    pool.enqueue("image", IMAGE);
    assert.equal(upstream.pending("submit").length, 1, "images' cost is known");
    const first = pool.enqueue("turnstile", TURNSTILE);
    const second = pool.enqueue("turnstile", TURNSTILE);
    const sent = () => upstream.pending("submit").map((c) => c.arg);
    assert.equal(first.status, "queued");
    assert.equal(upstream.pending("submit").length, 2, `one turnstile goes out beside the image (${JSON.stringify(sent())})`);
    assert.equal(second.status, "queued", "the second waits until the first's cost is known");
    await clock.advance(30_000);
    assert.equal(pool.load().oldestQueuedAgeMs, 30_000, "and its wait is counted");
  });

  test("a reported cost above the file's price: later reservations follow the reported cost", async () => {
    const { pool, upstream, solveAll } = rig({ priceUsd: () => 0.001, dailyBudgetUsd: 0.01 });
    pool.enqueue("image", IMAGE);
    await solveAll(() => SOLVED("A", 0.003));
    assert.equal(pool.provider("paid")!.spentTodayUsd, 0.003, "charged what it reported, not the file's $0.001");
    for (let i = 0; i < 5; i++) pool.enqueue("image", IMAGE);
    assert.equal(upstream.pending("submit").length, 2, "$0.007 left holds two at $0.003 (seven at the file's price)");
  });

  test("a provider that bills unsolvable answers (anti-captcha) has them charged, and the second try adds to the task's cost", async () => {
    const { pool, solveAll } = rig({ priceUsd: () => 0.002, reportsCost: false, chargesUnsolvable: true });
    const t = pool.enqueue("image", IMAGE);
    await solveAll(() => UNSOLVABLE);
    assert.equal(pool.provider("paid")!.spentTodayUsd, 0.002, "the unsolvable answer was billed");
    assert.equal(t.status, "queued", "one more try");
    await solveAll(() => SOLVED("A"));
    assert.equal(t.status, "solved");
    assert.equal(t.costUsd, 0.004, "both answers cost");
    assert.equal(pool.provider("paid")!.spentTodayUsd, 0.004);
  });

  test("a provider that does not bill unsolvable answers is not charged for them", async () => {
    const { pool, solveAll } = rig({ priceUsd: () => 0.002, reportsCost: false });
    pool.enqueue("image", IMAGE);
    await solveAll(() => UNSOLVABLE);
    assert.equal(pool.provider("paid")!.spentTodayUsd, 0);
  });
});
