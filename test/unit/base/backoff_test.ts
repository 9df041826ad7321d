import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Backoff } from "../../../src/base/backoff.ts";

describe("Backoff", () => {
  test("doubles up to the cap, with jitter between half and all of it", () => {
    const low = new Backoff({ baseMs: 100, maxMs: 1000, random: () => 0 });
    assert.deepEqual([1, 2, 3, 4, 5, 6].map(() => low.next()), [50, 100, 200, 400, 500, 500]);
    const high = new Backoff({ baseMs: 100, maxMs: 1000, random: () => 0.999999 });
    assert.deepEqual([1, 2, 3, 4, 5].map(() => high.next()), [100, 200, 400, 800, 1000]);
  });

  test("without jitter it is exactly base, twice base, ... up to the cap", () => {
    const b = new Backoff({ baseMs: 1000, maxMs: 30_000, jitter: "none", random: () => 0 });
    assert.deepEqual([1, 2, 3, 4, 5, 6, 7].map(() => b.next()), [1000, 2000, 4000, 8000, 16_000, 30_000, 30_000]);
    b.reset();
    assert.equal(b.next(), 1000);
  });

  test("reset starts over", () => {
    const b = new Backoff({ baseMs: 100, random: () => 0 });
    b.next();
    b.next();
    assert.equal(b.attempt, 2);
    b.reset();
    assert.equal(b.next(), 50);
  });

  test("stays finite after many failures", () => {
    const b = new Backoff({ baseMs: 1000, maxMs: 60_000 });
    for (let i = 0; i < 10_000; i++) b.next();
    const d = b.next();
    assert.ok(d >= 30_000 && d <= 60_000, String(d));
  });
});
