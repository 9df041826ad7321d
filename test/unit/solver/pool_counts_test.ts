/**
 * A property of the pool's counts over random task life cycles: the queue depth and the in-flight
 * count are derived so they cannot drift, whatever path a task takes (accepted or refused at submit,
 * SUBMIT_UNCERTAIN, a refusal for money or threads, the key refused, unsolvable and retried, client
 * mistakes, timeouts, restored from a journal, drained, suspended, shut down). Seeded: a failure
 * names its seed.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { silentLogger } from "../../../src/base/log.ts";
import { SolverPool } from "../../../src/solver/pool.ts";
import type { Outcome } from "../../../src/solver/upstream_port.ts";
import type { Task } from "../../../src/tasks/task.ts";
import type { TaskParams } from "../../../src/tasks/task_catalogue.ts";
import { mulberry32 } from "../../../src/sim/prng.ts";
import { FakeClock, settle } from "../../_support/fake_clock.ts";
import { FakeUpstream, RecordingHealth } from "./_fake_upstream.ts";
import { PNG_B64 } from "../../_support/images.ts";

const IMAGE: TaskParams = { type: "image", image: PNG_B64 };
const TOKEN: TaskParams = { type: "turnstile", sitekey: "0x4AAAAAAAunit", pageurl: "https://example.com/" };

const SUBMIT_ANSWERS: Outcome<string>[] = [
  { kind: "ok", value: "u" },
  { kind: "transient", code: "TIMEOUT", message: "", maybeDelivered: true },
  { kind: "transient", code: "CONNECT_TIMEOUT", message: "", maybeDelivered: false },
  { kind: "back_off", code: "ERROR_NO_SLOT_AVAILABLE", message: "" },
  { kind: "back_off", code: "ERROR_ZERO_BALANCE", message: "" },
  { kind: "fatal_account", code: "ERROR_WRONG_USER_KEY", message: "" },
  { kind: "task_failed", code: "ERROR_ZERO_CAPTCHA_FILESIZE", message: "", blame: "client" },
  { kind: "not_ready" },
];
const POLL_ANSWERS: Outcome<string>[] = [
  { kind: "ok", value: "answer" },
  { kind: "not_ready" },
  { kind: "task_failed", code: "ERROR_CAPTCHA_UNSOLVABLE", message: "", blame: "worker" },
  { kind: "transient", code: "HTTP_500", message: "", maybeDelivered: true },
  { kind: "back_off", code: "ERROR_NO_SLOT_AVAILABLE", message: "" },
];

function checkCounts(pool: SolverPool, tasks: readonly Task[], seed: number, step: number): void {
  const where = `seed ${seed}, step ${step}`;
  assert.ok(pool.queueDepth >= 0, `queue depth ${pool.queueDepth} (${where})`);
  assert.ok(pool.inFlight >= 0, `in flight ${pool.inFlight} (${where})`);
  const open = tasks.filter((t) => t.status === "queued" || t.status === "submitted").length;
  assert.ok(pool.queueDepth <= tasks.filter((t) => t.status === "queued").length, `queue depth ${pool.queueDepth} above the queued tasks (${where})`);
  assert.ok(pool.queueDepth + pool.inFlight <= open || pool.state !== "running", `counts above the open tasks (${where})`);
}

async function runSeed(seed: number): Promise<void> {
  const random = mulberry32(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const clock = new FakeClock();
  const upstream = new FakeUpstream();
  const pool = new SolverPool({
    clock, upstream, health: new RecordingHealth(), log: silentLogger,
    limits: { threads: 1 + Math.floor(random() * 4), queueMax: 8 },
    timing: { taskTimeoutMs: 60_000, firstPollMs: { image: 1000, token: 3000 }, pollIntervalMs: 1000 }, random,
  });
  const tasks: Task[] = [];
  const now = clock.now();
  const restored = Array.from({ length: Math.floor(random() * 4) }, (_, i) => ({
    id: `r${i}`, type: "image" as const, params: IMAGE, createdAt: now - 1000 * i, deadlineAt: now + (random() < 0.2 ? -1 : 30_000),
    upstreamId: random() < 0.5 ? `u-r${i}` : undefined, uncertain: random() < 0.3, submissions: 1,
  }));
  pool.restore(restored);
  for (const r of restored) tasks.push(pool.find(r.id)!);
  for (let step = 0; step < 300; step++) {
    const roll = random();
    if (roll < 0.3) {
      try {
        tasks.push(pool.enqueue(random() < 0.7 ? "image" : "turnstile", random() < 0.7 ? IMAGE : TOKEN));
      } catch {
        // queue full or draining: refused, nothing to count
      }
    } else if (roll < 0.55 && upstream.pending("submit").length > 0) {
      upstream.answer("submit", pick(SUBMIT_ANSWERS));
    } else if (roll < 0.75 && upstream.pending("poll").length > 0) {
      upstream.answer("poll", pick(POLL_ANSWERS));
    } else if (roll < 0.8) {
      pool.balanceObserved(random() < 0.5 ? { kind: "ok", value: random() * 3 } : { kind: "transient", code: "TIMEOUT", message: "", maybeDelivered: true }, clock.now());
    } else {
      await clock.advance(Math.floor(random() * 5000));
    }
    // One event-loop turn: the pool and the fake upstream only chain promises, and one turn drains
    // them all. The default five reached the same state at every step of the 200 seeds (compared
    // step by step) at twice the CPU: this file was two thirds of the unit loop's time.
    await settle(1);
    checkCounts(pool, tasks, seed, step);
  }
  const end = pick(["stop", "suspend", "failAll"] as const);
  if (end === "stop") pool.stopAccepting();
  else if (end === "suspend") pool.suspend();
  else pool.failAll("shutdown", "bye");
  await settle();
  checkCounts(pool, tasks, seed, -1);
  if (end === "failAll") assert.deepEqual([pool.queueDepth, pool.inFlight], [0, 0], `seed ${seed}: nothing left after failAll`);
}

describe("SolverPool counts", () => {
  test("queue depth and in-flight never go below zero nor above the open tasks over random life cycles (200 seeds)", async () => {
    for (let seed = 1; seed <= 200; seed++) await runSeed(seed);
  });
});
