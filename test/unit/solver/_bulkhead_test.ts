import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Bulkhead } from "../../../src/solver/_bulkhead.ts";
import type { TaskKind } from "../../../src/tasks/task_catalogue.ts";

const heads = (image?: number, token?: number) => (k: TaskKind) => (k === "image" ? image : token);

describe("Bulkhead", () => {
  test("default: each kind gets half (image the odd one) and borrows idle capacity", () => {
    const b = new Bulkhead(5);
    assert.equal(b.share("image"), 3);
    assert.equal(b.share("token"), 2);
    for (let i = 0; i < 5; i++) {
      assert.equal(b.pick(heads(undefined, 1)), "token", "token borrows while no image waits");
      b.acquire("token");
    }
    assert.equal(b.pick(heads(1, 1)), undefined, "all threads busy");
    b.release("token");
    assert.equal(b.pick(heads(5, 1)), "image", "a freed slot goes to the kind under its share, even if younger");
  });

  test("default: a kind at its share does not borrow while the other has work queued", () => {
    const b = new Bulkhead(4);
    b.acquire("token");
    b.acquire("token");
    assert.equal(b.pick(heads(undefined, 1)), "token");
    assert.equal(b.pick(heads(2, 1)), "image");
    b.acquire("image");
    b.acquire("image");
    assert.equal(b.pick(heads(3, 1)), undefined);
  });

  test("explicit limits are hard caps", () => {
    const b = new Bulkhead(10, { image: 2, token: 3 });
    b.acquire("token");
    b.acquire("token");
    b.acquire("token");
    assert.equal(b.pick(heads(undefined, 1)), undefined, "token capped at 3 though 7 threads are idle");
    assert.equal(b.pick(heads(1, 1)), "image");
  });

  test("oldest head first when both are under their share", () => {
    const b = new Bulkhead(4);
    assert.equal(b.pick(heads(20, 10)), "token");
    assert.equal(b.pick(heads(10, 20)), "image");
  });

  test("release never goes below zero", () => {
    const b = new Bulkhead(2);
    b.release("image");
    assert.equal(b.total, 0);
  });

  test("limitTo: the shares apply within a moving cap (a plan's adaptive limit): the fair split halves it, hard caps scale to it", () => {
    const fair = new Bulkhead(12);
    fair.limitTo(5);
    assert.deepEqual([fair.cap, fair.share("image"), fair.share("token")], [5, 3, 2]);
    for (let i = 0; i < 5; i++) fair.acquire("token");
    assert.equal(fair.may("token", false), false, "never past the cap");
    fair.limitTo(12);
    assert.equal(fair.may("token", false), true);
    const hard = new Bulkhead(12, { image: 4, token: 8 });
    hard.limitTo(6);
    assert.deepEqual([hard.share("image"), hard.share("token")], [2, 4]);
    hard.limitTo(1);
    assert.deepEqual([hard.share("image"), hard.share("token")], [1, 1], "one each at least, within the cap of one");
    hard.limitTo(12);
    assert.deepEqual([hard.share("image"), hard.share("token")], [4, 8], "as configured at the whole plan");
  });

  test("fair split of one thread (--threads 1, or a plan's limit squeezed to 1): the oldest head of either kind gets it, no kind starves", () => {
    for (const b of [new Bulkhead(1), (() => { const x = new Bulkhead(12); x.limitTo(1); return x; })()]) {
      assert.equal(b.may("token", true), true, "a token task is not held back for ever by queued images");
      assert.equal(b.pick(heads(5, 1)), "token", "the token task came first");
      assert.equal(b.pick(heads(1, 5)), "image");
      b.acquire("token");
      assert.equal(b.pick(heads(1, 5)), undefined, "never past the cap of one");
    }
  });
});
