import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { MINUTE_MS, MinuteRing, RING_MINUTES, minuteOf } from "../../../src/status_report/history_rings.ts";

const ring = () => new MinuteRing<{ n: number }>(() => ({ n: 0 }), (s) => void (s.n = 0));

describe("MinuteRing", () => {
  test("MinuteRing keeps one slot per minute; a minute nothing was recorded in is a gap", () => {
    const r = ring();
    r.at(1000)!.n += 2;
    r.at(1000)!.n += 1;
    r.at(1005)!.n = 7;
    const w = r.window(1005);
    assert.equal(w.length, RING_MINUTES);
    assert.deepEqual(w.slice(-6).map((m) => [m.minute, m.slot?.n]), [[1000, 3], [1001, undefined], [1002, undefined], [1003, undefined], [1004, undefined], [1005, 7]]);
    assert.equal(w[0]!.minute, 1005 - RING_MINUTES + 1);
    assert.equal(w[0]!.slot, undefined);
  });

  test("MinuteRing reuses a slot an hour later, emptied, and refuses a minute older than its slot holds", () => {
    const r = ring();
    const first = r.at(1000)!;
    first.n = 5;
    const later = r.at(1000 + RING_MINUTES)!;
    assert.equal(later, first, "the same object: nothing is allocated");
    assert.equal(later.n, 0, "emptied for the new minute");
    assert.equal(r.peek(1000), undefined, "the old minute reads as a gap, not as the new one's value");
    assert.equal(r.at(1000), undefined, "too old to record");
    assert.equal(r.window(1000 + RING_MINUTES).filter((m) => m.slot).length, 1);
  });

  test("MinuteRing's size is fixed whatever is recorded", () => {
    const r = ring();
    for (let m = 0; m < 10 * RING_MINUTES; m++) r.at(m)!.n++;
    assert.equal(r.size, RING_MINUTES);
    assert.equal(r.window(10 * RING_MINUTES - 1).every((m) => m.slot?.n === 1), true);
  });

  test("minuteOf counts whole minutes since the epoch", () => {
    assert.deepEqual([0, MINUTE_MS - 1, MINUTE_MS, 3 * MINUTE_MS + 5].map(minuteOf), [0, 0, 1, 3]);
  });
});
