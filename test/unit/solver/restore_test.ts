import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { silentLogger } from "../../../src/base/log.ts";
import type { ReplayedTask, TaskJournal } from "../../../src/solver/journal_port.ts";
import { SolverPool, SUBMIT_UNCERTAIN } from "../../../src/solver/pool.ts";
import type { Task } from "../../../src/tasks/task.ts";
import type { TaskParams } from "../../../src/tasks/task_catalogue.ts";
import { FakeClock, settle } from "../../_support/fake_clock.ts";
import { FakeUpstream, RecordingHealth } from "./_fake_upstream.ts";
import { PNG_B64 } from "../../_support/images.ts";

const IMAGE: TaskParams = { type: "image", image: PNG_B64 };

/** A journal port that records what it is told; `failSubmitting` makes the durable submit record fail. */
class RecordingJournal implements TaskJournal {
  readonly records: string[] = [];
  failSubmitting = false;
  accepted(task: Task): Promise<void> {
    this.records.push(`accept ${task.id}`);
    return Promise.resolve();
  }
  submitting(task: Task): Promise<void> {
    this.records.push(`submitting ${task.id}`);
    return this.failSubmitting ? Promise.reject(new Error("EIO")) : Promise.resolve();
  }
  submitted(task: Task): void {
    this.records.push(`submitted ${task.id} ${task.upstreamId}`);
  }
  unsubmitted(task: Task): void {
    this.records.push(`unsubmitted ${task.id}`);
  }
  ended(task: Task): void {
    this.records.push(`end ${task.id} ${task.status}`);
  }
}

function rig() {
  const clock = new FakeClock();
  const upstream = new FakeUpstream();
  const journal = new RecordingJournal();
  const pool = new SolverPool({
    clock,
    upstream,
    journal,
    health: new RecordingHealth(),
    log: silentLogger,
    limits: { threads: 4, queueMax: 10 },
    timing: { taskTimeoutMs: 180_000, firstPollMs: { image: 5000, token: 15_000 }, pollIntervalMs: 5000 },
    random: () => 0,
  });
  return { clock, upstream, journal, pool };
}

function replayed(id: string, now: number, extra: Partial<ReplayedTask> = {}): ReplayedTask {
  return { id, type: "image", params: IMAGE, createdAt: now - 1000, deadlineAt: now + 60_000, upstreamId: undefined, uncertain: false, submissions: 0, ...extra };
}

describe("SolverPool restore", () => {
  test("polls what the upstream holds, fails the uncertain and the expired, queues the rest in order", async () => {
    const { pool, upstream, clock, journal } = rig();
    const now = clock.now();
    const counts = pool.restore([
      replayed("queued-late", now, { createdAt: now - 10 }),
      replayed("held", now, { upstreamId: "u9", submissions: 1 }),
      replayed("uncertain", now, { uncertain: true, provider: "captchaai" }),
      replayed("expired", now, { deadlineAt: now }),
      replayed("queued-early", now, { createdAt: now - 5000 }),
    ]);
    assert.deepEqual(counts, { polled: 1, queued: 2, uncertain: 1, expired: 1, gone: 0, ended: 0 });
    assert.equal(pool.find("uncertain")?.error?.code, SUBMIT_UNCERTAIN);
    assert.equal(pool.find("uncertain")?.provider, "captchaai", "named: the submit may have reached it");
    assert.equal(pool.find("expired")?.error?.code, "timeout");
    assert.equal(pool.find("held")?.status, "submitted");
    await settle();
    assert.deepEqual(journal.records.filter((r) => r.startsWith("submitting")), ["submitting queued-early", "submitting queued-late"]);
    assert.equal(upstream.count("poll"), 0);
    await clock.advance(5000);
    assert.equal(upstream.pending("poll")[0]?.arg, "u9", "polled by its id after one interval, never submitted again");
    assert.equal(pool.inFlight, 3);
  });

  test("ended tasks from the journal answer again as they ended, are not journaled again, and leave with their retention", async () => {
    const { pool, clock, journal, upstream } = rig();
    const now = clock.now();
    const counts = pool.restore([], [
      { id: "s", type: "image", status: "solved", createdAt: now - 9000, endedAt: now - 5000, upstreamId: "u1", solution: "ABC", error: undefined },
      { id: "f", type: "turnstile", status: "failed", createdAt: now - 9000, endedAt: now - 4000, upstreamId: undefined, solution: undefined, error: { code: "ERROR_X", message: "m" }, costUsd: 0.002 },
    ]);
    assert.equal(counts.ended, 2);
    assert.equal(pool.find("f")!.costUsd, 0.002, "its cost answers again");
    const s = pool.find("s")!;
    assert.deepEqual([s.status, s.solution, s.upstreamId, s.endedAt], ["solved", "ABC", "u1", now - 5000]);
    assert.deepEqual(pool.find("f")!.error, { code: "ERROR_X", message: "m" });
    assert.equal(pool.queueDepth, 0);
    await settle();
    assert.deepEqual(journal.records, [], "the journal already holds them");
    assert.equal(upstream.count("submit"), 0);
    await clock.advance(3_600_000 - 5000 + 1);
    assert.equal(pool.find("s"), undefined, "gone an hour after it ended, not an hour after the restart");
    assert.ok(pool.find("f"));
  });

  test("an ended task restored from the journal stays its client's (only that client may read it), and holds none of its slots", () => {
    const { pool, clock } = rig();
    const now = clock.now();
    pool.restore([], [{ id: "c", type: "image", status: "solved", createdAt: now - 9000, endedAt: now - 5000, upstreamId: "u1", solution: "ABC", error: undefined, client: "alpha" }]);
    assert.equal(pool.find("c")!.params.client, "alpha");
    assert.equal(pool.openOf("alpha"), 0);
  });
});

describe("SolverPool task ids", () => {
  test("SolverPool ids after a restore are integers above every replayed one, and UUID ids from older journals still restore", () => {
    const { pool, clock } = rig();
    const now = clock.now();
    const ahead = String((Math.floor((now - Date.UTC(2025, 0, 1)) * 4) + 1_000_000) * 1024 + 5); // a burst ran the old process ahead of the clock
    pool.restore([replayed(ahead, now), replayed("3f1c2a9e-8d7b-4c6a-9f0e-1b2c3d4e5f60", now)]);
    assert.ok(pool.find("3f1c2a9e-8d7b-4c6a-9f0e-1b2c3d4e5f60"), "an old UUID id still answers");
    const id = pool.enqueue("image", IMAGE).id;
    assert.match(id, /^[1-9]\d*$/);
    assert.ok(Number(id) > Number(ahead) && Number.isSafeInteger(Number(id)));
  });
});

describe("SolverPool with a journal", () => {
  test("the submit waits for its durable record; a record that cannot be written is not sent and is retried", async () => {
    const { pool, upstream, clock, journal } = rig();
    journal.failSubmitting = true;
    const task = pool.enqueue("image", IMAGE);
    assert.equal(upstream.count("submit"), 0, "nothing sent before the record is durable");
    await settle();
    assert.equal(task.status, "queued");
    assert.equal(upstream.count("submit"), 0);
    journal.failSubmitting = false;
    await clock.advance(500);
    assert.equal(upstream.count("submit"), 1);
    upstream.answer("submit", { kind: "ok", value: "u1" });
    await settle();
    assert.deepEqual(journal.records, [`accept ${task.id}`, `submitting ${task.id}`, `unsubmitted ${task.id}`, `submitting ${task.id}`, `submitted ${task.id} u1`]);
  });

  test("draining leaves queued tasks to the journal; suspend keeps every open task out of it", async () => {
    const { pool, upstream, journal } = rig();
    const tasks = [1, 2, 3, 4, 5].map(() => pool.enqueue("image", IMAGE));
    await settle();
    assert.equal(pool.stopAccepting(), 0);
    assert.equal(tasks[4]!.status, "queued");
    const out = upstream.pending("submit").length;
    assert.ok(out >= 2, `submits under way: ${out}`);
    assert.equal(pool.suspend(), 5);
    await settle();
    assert.ok(upstream.pending("submit").length === 0 && upstream.count("submit") === out, "the submits under way were aborted");
    assert.ok(journal.records.every((r) => !r.startsWith("end") && !r.startsWith("unsubmitted")), journal.records.join("; "));
  });
});
