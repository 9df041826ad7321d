/**
 * The solver: bounded FIFO queues per kind, at most `threads` tasks holding an upstream slot,
 * polls and deadlines on one scheduler, and the upstream's trouble handled per SPEC §6 (back-off
 * pauses submissions, fatal account codes stop them, transport failures feed a circuit breaker).
 * Trade-off: a submit whose request may have reached the upstream is never repeated; the task
 * fails instead of risking a double charge.
 */
import { randomUUID } from "node:crypto";
import type { Clock } from "../base/clock.ts";
import { WorkerError } from "../base/errors.ts";
import type { HealthFeed, LoadSnapshot } from "../health/worker_health.ts";
import type { Logger } from "../base/log.ts";
import { Backoff } from "../base/backoff.ts";
import { Bulkhead, type BulkheadLimits } from "./bulkhead.ts";
import { CircuitBreaker, type CircuitState } from "../base/circuit_breaker.ts";
import { Deque } from "../base/deque.ts";
import { Scheduler, type ScheduledJob } from "../base/scheduler.ts";
import { RepeatLimiter } from "../base/repeat_limiter.ts";
import { kindOf, TASK_KINDS, type Task, type TaskKind, type TaskType } from "../tasks/task.ts";
import { TaskStore, type TaskStoreOptions } from "../tasks/task_store.ts";
import type { Outcome, SolverUpstream } from "./upstream_port.ts";
import type { ReplayedTask, TaskJournal } from "./journal_port.ts";

export interface PoolOptions<P> {
  clock: Clock;
  upstream: SolverUpstream<P>;
  health: HealthFeed;
  log: Logger;
  threads: number;
  queueMax: number;
  taskTimeoutMs: number;
  firstPollMs: Record<TaskKind, number>;
  pollIntervalMs: number;
  /** Hard per-kind limits; undefined: a fair split that lends idle capacity. */
  bulkhead?: BulkheadLimits | undefined;
  retention?: TaskStoreOptions;
  /** @default Math.random (jitter) */
  random?: () => number;
  /** Called once per task when it ends (metrics, logs). */
  onTaskEnded?: (task: Task<P>) => void;
  /** Called after each upstream call (metrics). */
  onUpstreamCall?: (endpoint: string, outcome: Outcome<unknown>["kind"]) => void;
  /** With --state-dir: where acceptance, submission and the end of each task are recorded. */
  journal?: TaskJournal<P> | undefined;
}

/** The code a task fails with when its submit may have reached the upstream without an answer. */
export const SUBMIT_UNCERTAIN = "SUBMIT_UNCERTAIN";
const UNSOLVABLE = "ERROR_CAPTCHA_UNSOLVABLE";

export class SolverPool<P> {
  readonly #o: PoolOptions<P>;
  readonly #clock: Clock;
  readonly scheduler: Scheduler;
  readonly tasks: TaskStore<P>;
  readonly circuit: CircuitBreaker;
  readonly #queues: Record<TaskKind, Deque<Task<P>>> = { image: new Deque(), token: new Deque() };
  readonly #bulkhead: Bulkhead;
  readonly #submitBackoff: Backoff;
  readonly #authBackoff: Backoff;
  /** Per open task: its deadline and its next poll. */
  readonly #timers = new Map<string, { deadline: ScheduledJob; next?: ScheduledJob }>();
  /** Tasks holding an upstream slot (submitting or submitted); releasing is idempotent. */
  readonly #holding = new Set<Task<P>>();
  readonly #idleWaiters = new Set<() => void>();
  /** Live queued tasks; the deques may also hold ended ones, dropped lazily at their heads. */
  #queued = 0;
  #pausedUntil = 0;
  #resumeJob: ScheduledJob | undefined;
  #authCode: string | undefined;
  #accepting = true;
  #dispatching = true;
  readonly #repeats: RepeatLimiter;

  constructor(options: PoolOptions<P>) {
    this.#o = options;
    this.#clock = options.clock;
    this.scheduler = new Scheduler(options.clock, (err) => options.log.error("scheduled job failed", { err }));
    this.tasks = new TaskStore(options.clock, options.retention);
    this.#repeats = new RepeatLimiter(options.log, options.clock);
    this.#bulkhead = new Bulkhead(options.threads, options.bulkhead);
    const random = options.random ?? Math.random;
    this.#submitBackoff = new Backoff({ baseMs: 1000, maxMs: 60_000, random });
    this.#authBackoff = new Backoff({ baseMs: 5_000, maxMs: 60_000, random });
    this.circuit = new CircuitBreaker(options.clock, {
      onChange: (state: CircuitState) => {
        options.health.circuit(state);
        options.log.warn("upstream circuit " + state.replace("_", "-"), { circuit: state });
        if (state === "closed") this.#pump();
      },
    });
  }

  get queueDepth(): number {
    return this.#queued;
  }

  get inFlight(): number {
    return this.#bulkhead.total;
  }

  /** In-flight count per kind (for the bulkhead's metrics and tests). */
  inFlightOf(kind: TaskKind): number {
    return this.#bulkhead.inFlight(kind);
  }

  /** Load as health reads it, computed now. */
  load(): LoadSnapshot {
    const now = this.#clock.now();
    let oldest = now;
    for (const k of TASK_KINDS) oldest = Math.min(oldest, this.#head(k)?.createdAt ?? now);
    return {
      queueDepth: this.queueDepth,
      inFlight: this.inFlight,
      oldestQueuedAgeMs: now - oldest,
      lastProgressAt: now - this.scheduler.overdueMs,
    };
  }

  /** Accepts a task or throws ERR_QUEUE_FULL / ERR_DRAINING (journaled without waiting for the disk). */
  enqueue(type: TaskType, params: P): Task<P> {
    const { task, durable } = this.#admit(type, params);
    durable?.catch(() => {}); // a failed write shows as a readiness issue; this caller does not wait
    return task;
  }

  /** Queues a new task; its journal record goes first, before anything the pump may write about it. */
  #admit(type: TaskType, params: P): { task: Task<P>; durable: Promise<void> | undefined } {
    if (!this.#accepting) throw new WorkerError("ERR_DRAINING", "The worker is draining and takes no new tasks.");
    if (this.queueDepth >= this.#o.queueMax) {
      throw new WorkerError("ERR_QUEUE_FULL", `The queue is full (${this.#o.queueMax} tasks waiting).`);
    }
    const now = this.#clock.now();
    const task = this.#newTask(randomUUID(), type, params, now, now + this.#o.taskTimeoutMs);
    this.tasks.add(task);
    const durable = this.#o.journal?.accepted(task);
    this.#queues[task.kind].push(task);
    this.#queued++;
    this.#timers.set(task.id, { deadline: this.scheduler.schedule(this.#o.taskTimeoutMs, () => this.#expire(task)) });
    this.#pump();
    return { task, durable };
  }

  /**
   * enqueue, then waits until the journal holds the task (with --state-dir), so a 202 is only sent
   * for a task that survives a crash. If the journal cannot take it, the task is withdrawn (never
   * submitted, not counted against health) and the error is thrown for a 503.
   */
  async accept(type: TaskType, params: P): Promise<Task<P>> {
    const { task, durable } = this.#admit(type, params);
    try {
      await durable;
    } catch (err) {
      // Its submit waits on a write in the same failed batch, so it cannot have been sent.
      if (task.status === "queued") this.#fail(task, "journal", "The task could not be recorded; it was withdrawn.", undefined);
      throw err;
    }
    return task;
  }

  /**
   * Takes back the open tasks of a journal after a restart: those the upstream holds are polled by
   * their id, those whose submit may have landed fail with SUBMIT_UNCERTAIN, those past their
   * deadline fail with `timeout`, the rest are queued again in their original order.
   */
  restore(replayed: readonly ReplayedTask<P>[]): { polled: number; queued: number; uncertain: number; expired: number } {
    const counts = { polled: 0, queued: 0, uncertain: 0, expired: 0 };
    const now = this.#clock.now();
    for (const r of [...replayed].sort((a, b) => a.createdAt - b.createdAt)) {
      const task = this.#newTask(r.id, r.type, r.params, r.createdAt, r.deadlineAt);
      task.submissions = r.submissions;
      this.tasks.add(task);
      this.#timers.set(task.id, { deadline: this.scheduler.schedule(Math.max(0, r.deadlineAt - now), () => this.#expire(task)) });
      if (r.deadlineAt <= now) {
        this.#fail(task, "timeout", "The deadline passed while the worker was down.", undefined);
        counts.expired++;
      } else if (r.upstreamId !== undefined) {
        task.status = "submitted";
        task.upstreamId = r.upstreamId;
        task.timing.queuedSince = undefined;
        this.#holding.add(task);
        this.#bulkhead.acquire(task.kind);
        this.#schedulePoll(task, this.#o.pollIntervalMs);
        counts.polled++;
      } else if (r.uncertain) {
        this.#fail(task, SUBMIT_UNCERTAIN, "The worker stopped while submitting; not repeated, to avoid a double charge.", undefined);
        counts.uncertain++;
      } else {
        this.#queues[task.kind].push(task);
        this.#queued++;
        counts.queued++;
      }
    }
    this.#pump();
    return counts;
  }

  #newTask(id: string, type: TaskType, params: P, createdAt: number, deadlineAt: number): Task<P> {
    return {
      id,
      type,
      kind: kindOf(type),
      params,
      createdAt,
      deadlineAt,
      status: "queued",
      upstreamId: undefined,
      submittedAt: undefined,
      endedAt: undefined,
      solution: undefined,
      error: undefined,
      submissions: 0,
      polls: 0,
      reported: undefined,
      timing: { queueMs: 0, upstreamMs: 0, waitMs: 0, queuedSince: this.#clock.now() },
    };
  }

  /** Forwards reportgood/reportbad for a solved task. */
  async report(task: Task<P>, correct: boolean): Promise<Outcome<string>> {
    if (task.status !== "solved" || task.upstreamId === undefined) {
      throw new WorkerError("ERR_CONFLICT", `Task ${task.id} is ${task.status}; only solved tasks can be reported.`);
    }
    const outcome = await this.#o.upstream.report(task.upstreamId, correct);
    this.#called("res.php:report", outcome);
    if (outcome.kind === "ok") task.reported = correct ? "good" : "bad";
    return outcome;
  }

  /**
   * Stops taking tasks (the API answers 503) and submitting queued ones, which fail at once with
   * `shutdown` so their clients can go elsewhere (with a journal they stay for the next start);
   * in-flight tasks go on. Returns how many failed.
   */
  stopAccepting(): number {
    this.#accepting = false;
    this.#dispatching = false;
    if (this.#o.journal) return 0; // queued tasks stay in the journal for the next start
    let n = 0;
    for (const task of [...this.tasks.open()]) {
      if (task.status !== "queued" || this.#holding.has(task)) continue;
      this.#fail(task, "shutdown", "The worker is shutting down; the task was never submitted.", undefined);
      n++;
    }
    return n;
  }

  /** Resolves when no task holds an upstream slot, or after `timeoutMs`. */
  idle(timeoutMs: number): Promise<void> {
    if (this.#holding.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        timer.cancel();
        this.#idleWaiters.delete(done);
        resolve();
      };
      const timer = this.#clock.setTimeout(done, timeoutMs);
      this.#idleWaiters.add(done);
    });
  }

  /** The account works (a getbalance succeeded): clears a fatal account state and resumes. */
  accountAccepted(): void {
    if (this.#authCode === undefined) return;
    this.#o.log.info("upstream accepts the key again; submissions resume", { was: this.#authCode });
    this.#authCode = undefined;
    this.#authBackoff.reset();
    this.#o.health.upstreamAuth(undefined);
    this.#pump();
  }

  /** A fatal account code seen outside a task (the balance check). */
  accountRejected(code: string): void {
    this.#authFailed(code);
  }

  /** Stops every timer and leaves open tasks as they are: with a journal, the next start takes them up. */
  suspend(): number {
    const open = [...this.tasks.open()].length;
    this.scheduler.stop();
    this.#resumeJob = undefined;
    this.#dispatching = false;
    return open;
  }

  /** Fails every task not yet ended with `code` (e.g. `shutdown`) and stops all timers. */
  failAll(code: string, message: string): number {
    let n = 0;
    for (const task of [...this.tasks.open()]) {
      this.#fail(task, code, message, undefined);
      n++;
    }
    this.scheduler.stop();
    this.#resumeJob = undefined;
    return n;
  }

  // Dispatch ----------------------------------------------------------------

  #pump(): void {
    // Reading the state turns an open circuit past its cool-down half-open (readiness follows), also
    // with nothing queued: otherwise readiness says circuit_open forever and no task comes to try it.
    void this.circuit.state;
    if (!this.#dispatching || this.#authCode !== undefined) return;
    const now = this.#clock.now();
    if (now < this.#pausedUntil) return;
    for (;;) {
      const kind = this.#bulkhead.pick((k) => this.#head(k)?.createdAt);
      if (kind === undefined) return;
      // Open: wait out the cool-down. Half-open with the trial out: its verdict pumps again.
      if (!this.circuit.tryAcquire()) return void (this.circuit.state === "open" && this.#pauseFor(this.circuit.retryInMs));
      const task = this.#queues[kind].shift()!;
      this.#queued--;
      this.#leaveQueue(task, now);
      this.#holding.add(task);
      this.#bulkhead.acquire(kind);
      void this.#submit(task);
    }
  }

  /**
   * One step of the submit back-off per round of refusals: the tasks refused together while a
   * pause is already set (they were all in flight at once) do not each lengthen it.
   */
  #backOff(): void {
    if (this.#clock.now() < this.#pausedUntil) return;
    this.#pauseFor(this.#submitBackoff.next());
  }

  #pauseFor(ms: number): void {
    const until = this.#clock.now() + ms;
    if (this.#resumeJob && until <= this.#pausedUntil) return;
    this.#pausedUntil = until;
    this.#resumeJob?.cancel();
    this.#resumeJob = this.scheduler.schedule(ms, () => {
      this.#resumeJob = undefined;
      this.#pump();
    });
  }

  async #submit(task: Task<P>): Promise<void> {
    const journal = this.#o.journal;
    if (journal) {
      try {
        await journal.submitting(task);
      } catch {
        // Not recorded, so not sent: a crash now could not tell whether it landed. Wait and retry.
        if (task.status !== "queued") return;
        this.#requeue(task);
        this.#backOff();
        return;
      }
      if (task.status !== "queued") return; // expired or shut down meanwhile; the slot is back
    }
    const outcome = await this.#callFor(task, "in.php", () => this.#o.upstream.submit(task.params));
    // Expired or shut down while the request was out: the slot was given back already.
    if (task.status !== "queued") return;
    switch (outcome.kind) {
      case "ok":
        this.#submitBackoff.reset();
        task.status = "submitted";
        task.submissions++;
        task.upstreamId = outcome.value;
        task.submittedAt = this.#clock.now();
        journal?.submitted(task);
        this.#schedulePoll(task, this.#o.firstPollMs[task.kind]);
        return;
      case "back_off":
        this.#requeue(task);
        this.#backOff();
        return;
      case "fatal_account":
        this.#requeue(task);
        this.#authFailed(outcome.code);
        return;
      case "transient":
        if (outcome.maybeDelivered) {
          this.#release(task);
          this.#fail(task, SUBMIT_UNCERTAIN, `The submit may have reached the upstream (${outcome.code}); not repeated, to avoid a double charge.`, "worker");
        } else {
          this.#requeue(task);
          this.#backOff();
        }
        return;
      case "task_failed":
        this.#release(task);
        this.#fail(task, outcome.code, outcome.message, outcome.blame);
        return;
      case "not_ready":
        this.#requeue(task);
        this.#backOff();
        return;
    }
  }

  #schedulePoll(task: Task<P>, delayMs: number): void {
    const delay = Math.min(delayMs, Math.max(0, task.deadlineAt - this.#clock.now()));
    const timers = this.#timers.get(task.id);
    if (!timers) return;
    task.timing.waitMs += delay;
    timers.next = this.scheduler.schedule(delay, () => void this.#poll(task));
  }

  async #poll(task: Task<P>): Promise<void> {
    if (task.status !== "submitted") return;
    if (!this.circuit.tryAcquire()) {
      this.#schedulePoll(task, Math.max(this.#o.pollIntervalMs, this.circuit.retryInMs));
      return;
    }
    task.polls++;
    const outcome = await this.#callFor(task, "res.php:get", () => this.#o.upstream.poll(task.upstreamId!));
    if (task.status !== "submitted") return;
    switch (outcome.kind) {
      case "ok":
        this.#release(task);
        task.status = "solved";
        task.solution = outcome.value;
        this.#end(task);
        this.#o.health.solved(task.type, task.endedAt! - task.createdAt);
        return;
      case "task_failed":
        this.#release(task);
        if (outcome.code === UNSOLVABLE && task.submissions < 2 && task.deadlineAt > this.#clock.now()) {
          // One more worker may solve what this one could not; a deliberate second submission.
          task.status = "queued";
          task.upstreamId = undefined;
          this.#o.journal?.unsubmitted(task);
          task.timing.queuedSince = this.#clock.now();
          this.#queues[task.kind].unshift(task);
          this.#queued++;
          this.#pump();
          return;
        }
        this.#fail(task, outcome.code, outcome.message, outcome.blame);
        return;
      case "fatal_account":
        this.#authFailed(outcome.code);
        this.#schedulePoll(task, Math.max(this.#o.pollIntervalMs, 5_000));
        return;
      case "back_off":
        this.#schedulePoll(task, Math.max(this.#o.pollIntervalMs * 2, 5_000));
        return;
      default:
        this.#schedulePoll(task, this.#o.pollIntervalMs);
    }
  }

  /** A fatal account code: stop submitting and re-check the key in the background until it works. */
  #authFailed(code: string): void {
    const first = this.#authCode === undefined;
    this.#authCode = code;
    this.#o.health.upstreamAuth(code);
    if (!first) return;
    this.#o.log.error("upstream refuses the key; submissions stopped", { code });
    this.#recheckAuthLater();
  }

  #recheckAuthLater(): void {
    this.scheduler.schedule(this.#authBackoff.next(), () => void this.#recheckAuth());
  }

  async #recheckAuth(): Promise<void> {
    if (this.#authCode === undefined) return; // the balance check saw the key work meanwhile
    const outcome = await this.#o.upstream.balance();
    this.#called("res.php:getbalance", outcome);
    this.#noteTransport(outcome);
    if (outcome.kind === "fatal_account") {
      this.#authCode = outcome.code;
      this.#o.health.upstreamAuth(outcome.code);
      return this.#recheckAuthLater();
    }
    if (outcome.kind !== "ok") return this.#recheckAuthLater();
    this.accountAccepted();
  }

  /** An upstream call made for `task`: its time goes to the task's timing, its answer to #called and the circuit. */
  async #callFor<T>(task: Task<P>, endpoint: string, call: () => Promise<Outcome<T>>): Promise<Outcome<T>> {
    const started = this.#clock.now();
    const outcome = await call();
    task.timing.upstreamMs += this.#clock.now() - started;
    this.#called(endpoint, outcome);
    this.#noteTransport(outcome);
    return outcome;
  }

  /** Every upstream answer: to the metrics hook, and its trouble to the log, rate-limited per endpoint and code. */
  #called(endpoint: string, outcome: Outcome<unknown>): void {
    this.#o.onUpstreamCall?.(endpoint, outcome.kind);
    if (outcome.kind === "ok" || outcome.kind === "not_ready") return;
    if (outcome.kind === "task_failed" && outcome.blame === "client") return; // the task's own debug line says it
    const what = outcome.kind === "back_off" ? "upstream asks to back off; submissions paused" : `upstream ${outcome.kind.replace("_", " ")}`;
    this.#repeats.warn(`${endpoint} ${outcome.code}`, what, { endpoint, code: outcome.code, message: outcome.message });
  }

  #noteTransport(outcome: Outcome<unknown>): void {
    if (outcome.kind !== "transient") return this.circuit.success();
    this.circuit.failure();
    if (this.circuit.state === "open") this.#pauseFor(this.circuit.retryInMs);
  }

  // Task ends ----------------------------------------------------------------

  #expire(task: Task<P>): void {
    if (task.status === "solved" || task.status === "failed") return;
    this.#fail(task, "timeout", `Not solved within ${this.#o.taskTimeoutMs}ms.`, "worker");
  }

  /** Back to the head of its queue after a submit that surely did not land. */
  #requeue(task: Task<P>): void {
    this.#o.journal?.unsubmitted(task);
    this.#giveBack(task);
    task.timing.queuedSince = this.#clock.now();
    this.#queues[task.kind].unshift(task);
    this.#queued++;
  }

  #leaveQueue(task: Task<P>, now: number): void {
    if (task.timing.queuedSince === undefined) return;
    task.timing.queueMs += now - task.timing.queuedSince;
    task.timing.queuedSince = undefined;
  }

  /** The oldest live queued task of `kind`, dropping ended ones from the front. */
  #head(kind: TaskKind): Task<P> | undefined {
    const q = this.#queues[kind];
    while (q.length > 0 && q.peek()!.status !== "queued") q.shift();
    return q.peek();
  }

  #release(task: Task<P>): void {
    this.#giveBack(task);
    this.#pump();
  }

  #giveBack(task: Task<P>): void {
    if (!this.#holding.delete(task)) return;
    this.#bulkhead.release(task.kind);
    if (this.#holding.size === 0) for (const w of [...this.#idleWaiters]) w();
  }

  #fail(task: Task<P>, code: string, message: string, blame: "worker" | "client" | undefined): void {
    if (!this.#holding.has(task) && task.status === "queued") this.#queued--; // its deque entry goes lazily
    this.#giveBack(task);
    task.status = "failed";
    task.error = { code, message };
    this.#end(task);
    if (blame) this.#o.health.failed(task.type, code, blame);
  }

  #end(task: Task<P>): void {
    task.endedAt = this.#clock.now();
    this.#o.journal?.ended(task);
    this.#leaveQueue(task, task.endedAt);
    const timers = this.#timers.get(task.id);
    timers?.deadline.cancel();
    timers?.next?.cancel();
    this.#timers.delete(task.id);
    this.tasks.ended(task);
    this.#o.onTaskEnded?.(task);
    this.#pump();
  }
}
