import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { TimeShare } from "../../../src/base/time_share.ts";

describe("TimeShare", () => {
  test("counts the time the condition held, a stretch under way included", () => {
    const t = new TimeShare(60_000, 60);
    t.set(10_000, true);
    t.set(25_000, false);
    assert.deepEqual(t.read(30_500), { heldMs: 15_000, spanMs: 59_500 }, "59 whole buckets and half the current one");
    t.set(40_000, true);
    assert.equal(t.read(45_000).heldMs, 20_000, "15 s done and 5 s under way");
  });

  test("forgets what slid out of the window, a bucket at a time", () => {
    const t = new TimeShare(60_000, 60);
    t.set(0, true);
    t.set(30_000, false);
    assert.equal(t.read(60_000).heldMs, 29_000, "the first second's bucket slid out");
    assert.equal(t.read(88_999).heldMs, 1000);
    assert.equal(t.read(89_000).heldMs, 0);
  });

  test("a stretch under way counts only from the window's start", () => {
    const t = new TimeShare(10_000, 10);
    t.set(0, true);
    assert.equal(t.read(100_000).heldMs, 9_000 + 0, "10 buckets of 1 s: 9 whole and the current one's 0 ms");
    assert.equal(t.read(100_500).heldMs, 9_500);
  });

  test("a stretch longer than the window fills only the buckets still in it; setting the same state twice changes nothing", () => {
    const t = new TimeShare(5_000, 5);
    t.set(1_000, true);
    t.set(2_000, true);
    t.set(1_000_000, false);
    assert.equal(t.read(1_000_000).heldMs, 4_000);
    t.set(1_000_000, false);
    assert.equal(t.read(1_002_000).heldMs, 2_000);
    assert.equal(t.on, false);
  });
});
