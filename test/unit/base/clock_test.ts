import assert from "node:assert/strict";
import { getEventListeners } from "node:events";
import { describe, test } from "node:test";
import { sleep, systemClock } from "../../../src/base/clock.ts";
import { FakeClock, settle } from "../../_support/fake_clock.ts";

/** Whether `p` has settled, without waiting for it. */
async function state(p: Promise<unknown>): Promise<"pending" | "resolved" | "rejected"> {
  let s: "pending" | "resolved" | "rejected" = "pending";
  p.then(() => (s = "resolved"), () => (s = "rejected"));
  await settle();
  return s;
}

describe("sleep", () => {
  test("resolves once the clock has moved `ms`, not before", async () => {
    const clock = new FakeClock();
    const p = sleep(clock, 1000);
    await clock.advance(999);
    assert.equal(await state(p), "pending");
    await clock.advance(1);
    assert.equal(await state(p), "resolved");
    assert.equal(clock.pendingCount, 0);
  });

  test("an abort while it waits rejects with the signal's reason and cancels the timer", async () => {
    const clock = new FakeClock();
    const ac = new AbortController();
    const p = sleep(clock, 60_000, ac.signal);
    assert.equal(clock.pendingCount, 1);
    const reason = new Error("draining");
    ac.abort(reason);
    await assert.rejects(p, (err) => err === reason);
    assert.equal(clock.pendingCount, 0, "no timer left behind");
  });

  test("an already aborted signal rejects at once and sets no timer", async () => {
    const clock = new FakeClock();
    const p = sleep(clock, 1000, AbortSignal.abort("gone"));
    await assert.rejects(p, (err) => err === "gone");
    assert.equal(clock.pendingCount, 0);
  });

  test("once it has resolved, an abort changes nothing and its listener is gone", async () => {
    const clock = new FakeClock();
    const ac = new AbortController();
    const p = sleep(clock, 10, ac.signal);
    assert.equal(getEventListeners(ac.signal, "abort").length, 1);
    await clock.advance(10);
    assert.equal(await state(p), "resolved");
    assert.equal(getEventListeners(ac.signal, "abort").length, 0, "the abort listener was removed");
    ac.abort();
    assert.equal(await state(p), "resolved");
  });
});

describe("systemClock", () => {
  test("now() is epoch milliseconds and never goes back", () => {
    const a = systemClock.now();
    const b = systemClock.now();
    assert.ok(b >= a);
    assert.ok(Math.abs(a - Date.now()) < 60_000, "close to the wall clock");
  });

  test("setTimeout fires in order; a cancelled timer never fires", async () => {
    const fired: string[] = [];
    const cancelled = systemClock.setTimeout(() => fired.push("cancelled"), 0);
    await new Promise<void>((resolve) => {
      systemClock.setTimeout(() => fired.push("first"), 0);
      systemClock.setTimeout(() => (fired.push("second"), resolve()), 0);
      cancelled.cancel();
    });
    assert.deepEqual(fired, ["first", "second"]);
  });
});
