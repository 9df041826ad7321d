/**
 * The solver pool: bounded FIFO queues per kind, at most `threads` tasks holding an upstream slot,
 * polls and deadlines on one scheduler, and the upstream's trouble handled per SPEC §6 (back-off
 * pauses submissions, fatal account codes stop them, transport failures feed a circuit breaker).
 * This facade admits tasks, forwards reports and runs the lifecycle; dispatcher.ts, poller.ts,
 * account.ts, restore.ts and drain.ts do the rest over the state in pool_core.ts.
 */
import type { CircuitBreaker } from "../base/circuit_breaker.ts";
import { WorkerError } from "../base/errors.ts";
import type { LoadSnapshot } from "../health/worker_health.ts";
import { TASK_KINDS, WITHDRAWN_CODE, type Task } from "../tasks/task.ts";
import { type TaskKind, type TaskType } from "../tasks/task_catalogue.ts";
import type { TaskParams } from "../tasks/task_catalogue.ts";
import { payloadBytes, type TaskStore } from "../tasks/task_store.ts";

/** @default for --queue-max-bytes: 256 MiB of task payloads held by open tasks. */
export const DEFAULT_QUEUE_MAX_BYTES = 256 * 1024 * 1024;
import { REPORT } from "../upstream/endpoints.ts";
import { Account } from "./account.ts";
import { Dispatcher } from "./dispatcher.ts";
import { failAll, stopAccepting, suspend, whenIdle } from "./drain.ts";
import type { EndedTask, ReplayedTask } from "./journal_port.ts";
import { Poller } from "./poller.ts";
import { PoolCore, type PoolOptions, type PoolState } from "./pool_core.ts";
import { restoreTasks, type RestoreResult } from "./restore.ts";
import type { Outcome } from "./upstream_port.ts";

export { SUBMIT_UNCERTAIN } from "./pool_core.ts";
export type { PoolOptions, PoolState, RestoreResult };

export class SolverPool {
  readonly #core: PoolCore;
  readonly #account: Account;
  readonly #poller: Poller;
  readonly #dispatcher: Dispatcher;
  /** Tasks whose report is with the upstream now: a second report meanwhile is a duplicate, not a second call. */
  readonly #reporting = new WeakSet<Task>();

  constructor(options: PoolOptions) {
    this.#core = new PoolCore(options);
    this.#account = new Account(this.#core);
    this.#poller = new Poller(this.#core, this.#account);
    this.#dispatcher = new Dispatcher(this.#core, this.#poller, this.#account);
  }

  /** Every task by id, open or recently ended. */
  get tasks(): TaskStore {
    return this.#core.tasks;
  }

  /** The upstream circuit breaker (for readiness and tests). */
  get circuit(): CircuitBreaker {
    return this.#core.circuit;
  }

  /** Where the pool is in its life: running, draining, suspended or stopped. */
  get state(): PoolState {
    return this.#core.state;
  }

  get queueDepth(): number {
    return this.#core.queued;
  }

  get inFlight(): number {
    return this.#core.bulkhead.total;
  }

  /** In-flight count per kind (for the bulkhead's metrics and tests). */
  inFlightOf(kind: TaskKind): number {
    return this.#core.bulkhead.inFlight(kind);
  }

  /** Load as health reads it, computed now. */
  load(): LoadSnapshot {
    const core = this.#core;
    const now = core.clock.now();
    let oldest = now;
    for (const k of TASK_KINDS) oldest = Math.min(oldest, core.head(k)?.createdAt ?? now);
    // A task out submitting has left its queue but still waits (a refusal puts it back at the head):
    // counted, so the oldest wait does not dip while it is out and jump when it returns.
    for (const task of core.holding.keys()) if (task.status === "queued") oldest = Math.min(oldest, task.createdAt);
    return {
      queueDepth: this.queueDepth,
      inFlight: this.inFlight,
      oldestQueuedAgeMs: now - oldest,
      lastProgressAt: now - core.scheduler.overdueMs,
      busySince: core.busySince,
    };
  }

  /** Accepts a task or throws ERR_QUEUE_FULL / ERR_DRAINING (journaled without waiting for the disk). */
  enqueue(type: TaskType, params: TaskParams): Task {
    const { task, durable } = this.#admit(type, params);
    durable?.catch(() => {}); // a failed write shows as a readiness issue; this caller does not wait
    return task;
  }

  /**
   * enqueue, then waits until the journal holds the task (with --state-dir), so a 202 is only sent
   * for a task that survives a crash. If the journal cannot take it, the task is withdrawn (never
   * submitted, not counted against health) and the error is thrown for a 503.
   */
  async accept(type: TaskType, params: TaskParams): Promise<Task> {
    const { task, durable } = this.#admit(type, params);
    try {
      await durable;
    } catch (err) {
      // Its submit waits on a write in the same failed batch, so it cannot have been sent.
      if (task.status === "queued") this.#core.fail(task, WITHDRAWN_CODE, "The task could not be recorded; it was withdrawn.", undefined);
      throw err;
    }
    return task;
  }

  /** Queues a new task; its journal record goes first, before anything the pump may write about it. */
  #admit(type: TaskType, params: TaskParams): { task: Task; durable: Promise<void> | undefined } {
    const core = this.#core;
    if (core.state !== "running") throw new WorkerError("ERR_DRAINING");
    if (core.queued >= core.o.queueMax) {
      throw new WorkerError("ERR_QUEUE_FULL", undefined, { data: { queueMax: core.o.queueMax } });
    }
    const bytes = payloadBytes({ params });
    const maxBytes = core.o.queueMaxBytes ?? DEFAULT_QUEUE_MAX_BYTES;
    if (core.tasks.openBytes + bytes > maxBytes) {
      throw new WorkerError("ERR_QUEUE_FULL", `The queue is full (its tasks hold ${core.tasks.openBytes} of ${maxBytes} bytes; this one needs ${bytes}).`);
    }
    const now = core.clock.now();
    const task = core.newTask(core.ids.next(), type, params, now, now + core.o.taskTimeoutMs);
    core.track(task, bytes);
    const durable = core.o.journal?.accepted(task);
    core.enqueue(task);
    this.#dispatcher.pump();
    return { task, durable };
  }

  /**
   * Takes back the open tasks of a journal after a restart: those the upstream holds are polled by
   * their id, those whose submit may have landed fail with SUBMIT_UNCERTAIN, those past their
   * deadline fail with `timeout`, the rest are queued again in their original order; `ended` ones
   * are answered again as they ended.
   */
  restore(replayed: readonly ReplayedTask[], ended: readonly EndedTask[] = []): RestoreResult {
    return restoreTasks(this.#core, this.#poller, replayed, ended);
  }

  /**
   * Forwards reportgood/reportbad for a solved task (cancelled by suspend and failAll), once: a task
   * already reported, or with a report under way, gets ERROR_DUPLICATE_REPORT without an upstream call.
   */
  async report(task: Task, correct: boolean): Promise<Outcome<string>> {
    const core = this.#core;
    if (task.status !== "solved" || task.upstreamId === undefined) {
      throw new WorkerError("ERR_CONFLICT", `Task ${task.id} is ${task.status}; only solved tasks can be reported.`);
    }
    if (task.reported !== undefined || this.#reporting.has(task)) {
      return { kind: "task_failed", code: "ERROR_DUPLICATE_REPORT", message: "The task was already reported.", blame: "client" };
    }
    this.#reporting.add(task);
    try {
      const outcome = await core.o.upstream.report(task.upstreamId, correct, core.own.signal);
      core.called(REPORT, outcome);
      if (outcome.kind === "ok") {
        task.reported = correct ? "good" : "bad";
        core.o.journal?.reported?.(task);
      }
      return outcome;
    } finally {
      this.#reporting.delete(task);
    }
  }

  /**
   * A balance check (started at `startedAt`) answered: the evidence recovery follows. A protocol
   * answer proves the upstream reachable: it closes a circuit its unreachability opened, and unless
   * it refuses the key it clears a key refusal; a top-up after a low balance also ends the submit
   * back-off at once. A transport failure is reported to health, which calls an idle worker
   * unreachable unless the caller's free task-path call (`taskPathAnswered`) got an answer.
   */
  balanceObserved(outcome: Outcome<number>, startedAt: number, taskPathAnswered?: boolean): void {
    const core = this.#core;
    if (core.abandoned) return;
    // getbalance alone failing while res.php answers (`taskPathAnswered`) is a degraded dependency,
    // not an unreachable upstream.
    core.o.health.balanceChecked(outcome.kind !== "transient" || taskPathAnswered === true, startedAt);
    if (outcome.kind === "transient") return;
    core.circuit.checkSucceeded();
    if (outcome.kind === "fatal_account") return this.#account.refused(outcome.code);
    this.#account.accepted();
    if (outcome.kind !== "ok") return;
    this.#dispatcher.balanceRead(outcome.value);
  }

  /**
   * Draining: stops taking tasks (the API answers 503) and submitting queued ones, which fail at
   * once with `shutdown` (with a journal they stay for the next start); in-flight tasks go on.
   * Returns how many failed.
   */
  stopAccepting(): number {
    return stopAccepting(this.#core);
  }

  /** Resolves when no task holds an upstream slot, or after `timeoutMs`. */
  idle(timeoutMs: number): Promise<void> {
    return whenIdle(this.#core, timeoutMs);
  }

  /** Suspended: stops every timer, cancels every upstream call and leaves open tasks to the journal. Returns how many. */
  suspend(): number {
    return suspend(this.#core);
  }

  /** Stopped: fails every task not yet ended with `code` (e.g. `shutdown`), cancelling their calls. Returns how many. */
  failAll(code: string, message: string): number {
    return failAll(this.#core, code, message);
  }
}
