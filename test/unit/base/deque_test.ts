import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Deque } from "../../../src/base/deque.ts";

describe("Deque", () => {
  test("is FIFO with unshift putting an item back at the front, across growth", () => {
    const d = new Deque<number>();
    for (let i = 0; i < 100; i++) d.push(i);
    assert.equal(d.shift(), 0);
    d.unshift(-1);
    assert.equal(d.length, 100);
    assert.equal(d.peek(), -1);
    assert.deepEqual([...d].slice(0, 3), [-1, 1, 2]);
    const out: number[] = [];
    while (d.length) out.push(d.shift()!);
    assert.deepEqual(out, [-1, ...Array.from({ length: 99 }, (_, i) => i + 1)]);
    assert.equal(d.shift(), undefined);
    assert.equal(d.peek(), undefined);
  });

  test("wraps around its ring without losing order", () => {
    const d = new Deque<number>();
    let next = 0;
    let expect = 0;
    for (let round = 0; round < 1000; round++) {
      d.push(next++);
      d.push(next++);
      assert.equal(d.shift(), expect++);
    }
    assert.equal(d.length, 1000);
    assert.equal(d.peek(), expect);
  });
});
