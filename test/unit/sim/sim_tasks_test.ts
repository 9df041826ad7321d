import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { FakeClock } from "../../_support/fake_clock.ts";
import { mulberry32 } from "../../../src/sim/prng.ts";
import { SimTasks } from "../../../src/sim/sim_tasks.ts";

function tasks(clock: FakeClock, balanceUsd = 1, threads = 2): SimTasks {
  return new SimTasks(clock, mulberry32(7), balanceUsd, { image: 1_000, token: 5_000 }, 0.25, threads);
}

describe("SimTasks", () => {
  test("a task is ready after its kind's solve time, with a kind-shaped answer", () => {
    const clock = new FakeClock();
    const t = tasks(clock);
    const image = t.create("k", "image");
    const token = t.create("k", "token");
    assert.equal(image.readyAt, clock.now() + 1_000);
    assert.equal(token.readyAt, clock.now() + 5_000);
    assert.match(image.answer as string, /^[a-z2-9]{6}$/);
    assert.match(token.answer as string, /^03AFcWeA[\w-]{400}$/);
    assert.notEqual(image.id, token.id);
    assert.match(image.id, /^\d{11}$/);
  });

  test("busy counts a key's unsolved tasks, freeing them as time passes", async () => {
    const clock = new FakeClock();
    const t = tasks(clock);
    t.create("k", "image");
    t.create("k", "token");
    t.create("other", "image");
    assert.equal(t.busy("k"), 2);
    await clock.advance(1_000);
    assert.equal(t.busy("k"), 1);
    await clock.advance(4_000);
    assert.equal(t.busy("k"), 0);
    assert.equal(t.busy("nobody"), 0);
    assert.equal(t.size, 3);
  });

  test("a task is found only with the key that created it", () => {
    const t = tasks(new FakeClock());
    const task = t.create("k", "image");
    assert.equal(t.get(task.id, "k"), task);
    assert.equal(t.get(task.id, "other"), undefined);
    assert.equal(t.get("nope", "k"), undefined);
  });

  test("delivering charges the price once, never below zero", () => {
    const t = tasks(new FakeClock(), 0.3);
    const a = t.create("k", "image");
    const b = t.create("k", "image");
    t.deliver(a);
    t.deliver(a);
    assert.equal(t.balanceUsd, 0.05);
    assert.ok(a.delivered);
    t.deliver(b);
    assert.equal(t.balanceUsd, 0);
  });

  test("each kind is charged its own price; spentUsd and charged count what the balance lost, a clamped charge only its part", () => {
    const t = new SimTasks(new FakeClock(), mulberry32(7), 0.01, { image: 1_000, token: 5_000 }, { image: 0.001, token: 0.00299 }, 10);
    t.deliver(t.create("k", "image"));
    t.deliver(t.create("k", "token"));
    assert.deepEqual([t.balanceUsd, t.spentUsd, t.charged], [0.00601, 0.00399, { image: 1, token: 1 }]);
    t.deliver(t.create("k", "token"));
    t.deliver(t.create("k", "token"));
    assert.deepEqual([t.balanceUsd, t.spentUsd, t.charged], [0.00003, 0.00997, { image: 1, token: 3 }]);
    t.deliver(t.create("k", "token"));
    assert.deepEqual([t.balanceUsd, t.spentUsd], [0, 0.01], "clamped at zero: only what was there");
    t.resetSpend();
    assert.deepEqual([t.spentUsd, t.charged], [0, { image: 0, token: 0 }]);
  });

  test("overdraws: the balance may go below zero by a full price; charge() takes an unsolved task's price once", () => {
    const t = new SimTasks(new FakeClock(), mulberry32(7), 0.001, { image: 1_000, token: 5_000 }, { image: 0.0005, token: 0.002 }, 10, { overdraws: true });
    const task = t.create("k", "token");
    t.charge(task);
    t.deliver(task);
    assert.deepEqual([t.balanceUsd, t.spentUsd, t.charged.token], [-0.001, 0.002, 1]);
  });

  test("uuid ids are version-4 UUIDs drawn from the seed; an at-once task is ready and takes no thread", () => {
    const clock = new FakeClock();
    const make = () => new SimTasks(clock, mulberry32(9), 1, { image: 1_000, token: 5_000 }, 0.001, 1, { ids: "uuid" });
    const [a, b] = [make(), make()];
    const task = a.create("k", "image", undefined, undefined, true);
    assert.match(task.id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(b.create("k", "image", undefined, undefined, true).id, task.id, "the same seed, the same id");
    assert.equal(task.readyAt, clock.now());
    assert.equal(a.busy("k"), 0);
  });

  test("the unsolvable ratio marks tasks unsolvable", () => {
    const t = tasks(new FakeClock());
    t.unsolvableRatio = 1;
    assert.ok(t.create("k", "image").unsolvable);
    t.unsolvableRatio = 0;
    assert.ok(!t.create("k", "image").unsolvable);
  });

  test("usage: busy threads over time, every key's (thread-seconds and the peak), counted afresh from a reset", async () => {
    const clock = new FakeClock();
    const t = tasks(clock);
    t.create("k", "image"); // 1 s
    t.create("other", "token"); // 5 s
    await clock.advance(500);
    assert.deepEqual(t.usage(), { busyThreadSeconds: 1, peakBusyThreads: 2 }, "two threads for half a second");
    await clock.advance(2000);
    assert.deepEqual(t.usage(), { busyThreadSeconds: 3.5, peakBusyThreads: 2 }, "the image's second and the token's 2.5 s");
    t.resetUsage();
    assert.deepEqual(t.usage(), { busyThreadSeconds: 0, peakBusyThreads: 1 });
    await clock.advance(10_000);
    assert.deepEqual(t.usage(), { busyThreadSeconds: 2.5, peakBusyThreads: 1 }, "the token's last 2.5 s");
  });
});
