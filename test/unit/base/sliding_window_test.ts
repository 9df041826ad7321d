import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { SlidingWindow } from "../../../src/base/sliding_window.ts";

describe("SlidingWindow", () => {
  test("counts outcomes inside the window and forgets older ones", () => {
    const w = new SlidingWindow(60_000, 60);
    w.record(0, true);
    w.record(500, false);
    w.record(30_000, false);
    assert.deepEqual(w.counts(30_000), { ok: 1, failed: 2 });
    assert.deepEqual(w.counts(59_999), { ok: 1, failed: 2 });
    assert.deepEqual(w.counts(60_000), { ok: 0, failed: 1 }, "the first second's bucket has slid out");
    assert.deepEqual(w.counts(90_000), { ok: 0, failed: 0 });
  });

  test("a reused bucket starts from zero", () => {
    const w = new SlidingWindow(10_000, 10);
    for (let i = 0; i < 5; i++) w.record(1_000, false);
    w.record(11_000, true);
    assert.deepEqual(w.counts(11_000), { ok: 1, failed: 0 });
  });

  test("reads are correct after long idle gaps", () => {
    const w = new SlidingWindow(5_000, 5);
    w.record(1_000, false);
    w.record(1_000_000, true);
    assert.deepEqual(w.counts(1_000_000), { ok: 1, failed: 0 });
  });
});
