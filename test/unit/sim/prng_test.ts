import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { mulberry32, randomString } from "../../../src/sim/prng.ts";

describe("mulberry32", () => {
  test("repeats for a seed, differs across seeds, stays in [0, 1)", () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    const c = mulberry32(43);
    const xs = Array.from({ length: 1000 }, () => a());
    assert.deepEqual(xs, Array.from({ length: 1000 }, () => b()));
    assert.notDeepEqual(xs.slice(0, 10), Array.from({ length: 10 }, () => c()));
    assert.ok(xs.every((x) => x >= 0 && x < 1));
  });
});

describe("randomString", () => {
  test("draws n characters from the alphabet", () => {
    const s = randomString(mulberry32(1), 200, "ab9");
    assert.equal(s.length, 200);
    assert.match(s, /^[ab9]+$/);
    assert.ok(new Set(s).size === 3);
  });
});
