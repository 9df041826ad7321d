import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { mulberry32, randomString } from "../../../src/sim/prng.ts";

const draw = (seed: number, n: number) => {
  const r = mulberry32(seed);
  return Array.from({ length: n }, () => r());
};

describe("mulberry32", () => {
  test("a seed gives the same sequence every time (--seed repeats a run); another seed another one", () => {
    assert.deepEqual(draw(11, 50), draw(11, 50));
    assert.notDeepEqual(draw(11, 50), draw(12, 50));
    assert.equal(new Set(draw(11, 1000)).size, 1000, "no early cycle");
  });

  test("draws lie in [0, 1) and spread over it", () => {
    const xs = draw(3, 10_000);
    assert.ok(xs.every((x) => x >= 0 && x < 1));
    const buckets = [0, 0, 0, 0];
    for (const x of xs) buckets[Math.floor(x * 4)]!++;
    for (const b of buckets) assert.ok(b > 2000 && b < 3000, `quartiles ${buckets.join()}`);
  });
});

describe("randomString", () => {
  test("n characters, each from the alphabet, repeatable with the seed", () => {
    const s = randomString(mulberry32(5), 32, "ABC123");
    assert.equal(s.length, 32);
    assert.match(s, /^[ABC123]{32}$/);
    assert.equal(randomString(mulberry32(5), 32, "ABC123"), s);
    assert.equal(randomString(mulberry32(5), 0, "ABC"), "");
  });
});
