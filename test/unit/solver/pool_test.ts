import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { WorkerError } from "../../../src/base/errors.ts";
import { silentLogger } from "../../../src/base/log.ts";
import { SolverPool, SUBMIT_UNCERTAIN } from "../../../src/solver/pool.ts";
import type { PoolAccount, PoolLimits, PoolTiming } from "../../../src/solver/pool_options.ts";
import { TaskEndHub } from "../../../src/tasks/task_end_hub.ts";
import type { TaskParams } from "../../../src/tasks/task_catalogue.ts";
import { TaskProxy } from "../../../src/tasks/task_proxy.ts";
import { FakeClock, settle } from "../../_support/fake_clock.ts";
import { FakeUpstream, RecordingHealth } from "./_fake_upstream.ts";
import { PNG_B64 } from "../../_support/images.ts";

const IMAGE: TaskParams = { type: "image", image: PNG_B64 };
const TOKEN: TaskParams = { type: "turnstile", sitekey: "0x4AAAAAAAunit", pageurl: "https://example.com/" };
const OK = (value: string) => ({ kind: "ok" as const, value });
const NOT_READY = { kind: "not_ready" as const };

function rig(options: { limits?: Partial<PoolLimits>; timing?: Partial<PoolTiming>; account?: PoolAccount } = {}) {
  const clock = new FakeClock();
  const upstream = new FakeUpstream();
  const health = new RecordingHealth();
  const pool = new SolverPool({
    clock,
    upstream,
    health,
    log: silentLogger,
    limits: { threads: 2, queueMax: 10, ...options.limits },
    timing: { taskTimeoutMs: 180_000, firstPollMs: { image: 5000, token: 15_000 }, pollIntervalMs: 5000, ...options.timing },
    account: options.account,
    random: () => 0,
  });
  return { clock, upstream, health, pool };
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return (err as WorkerError).code;
  }
  return undefined;
}

describe("SolverPool admission", () => {
  test("enqueue queues a task and submits it at once; a full queue is ERR_QUEUE_FULL", async () => {
    const { pool, upstream } = rig({ limits: { threads: 1, queueMax: 2 } });
    const first = pool.enqueue("image", IMAGE);
    assert.equal(first.status, "queued");
    assert.deepEqual(upstream.pending("submit").map((c) => c.arg), [IMAGE]);
    assert.equal(pool.inFlight, 1);
    pool.enqueue("image", IMAGE);
    pool.enqueue("image", IMAGE);
    assert.equal(pool.queueDepth, 2);
    assert.equal(codeOf(() => pool.enqueue("image", IMAGE)), "ERR_QUEUE_FULL");
    assert.equal(pool.find(first.id), first);
  });

  test("accept resolves with the queued task when there is no journal", async () => {
    const { pool } = rig();
    const task = await pool.accept("turnstile", TOKEN);
    assert.equal(task.kind, "token");
    assert.equal(pool.state, "running");
  });
});

describe("SolverPool dispatch", () => {
  test("never holds more than `threads` slots; a solved task frees its slot for the next", async () => {
    const { pool, upstream, clock, health } = rig({ limits: { threads: 2 } });
    const tasks = [1, 2, 3, 4, 5].map(() => pool.enqueue("image", IMAGE));
    assert.equal(upstream.pending("submit").length, 2);
    assert.equal(pool.inFlight, 2);
    assert.equal(pool.queueDepth, 3);
    upstream.answer("submit", OK("u1"));
    upstream.answer("submit", OK("u2"));
    await settle();
    assert.equal(tasks[0]!.status, "submitted");
    assert.equal(upstream.pending("submit").length, 0, "submitted tasks keep their slots");
    await clock.advance(5000);
    assert.deepEqual(upstream.pending("poll").map((c) => c.arg), ["u1", "u2"]);
    upstream.answer("poll", OK("answer-1"));
    upstream.answer("poll", NOT_READY);
    await settle();
    assert.equal(tasks[0]!.status, "solved");
    assert.equal(tasks[0]!.solution, "answer-1");
    assert.deepEqual(health.solvedTypes, ["image"]);
    assert.equal(upstream.pending("submit").length, 1, "the freed slot takes the next task");
    assert.equal(pool.inFlight, 2);
  });

  test("a plan's 'no free thread' requeues the task at the head, never fails it, and the next submit waits a pace", async () => {
    const { pool, upstream, clock, health } = rig({ limits: { threads: 1 } });
    const task = pool.enqueue("image", IMAGE);
    upstream.answer("submit", { kind: "back_off", code: "ERROR_NO_SLOT_AVAILABLE", message: "" });
    await settle();
    assert.equal(task.status, "queued");
    assert.equal(pool.queueDepth, 1);
    assert.equal(pool.inFlight, 0);
    assert.deepEqual(health.failures, [], "never charged to health");
    assert.deepEqual(health.full, [true], "the plan is full while the task waits");
    await clock.advance(999); // a 2 s pace with jitter at random 0: 1 s
    assert.equal(upstream.count("submit"), 1, "paced");
    await clock.advance(1);
    assert.equal(upstream.count("submit"), 2, "the probe");
    upstream.answer("submit", { kind: "back_off", code: "ERROR_NO_SLOT_AVAILABLE", message: "" });
    await settle();
    await clock.advance(1000);
    assert.equal(upstream.count("submit"), 3, "the first refused probe keeps the pace");
    upstream.answer("submit", { kind: "back_off", code: "ERROR_NO_SLOT_AVAILABLE", message: "" });
    await settle();
    await clock.advance(1999);
    assert.equal(upstream.count("submit"), 3, "probes refused in a row double it");
    await clock.advance(1);
    upstream.answer("submit", OK("u1"));
    await settle();
    assert.equal(task.status, "submitted");
    assert.equal(task.submissions, 1);
    assert.deepEqual(health.full, [true, false]);
    assert.equal(pool.provider("captchaai")!.capacityRefusals, 3);
  });

  test("the oldest wait counts a task out submitting: it does not dip while the head is out and jump when a refusal puts it back", async () => {
    const { pool, upstream, clock } = rig({ limits: { threads: 1 } });
    const first = pool.enqueue("image", IMAGE);
    await clock.advance(10_000);
    pool.enqueue("image", IMAGE);
    await clock.advance(5_000);
    assert.equal(upstream.pending("submit")[0]?.arg, first.params, "the first task is out submitting");
    assert.equal(pool.load().oldestQueuedAgeMs, 15_000, "the first task's wait, not the second's 5 s");
    upstream.answer("submit", { kind: "back_off", code: "ERROR_NO_SLOT_AVAILABLE", message: "" });
    await settle();
    assert.equal(pool.load().oldestQueuedAgeMs, 15_000, "back at the head: the same wait, no jump");
    await clock.advance(1000);
    upstream.answer("submit", OK("u1"));
    await settle();
    assert.equal(first.status, "submitted");
    assert.equal(pool.load().oldestQueuedAgeMs, 6_000, "submitted: the second task is the oldest waiting");
  });

  test("a submit that may have landed fails SUBMIT_UNCERTAIN and is never sent again", async () => {
    const { pool, upstream, clock, health } = rig({ limits: { threads: 1 } });
    const task = pool.enqueue("image", IMAGE);
    upstream.answer("submit", { kind: "transient", code: "TIMEOUT", message: "", maybeDelivered: true });
    await settle();
    assert.equal(task.status, "failed");
    assert.equal(task.error?.code, SUBMIT_UNCERTAIN);
    assert.deepEqual(health.failures, [[SUBMIT_UNCERTAIN, "worker"]]);
    assert.equal(pool.inFlight, 0);
    await clock.advance(60_000);
    assert.equal(upstream.count("submit"), 1);
  });

  test("a connect timeout (not delivered) requeues the task and submits it again after the back-off", async () => {
    const { pool, upstream, clock, health } = rig({ limits: { threads: 1 } });
    const task = pool.enqueue("image", IMAGE);
    upstream.answer("submit", { kind: "transient", code: "CONNECT_TIMEOUT", message: "", maybeDelivered: false });
    await settle();
    assert.equal(task.status, "queued");
    assert.deepEqual(health.failures, []);
    await clock.advance(500);
    assert.equal(upstream.count("submit"), 2);
    upstream.answer("submit", OK("u1"));
    await settle();
    assert.equal(task.status, "submitted");
    assert.equal(task.upstreamId, "u1");
  });

  test("a task failed by the upstream ends with its code, charged as classified", async () => {
    const { pool, upstream, health } = rig();
    const task = pool.enqueue("image", IMAGE);
    upstream.answer("submit", { kind: "task_failed", code: "ERROR_ZERO_CAPTCHA_FILESIZE", message: "", blame: "client" });
    await settle();
    assert.equal(task.error?.code, "ERROR_ZERO_CAPTCHA_FILESIZE");
    assert.deepEqual(health.failures, [["ERROR_ZERO_CAPTCHA_FILESIZE", "client"]]);
  });
});

describe("SolverPool task ends", () => {
  test("each task that ends is published once to taskEnds, already ended, solved or failed alike", async () => {
    const clock = new FakeClock();
    const upstream = new FakeUpstream();
    const hub = new TaskEndHub(silentLogger);
    const ended: Array<[string, string, boolean]> = [];
    hub.subscribe((t) => ended.push([t.id, t.status, t.endedAt !== undefined]));
    const pool = new SolverPool({
      clock, upstream, health: new RecordingHealth(), log: silentLogger, taskEnds: hub, random: () => 0,
      limits: { threads: 2, queueMax: 10 },
      timing: { taskTimeoutMs: 180_000, firstPollMs: { image: 5000, token: 15_000 }, pollIntervalMs: 5000 },
    });
    const solved = pool.enqueue("image", IMAGE);
    const refused = pool.enqueue("image", IMAGE);
    upstream.answer("submit", OK("u1"));
    upstream.answer("submit", { kind: "task_failed", code: "ERROR_ZERO_CAPTCHA_FILESIZE", message: "", blame: "client" });
    await clock.advance(5000);
    upstream.answer("poll", OK("abc"));
    await settle();
    pool.failAll("shutdown", "bye");
    assert.deepEqual(ended, [[refused.id, "failed", true], [solved.id, "solved", true]]);
  });
});

describe("SolverPool polling", () => {
  test("an unsolvable answer is submitted once more, then fails", async () => {
    const { pool, upstream, clock } = rig();
    const task = pool.enqueue("image", IMAGE);
    upstream.answer("submit", OK("u1"));
    await clock.advance(5000);
    upstream.answer("poll", { kind: "task_failed", code: "ERROR_CAPTCHA_UNSOLVABLE", message: "", blame: "worker" });
    await settle();
    assert.equal(upstream.count("submit"), 2, "a deliberate second submission");
    assert.equal(task.status, "queued");
    upstream.answer("submit", OK("u2"));
    await clock.advance(5000);
    assert.equal(upstream.pending("poll")[0]!.arg, "u2");
    upstream.answer("poll", { kind: "task_failed", code: "ERROR_CAPTCHA_UNSOLVABLE", message: "", blame: "worker" });
    await settle();
    assert.equal(task.status, "failed");
    assert.equal(task.error?.code, "ERROR_CAPTCHA_UNSOLVABLE");
    assert.equal(task.submissions, 2);
    assert.equal(upstream.count("submit"), 2);
  });

  test("a poll carries the task's proxy, so the client redacts its password from what the answer echoes", async () => {
    const { pool, upstream, clock } = rig();
    const proxy = TaskProxy.parse("alice:s3cret-pw@10.0.0.1:3128", "HTTP") as TaskProxy;
    pool.enqueue("turnstile", { ...TOKEN, proxy });
    pool.enqueue("turnstile", TOKEN);
    upstream.answer("submit", OK("u1"));
    upstream.answer("submit", OK("u2"));
    await clock.advance(15_000);
    const [withProxy, without] = upstream.pending("poll");
    assert.deepEqual([withProxy!.arg, withProxy!.proxy], ["u1", proxy]);
    assert.deepEqual([without!.arg, without!.proxy], ["u2", undefined]);
  });

  test("polls every interval and fails the task at its deadline, giving the slot back", async () => {
    const { pool, upstream, clock } = rig({ timing: { taskTimeoutMs: 20_000 } });
    const task = pool.enqueue("turnstile", TOKEN);
    upstream.answer("submit", OK("u1"));
    await clock.advance(15_000);
    upstream.answer("poll", NOT_READY);
    await clock.advance(4999);
    assert.equal(upstream.count("poll"), 1);
    await clock.advance(1);
    assert.equal(task.status, "failed");
    assert.equal(task.error?.code, "timeout");
    assert.equal(pool.inFlight, 0);
  });
});

describe("SolverPool account", () => {
  test("a fatal key code stops submissions; the next balance check that answers resumes them", async () => {
    const { pool, upstream, clock, health } = rig({ limits: { threads: 1 } });
    const task = pool.enqueue("image", IMAGE);
    upstream.answer("submit", { kind: "fatal_account", code: "ERROR_WRONG_USER_KEY", message: "" });
    await settle();
    assert.equal(health.auth, "ERROR_WRONG_USER_KEY");
    assert.equal(task.status, "queued");
    pool.enqueue("image", IMAGE);
    await clock.advance(60_000);
    assert.equal(upstream.count("submit"), 1, "no submissions while the key is refused");
    assert.equal(upstream.count("balance"), 0, "the pool does not poll the balance itself: the recovery trials do");
    pool.balanceObserved({ kind: "fatal_account", code: "ERROR_WRONG_USER_KEY", message: "" }, clock.now());
    assert.equal(health.auth, "ERROR_WRONG_USER_KEY");
    assert.equal(upstream.count("submit"), 1);
    pool.balanceObserved({ kind: "ok", value: 1.5 }, clock.now());
    assert.equal(health.auth, undefined);
    assert.equal(upstream.count("submit"), 2, "resumed at once");
  });

  test("a balance check's verdicts stop and resume submissions; a transport failure leaves the key state alone", async () => {
    const { pool, upstream, health, clock } = rig({ limits: { threads: 1 } });
    pool.balanceObserved({ kind: "fatal_account", code: "ERROR_IP_NOT_ALLOWED", message: "" }, clock.now());
    pool.enqueue("image", IMAGE);
    assert.equal(upstream.count("submit"), 0);
    assert.equal(health.auth, "ERROR_IP_NOT_ALLOWED");
    pool.balanceObserved({ kind: "transient", code: "TIMEOUT", message: "", maybeDelivered: true }, clock.now());
    assert.equal(health.auth, "ERROR_IP_NOT_ALLOWED");
    assert.deepEqual(health.balanceChecks.at(-1), false, "reported unreachable");
    pool.balanceObserved({ kind: "ok", value: 3 }, clock.now());
    assert.equal(upstream.count("submit"), 1);
  });
});

describe("SolverPool balance evidence", () => {
  test("a good balance read does not cut short the pace after a refusal for threads", async () => {
    const { pool, upstream, clock, health } = rig({ limits: { threads: 1 }, account: { minBalanceUsd: 1 } });
    pool.enqueue("image", IMAGE);
    upstream.answer("submit", { kind: "back_off", code: "ERROR_NO_SLOT_AVAILABLE", message: "" });
    await settle();
    assert.deepEqual(health.full, [true], "the plan is full");
    pool.balanceObserved({ kind: "ok", value: 10 }, clock.now());
    await settle();
    assert.equal(upstream.count("submit"), 1, "still paced: threads, not money, ran out");
    await clock.advance(1000);
    await settle();
    assert.equal(upstream.count("submit"), 2, "the next probe at its pace");
  });

  test("ERROR_ZERO_BALANCE with money is a thread refusal; without money it backs off as before, and a top-up resumes at once", async () => {
    const { pool, upstream, clock, health } = rig({ limits: { threads: 1 }, account: { minBalanceUsd: 1 } });
    pool.enqueue("image", IMAGE);
    upstream.answer("submit", { kind: "back_off", code: "ERROR_ZERO_BALANCE", message: "" });
    await settle();
    assert.deepEqual(health.full, [true], "money was there at the last read: no free thread");
    pool.balanceObserved({ kind: "ok", value: 0.1 }, clock.now());
    await settle();
    assert.deepEqual(health.full, [true, false], "no money: the plan is not what is full");
    await clock.advance(1000);
    assert.equal(upstream.count("submit"), 2);
    upstream.answer("submit", { kind: "back_off", code: "ERROR_ZERO_BALANCE", message: "" });
    await settle();
    await clock.advance(499);
    assert.equal(upstream.count("submit"), 2, "no money: the submit back-off (1 s, jitter at random 0: 500 ms)");
    await clock.advance(1);
    assert.equal(upstream.count("submit"), 3);
    upstream.answer("submit", { kind: "back_off", code: "ERROR_ZERO_BALANCE", message: "" });
    await settle();
    await clock.advance(999);
    assert.equal(upstream.count("submit"), 3, "doubling");
    pool.balanceObserved({ kind: "ok", value: 5 }, clock.now());
    await settle();
    assert.equal(upstream.count("submit"), 4, "resumed at once");
    assert.equal(health.resumes, 1);
    assert.equal(pool.provider("captchaai")!.capacityRefusals, 1, "only the refusal read as threads");
  });

  test("ERROR_ZERO_BALANCE read as threads re-reads the balance at most every 10 s (paced probes at a full plan do not ask each time); without money, each one does", async () => {
    let evidence = 0;
    const { pool, upstream, clock } = rig({ limits: { threads: 1 }, account: { minBalanceUsd: 1, onEvidence: () => evidence++ } });
    pool.enqueue("image", IMAGE);
    // Refusals at 0, 1, 2, 4, 6, 8, 10 s: the pace (jitter at random 0: half of 2 s, then of 4 s).
    const refuseAll = async (ms: number) => {
      for (let t = 0; t < ms; t += 100) {
        while (upstream.pending("submit").length > 0) upstream.answer("submit", { kind: "back_off", code: "ERROR_ZERO_BALANCE", message: "" });
        await settle();
        await clock.advance(100);
      }
    };
    await refuseAll(9900);
    assert.equal(upstream.count("submit"), 6, "paced probes");
    assert.equal(evidence, 1, "one balance read for six refusals within 10 s");
    await refuseAll(200);
    assert.equal(upstream.count("submit"), 7);
    assert.equal(evidence, 2, "10 s later, the balance again");
    pool.balanceObserved({ kind: "ok", value: 0.1 }, clock.now());
    await refuseAll(3000);
    assert.ok(upstream.count("submit") >= 9);
    assert.equal(evidence, 2 + upstream.count("submit") - 7, "no money: each refusal re-reads the balance");
  });
});

describe("SolverPool lifecycle", () => {
  test("draining: queued tasks fail with shutdown, new ones are refused, in-flight ones finish", async () => {
    const { pool, upstream, clock } = rig({ limits: { threads: 1 } });
    const held = pool.enqueue("image", IMAGE);
    const queued = pool.enqueue("image", IMAGE);
    upstream.answer("submit", OK("u1"));
    await settle();
    assert.equal(pool.stopAccepting(), 1);
    assert.equal(pool.state, "draining");
    assert.equal(queued.error?.code, "shutdown");
    assert.equal(codeOf(() => pool.enqueue("image", IMAGE)), "ERR_DRAINING");
    const idle = pool.idle(60_000);
    await clock.advance(5000);
    upstream.answer("poll", OK("answer"));
    await settle();
    await idle;
    assert.equal(held.status, "solved");
    assert.equal(pool.inFlight, 0);
  });

  test("suspend aborts the calls in flight, drops their answers and leaves the tasks open", async () => {
    const { pool, upstream, clock } = rig({ limits: { threads: 2 } });
    const polling = pool.enqueue("image", IMAGE);
    const submitting = pool.enqueue("image", IMAGE);
    upstream.answer("submit", OK("u1"));
    await clock.advance(5000);
    const submit = upstream.pending("submit")[0]!;
    const poll = upstream.pending("poll")[0]!;
    assert.ok(submit.signal && poll.signal && submit.signal !== poll.signal, "one signal per task");
    assert.equal(pool.suspend(), 2);
    assert.equal(pool.state, "suspended");
    assert.equal(submit.signal.aborted, true);
    assert.equal(poll.signal.aborted, true);
    await settle();
    assert.equal(submitting.status, "queued", "the aborted answer is dropped, not SUBMIT_UNCERTAIN");
    assert.equal(polling.status, "submitted");
    assert.equal(codeOf(() => pool.enqueue("image", IMAGE)), "ERR_DRAINING");
    await clock.advance(600_000);
    assert.equal(upstream.calls.length, 3, "no timer runs after suspend");
  });

  test("failAll fails every open task, aborts their calls and the pool's own", async () => {
    const { pool, upstream, clock } = rig({ limits: { threads: 1 } });
    const a = pool.enqueue("image", IMAGE);
    const b = pool.enqueue("image", IMAGE);
    const submit = upstream.pending("submit")[0]!;
    assert.equal(pool.failAll("shutdown", "bye"), 2);
    assert.equal(pool.state, "stopped");
    assert.equal(submit.signal?.aborted, true);
    await settle();
    assert.deepEqual([a.error?.code, b.error?.code], ["shutdown", "shutdown"]);
    assert.equal(upstream.count("submit"), 1, "nothing dispatched while stopping");
    await clock.advance(600_000);
    assert.equal(pool.circuit.state, "closed", "an aborted call is not a transport failure");
  });

  test("report forwards to the upstream with the pool's signal and refuses unsolved tasks", async () => {
    const { pool, upstream, clock } = rig();
    const task = pool.enqueue("image", IMAGE);
    await assert.rejects(pool.report(task, true), (err: WorkerError) => err.code === "ERR_CONFLICT");
    upstream.answer("submit", OK("u1"));
    await clock.advance(5000);
    upstream.answer("poll", OK("answer"));
    await settle();
    const reported = pool.report(task, false);
    const call = upstream.answer("report", OK("OK_REPORT_RECORDED"));
    assert.equal((await reported).kind, "ok");
    assert.equal(call.arg, "u1");
    assert.ok(call.signal);
    assert.equal(task.reported, "bad");
  });

  /** A pool holding one image task solved upstream as u1. */
  async function solvedRig() {
    const r = rig();
    const task = r.pool.enqueue("image", IMAGE);
    r.upstream.answer("submit", OK("u1"));
    await r.clock.advance(5000);
    r.upstream.answer("poll", OK("answer"));
    await settle();
    return { ...r, task };
  }

  test("report sends a task's report upstream once: a second one, during or after the first, is ERROR_DUPLICATE_REPORT with no call", async () => {
    const { pool, upstream, task } = await solvedRig();
    const first = pool.report(task, true);
    const pendingDuring = pool.report(task, false);
    await settle();
    assert.equal(upstream.pending("report").length, 1, "one call upstream while the first is under way");
    upstream.answer("report", OK("OK_REPORT_RECORDED"));
    const during = await pendingDuring;
    assert.deepEqual([during.kind, "code" in during ? during.code : undefined], ["task_failed", "ERROR_DUPLICATE_REPORT"]);
    assert.equal((await first).kind, "ok");
    const after = await pool.report(task, false);
    assert.equal("code" in after ? after.code : undefined, "ERROR_DUPLICATE_REPORT");
    assert.equal(upstream.count("report"), 1);
    assert.equal(task.reported, "good", "the second report changes nothing");
  });

  test("report: a report the upstream refused may be sent again", async () => {
    const { pool, upstream, task } = await solvedRig();
    const refused = pool.report(task, true);
    upstream.answer("report", { kind: "transient", code: "timeout", message: "", maybeDelivered: true });
    assert.notEqual((await refused).kind, "ok");
    const again = pool.report(task, true);
    upstream.answer("report", OK("OK_REPORT_RECORDED"));
    assert.equal((await again).kind, "ok");
    assert.equal(upstream.count("report"), 2);
  });
});
