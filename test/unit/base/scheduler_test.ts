import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Scheduler } from "../../../src/base/scheduler.ts";
import { FakeClock } from "../../_support/fake_clock.ts";

describe("Scheduler", () => {
  test("runs jobs in due order, ties in insertion order", async () => {
    const clock = new FakeClock();
    const s = new Scheduler(clock);
    const ran: string[] = [];
    s.schedule(300, () => ran.push("c"));
    s.schedule(100, () => ran.push("a1"));
    s.schedule(100, () => ran.push("a2"));
    s.schedule(200, () => ran.push("b"));
    await clock.advance(99);
    assert.deepEqual(ran, []);
    await clock.advance(1);
    assert.deepEqual(ran, ["a1", "a2"]);
    await clock.advance(200);
    assert.deepEqual(ran, ["a1", "a2", "b", "c"]);
    assert.equal(s.size, 0);
  });

  test("keeps one clock timer however many jobs wait", () => {
    const clock = new FakeClock();
    const s = new Scheduler(clock);
    for (let i = 0; i < 5000; i++) s.schedule(1000 + (i % 97) * 10, () => {});
    assert.equal(s.size, 5000);
    assert.equal(clock.pendingCount, 1);
  });

  test("cancelled jobs never run and do not count", async () => {
    const clock = new FakeClock();
    const s = new Scheduler(clock);
    let ran = 0;
    const a = s.schedule(10, () => ran++);
    s.schedule(20, () => ran++);
    a.cancel();
    a.cancel();
    assert.equal(s.size, 1);
    await clock.advance(50);
    assert.equal(ran, 1);
  });

  test("an earlier job re-arms the timer; jobs scheduled while running wait for their time", async () => {
    const clock = new FakeClock();
    const s = new Scheduler(clock);
    const ran: number[] = [];
    s.schedule(1000, () => ran.push(1000));
    s.schedule(10, () => {
      ran.push(10);
      s.schedule(0, () => ran.push(11));
    });
    await clock.advance(10);
    assert.deepEqual(ran, [10, 11]);
    await clock.advance(990);
    assert.deepEqual(ran, [10, 11, 1000]);
  });

  test("a throwing job is reported and does not stop the others", async () => {
    const clock = new FakeClock();
    const errors: unknown[] = [];
    const s = new Scheduler(clock, (e) => errors.push(e));
    let ran = false;
    s.schedule(1, () => {
      throw new Error("boom");
    });
    s.schedule(1, () => (ran = true));
    await clock.advance(1);
    assert.equal(ran, true);
    assert.equal(errors.length, 1);
  });

  test("jobs run when due; stop drops everything", async () => {
    const clock = new FakeClock();
    const s = new Scheduler(clock);
    let ranAt = 0;
    s.schedule(500, () => (ranAt = clock.now()));
    const created = clock.now();
    await clock.advance(500);
    assert.equal(ranAt, created + 500);
    s.schedule(10, () => assert.fail("stopped"));
    s.stop();
    assert.equal(s.size, 0);
    await clock.advance(100);
  });
});
