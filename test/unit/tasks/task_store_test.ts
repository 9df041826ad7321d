import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { withoutPayload, type Task } from "../../../src/tasks/task.ts";
import { payloadBytes, TaskStore } from "../../../src/tasks/task_store.ts";
import { FakeClock, settle } from "../../_support/fake_clock.ts";
import { makeTask } from "../../_support/tasks.ts";
import { PNG_B64 } from "../../_support/images.ts";

function end(store: { ended(task: Task): void }, task: Task, status: "solved" | "failed" = "solved"): void {
  task.status = status;
  store.ended(task);
}

/** Whether `p` has settled, without waiting for it. */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  void p.then(() => (done = true));
  await settle();
  return done;
}

describe("TaskStore", () => {
  test("openOf counts each client's open tasks: up on add, down once on the end, an ended (restored) task never counted", () => {
    const store = new TaskStore(new FakeClock());
    const of = (client: string | undefined, id: string, over: Partial<Task> = {}) => makeTask(id, { params: { type: "image", image: PNG_B64, ...(client ? { client } : {}) }, ...over });
    const [a1, a2, b1, anon] = [of("alpha", "1"), of("alpha", "2"), of("bravo", "3"), of(undefined, "4")];
    for (const t of [a1!, a2!, b1!, anon!]) store.add(t);
    store.add(of("alpha", "5", { status: "solved", endedAt: 500 }));
    assert.deepEqual([store.openOf("alpha"), store.openOf("bravo"), store.openOf("nobody")], [2, 1, 0]);
    assert.deepEqual([store.atClientLimit("alpha", 2), store.atClientLimit("alpha", 3), store.atClientLimit("alpha", undefined), store.atClientLimit("nobody", 0)], [true, false, false, true]);
    end(store, a1!);
    end(store, a1!); // a second end of the same task frees nothing more
    assert.equal(store.openOf("alpha"), 1);
    a2!.params = withoutPayload(a2!.params); // the pool empties the image first: the client stays
    end(store, a2!, "failed");
    end(store, b1!);
    assert.deepEqual([store.openOf("alpha"), store.openOf("bravo")], [0, 0]);
  });

  test("holds tasks by id; open() and openCount are the tasks not yet ended", () => {
    const store = new TaskStore(new FakeClock());
    const [a, b, c] = ["a", "b", "c"].map((id) => makeTask(id));
    for (const t of [a!, b!, c!]) store.add(t);
    b!.status = "submitted";
    end(store, c!, "failed");
    assert.equal(store.get("a"), a);
    assert.equal(store.get("nope"), undefined);
    assert.deepEqual([...store.open()].map((t) => t.id), ["a", "b"]);
    assert.deepEqual([store.openCount, store.finishedCount], [2, 1]);
  });

  test("an ended task is kept for finishedTtlMs, then forgotten; open tasks are kept however old", async () => {
    const clock = new FakeClock();
    const store = new TaskStore(clock, { finishedTtlMs: 60_000 });
    const old = makeTask("old");
    const done = makeTask("done");
    store.add(old);
    store.add(done);
    await clock.advance(10_000);
    end(store, done);
    await clock.advance(59_999);
    assert.equal(store.get("done"), done, "one tick before its TTL");
    await clock.advance(1);
    assert.equal(store.get("done"), undefined, "gone at its TTL");
    assert.equal(store.finishedCount, 0);
    await clock.advance(10 * 3_600_000);
    assert.equal(store.get("old"), old, "an open task is never evicted");
    assert.equal(store.openCount, 1);
  });

  test("beyond maxFinished the task that ended first goes first, whatever the order they were added", () => {
    const store = new TaskStore(new FakeClock(), { maxFinished: 2 });
    const [a, b, c, d] = ["a", "b", "c", "d"].map((id) => makeTask(id));
    for (const t of [a!, b!, c!, d!]) store.add(t);
    end(store, c!);
    end(store, a!);
    end(store, d!);
    assert.deepEqual(["a", "b", "c", "d"].map((id) => store.get(id)?.id), ["a", "b", undefined, "d"]);
    assert.deepEqual([store.finishedCount, store.openCount], [2, 1]);
  });

  test("wait resolves when the task ends, for every waiter, and holds none afterwards", async () => {
    const clock = new FakeClock();
    const store = new TaskStore(clock);
    const t = makeTask("t");
    store.add(t);
    const waits = [store.wait("t", 30_000), store.wait("t", 60_000)];
    assert.equal(store.waiterCount, 2);
    assert.equal(await settled(Promise.all(waits)), false);
    end(store, t);
    assert.equal(await settled(Promise.all(waits)), true);
    assert.equal(store.waiterCount, 0);
    assert.equal(clock.pendingCount, 0, "their timers were cancelled");
  });

  test("wait gives up after timeoutMs on the clock; the task is untouched", async () => {
    const clock = new FakeClock();
    const store = new TaskStore(clock);
    const t = makeTask("t");
    store.add(t);
    const w = store.wait("t", 5_000);
    await clock.advance(4_999);
    assert.equal(await settled(w), false);
    await clock.advance(1);
    assert.equal(await settled(w), true);
    assert.equal(store.waiterCount, 0);
    assert.equal(store.get("t")!.status, "queued");
  });

  test("an abort (the client went away) drops only its waiter", async () => {
    const clock = new FakeClock();
    const store = new TaskStore(clock);
    store.add(makeTask("t"));
    const ac = new AbortController();
    const gone = store.wait("t", 60_000, ac.signal);
    const stays = store.wait("t", 60_000);
    ac.abort();
    assert.equal(await settled(gone), true);
    assert.equal(await settled(stays), false);
    assert.equal(store.waiterCount, 1);
    assert.equal(clock.pendingCount, 1, "the aborted waiter's timer was cancelled");
  });

  test("wait returns at once, holding nothing, for an unknown or ended task, no time, or an aborted signal", async () => {
    const clock = new FakeClock();
    const store = new TaskStore(clock);
    const t = makeTask("t");
    const e = makeTask("e");
    store.add(t);
    store.add(e);
    end(store, e);
    for (const w of [store.wait("nope", 1000), store.wait("e", 1000), store.wait("t", 0), store.wait("t", 1000, AbortSignal.abort())]) {
      assert.equal(await settled(w), true);
    }
    assert.equal(store.waiterCount, 0);
    assert.equal(clock.pendingCount, 0);
  });
  test("releaseWaiters (the shutdown deadline) answers every waiter at once and later waits return at once", async () => {
    const clock = new FakeClock();
    const store = new TaskStore(clock);
    const [a, b] = [makeTask("a"), makeTask("b")];
    store.add(a);
    store.add(b);
    const waits = [store.wait("a", 60_000), store.wait("a", 60_000), store.wait("b", 60_000)];
    assert.equal(store.released, false);
    assert.equal(store.releaseWaiters(), 3);
    for (const w of waits) assert.equal(await settled(w), true);
    assert.equal(store.waiterCount, 0);
    assert.equal(await settled(store.wait("b", 60_000)), true, "no new wait after the deadline");
    assert.equal(store.released, true);
    assert.equal(a.status, "queued", "the tasks are untouched");
  });
});

describe("TaskStore bytes", () => {
  const withSolution = (id: string, size: number) => {
    const t = makeTask(id);
    t.solution = "s".repeat(size);
    return t;
  };

  test("counts open tasks' payload bytes, moves them to finished when they end, with the result", () => {
    const store = new TaskStore(new FakeClock());
    const t = makeTask("a");
    store.add(t);
    const payload = payloadBytes(t);
    assert.deepEqual([store.openBytes, store.finishedBytes], [payload, 0]);
    t.solution = "x".repeat(1000);
    end(store, t);
    assert.deepEqual([store.openBytes, store.finishedBytes], [0, payload + 1000]);
  });

  test("beyond maxFinishedBytes the task that ended first is evicted first, until the rest fit", () => {
    const store = new TaskStore(new FakeClock(), { maxFinishedBytes: 200_000 });
    const tasks = ["a", "b", "c", "d"].map((id) => withSolution(id, 60_000));
    for (const t of tasks) store.add(t);
    for (const t of tasks) end(store, t);
    assert.equal(store.get("a"), undefined, "the oldest ended went to make room");
    assert.deepEqual(["b", "c", "d"].map((id) => store.get(id)?.id), ["b", "c", "d"]);
    assert.ok(store.finishedBytes <= 200_000, `${store.finishedBytes}`);
    assert.equal(store.finishedCount, 3);
  });

  test("an already-ended task added (restored) is retained and counted once", () => {
    const clock = new FakeClock();
    const store = new TaskStore(clock);
    const t = withSolution("r", 500);
    t.status = "solved";
    t.endedAt = clock.now();
    store.add(t);
    store.ended(t);
    assert.equal(store.openBytes, 0);
    assert.equal(store.finishedBytes, payloadBytes(t) + 500);
    assert.equal(store.finishedCount, 1);
  });
});

describe("TaskStore bytes of emptied payloads", () => {
  test("an ended task whose image was emptied counts only what it still holds", () => {
    const store = new TaskStore(new FakeClock());
    const t = makeTask("big");
    t.params = { type: "image", image: "A".repeat(100_000) };
    store.add(t);
    assert.ok(store.openBytes >= 100_000);
    t.params = withoutPayload(t.params);
    t.solution = "abc";
    end(store, t);
    assert.equal(store.openBytes, 0);
    assert.ok(store.finishedBytes < 100, `${store.finishedBytes}`);
  });
});
