/**
 * The solver pool: bounded FIFO queues per kind, at most `threads` tasks holding an upstream slot,
 * polls and deadlines on one scheduler, and the upstream's trouble handled as docs/upstream.md says (back-off
 * pauses submissions, fatal account codes stop them, transport failures feed a circuit breaker).
 * This facade admits tasks, forwards reports and runs the lifecycle; its private parts (_dispatcher,
 * _poller, _account, _restore, _drain, _bulkhead) do the rest over the state in _pool_core.ts.
 */
import type { CircuitBreaker } from "../base/circuit_breaker.ts";
import { WorkerError } from "../base/errors.ts";
import type { LoadSnapshot } from "../health/worker_health.ts";
import { TASK_KINDS, WITHDRAWN_CODE, type Task } from "../tasks/task.ts";
import { TASK_TYPES, type TaskKind, type TaskParams, type TaskType } from "../tasks/task_catalogue.ts";
import { payloadBytes } from "../tasks/task_store.ts";
import { REPORT } from "../upstream/endpoints.ts";
import { Dispatcher } from "./_dispatcher.ts";
import { failAll, stopAccepting, suspend, whenIdle } from "./_drain.ts";
import type { EndedTask, ReplayedTask } from "./journal_port.ts";
import { Poller } from "./_poller.ts";
import { PoolCore } from "./_pool_core.ts";
import { restoreTasks, type RestoreResult } from "./_restore.ts";
import { DEFAULT_QUEUE_MAX_BYTES, type LaneUpdate, type PoolOptions, type PoolState, type ProviderState } from "./pool_options.ts";
import type { Outcome } from "./upstream_port.ts";

export { SUBMIT_UNCERTAIN } from "./_pool_core.ts";
export type { LaneUpdate, ProviderState, RestoreResult };

/** What the pool's task store holds (memory budgets, leak checks). */
export interface StoredTasks {
  /** Tasks not yet ended. */
  open: number;
  /** Ended tasks kept for their clients to read. */
  finished: number;
  /** Payload bytes of the open tasks (the queue's byte budget). */
  openBytes: number;
  /** Bytes the ended tasks hold. */
  finishedBytes: number;
  /** Clients waiting on a task's end. */
  waiters: number;
}

export class SolverPool {
  readonly #core: PoolCore;
  readonly #poller: Poller;
  readonly #dispatcher: Dispatcher;
  /** Tasks whose report is with the upstream now: a second report meanwhile is a duplicate, not a second call. */
  readonly #reporting = new WeakSet<Task>();

  constructor(options: PoolOptions) {
    // The core asks the dispatcher to pump whenever something frees; it never does before this constructor returns.
    this.#core = new PoolCore(options, () => this.#dispatcher.pump());
    this.#poller = new Poller(this.#core);
    this.#dispatcher = new Dispatcher(this.#core, this.#poller);
  }

  /** The task `id`, open or recently ended (retention); undefined when unknown or forgotten. */
  find(id: string): Task | undefined {
    return this.#core.tasks.get(id);
  }

  /**
   * Resolves when task `id` ends, `timeoutMs` passes or `signal` aborts (a client gone away: only
   * its wait is dropped, never the task); at once after releaseWaiters.
   */
  wait(id: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    return this.#core.tasks.wait(id, timeoutMs, signal);
  }

  /**
   * The shutdown deadline: every client waiting on a task gets it as it stands now, and no new wait
   * begins. Returns how many were waiting.
   */
  releaseWaiters(): number {
    return this.#core.tasks.releaseWaiters();
  }

  /** Whether releaseWaiters was called: open tasks will not progress in this process. */
  get released(): boolean {
    return this.#core.tasks.released;
  }

  /** Tasks of `client` not yet ended, whichever API took them. */
  openOf(client: string): number {
    return this.#core.tasks.openOf(client);
  }

  /** True when `client` holds `maxInFlight` open tasks already (no limit: never); every API asks this before accepting. */
  atClientLimit(client: string, maxInFlight: number | undefined): boolean {
    return this.#core.tasks.atClientLimit(client, maxInFlight);
  }

  /** What the pool holds now: tasks open and ended (kept for their clients), their bytes, and clients waiting. */
  get stored(): StoredTasks {
    const t = this.#core.tasks;
    return { open: t.openCount, finished: t.finishedCount, openBytes: t.openBytes, finishedBytes: t.finishedBytes, waiters: t.waiterCount };
  }

  /** The first provider's circuit breaker (the lone upstream's, without a providers file: readiness and tests). */
  get circuit(): CircuitBreaker {
    return this.#core.lanes[0]!.circuit;
  }

  /** The providers' names, in order of preference. */
  get providers(): readonly string[] {
    return this.#core.lanes.map((l) => l.name);
  }

  /** Whether any provider in use takes `type` at all (`proxied`: with the task's proxy), by its types= and dialect. */
  takes(type: TaskType, proxied: boolean): boolean {
    return this.#core.lanes.some((l) => l.takes(type, proxied));
  }

  /** What the pool knows of one provider now (metrics, the status page, the HAProxy weight). */
  provider(name: string): ProviderState | undefined {
    const lane = this.#core.lanes.find((l) => l.name === name);
    if (!lane) return undefined;
    const now = this.#core.clock.now();
    return {
      name: lane.name,
      busy: lane.bulkhead.total,
      limit: lane.slots.limit,
      plan: lane.plan ? lane.threads : undefined,
      capacityRefusals: lane.slots.refusals,
      circuit: lane.circuit.state,
      refusedCode: lane.refusedCode,
      paused: lane.pausedAt(now),
      spentTodayUsd: lane.spentTodayUsd(now),
      budgetLeftUsd: lane.budgetLeftUsd(now),
      dailyBudgetUsd: lane.dailyBudgetUsd,
      budgetSpent: lane.budgetSpent(now, TASK_TYPES),
      removed: lane.removed,
      trial: this.#dispatcher.trialSince(lane) !== undefined || lane.circuit.state === "half_open",
      trialSince: this.#dispatcher.trialSince(lane),
    };
  }

  /**
   * A reload (docs/providers.md): `update` changes what the providers file says of provider `name`;
   * `removed` takes it out of the running for new tasks (it still polls and reports the ones it
   * holds) or back in. What may start now starts. False for a name it does not know.
   */
  reconfigure(name: string, update: LaneUpdate & { removed?: boolean }): boolean {
    const lane = this.#core.lanes.find((l) => l.name === name);
    if (!lane) return false;
    const { removed, ...rest } = update;
    lane.reconfigure(rest);
    if (removed !== undefined) lane.removed = removed;
    this.#dispatcher.pump();
    return true;
  }

  /** Where the pool is in its life: running, draining, suspended or stopped. */
  get state(): PoolState {
    return this.#core.state;
  }

  get queueDepth(): number {
    return this.#core.queued;
  }

  get inFlight(): number {
    return this.#core.inFlight;
  }

  /** In-flight count per kind, all providers together (for the bulkhead's metrics and tests). */
  inFlightOf(kind: TaskKind): number {
    let n = 0;
    for (const l of this.#core.lanes) n += l.bulkhead.inFlight(kind);
    return n;
  }

  /** Load as health reads it, computed now. */
  load(): LoadSnapshot {
    const core = this.#core;
    const now = core.clock.now();
    let oldest = now;
    // Tasks only providers that are out take wait on an outage `provider_down` says: not a backlog.
    for (const k of TASK_KINDS) oldest = Math.min(oldest, core.queue.oldest(k, (key) => core.stranded.has(key), now)?.createdAt ?? now);
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
    const limits = core.o.limits;
    if (core.queued >= limits.queueMax) {
      throw new WorkerError("ERR_QUEUE_FULL", undefined, { data: { queueMax: limits.queueMax } });
    }
    const bytes = payloadBytes({ params });
    const maxBytes = limits.queueMaxBytes ?? DEFAULT_QUEUE_MAX_BYTES;
    if (core.tasks.openBytes + bytes > maxBytes) {
      throw new WorkerError("ERR_QUEUE_FULL", `The queue is full (its tasks hold ${core.tasks.openBytes} of ${maxBytes} bytes; this one needs ${bytes}).`);
    }
    const now = core.clock.now();
    const task = core.newTask(core.ids.next(), type, params, now, now + core.o.timing.taskTimeoutMs);
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
  restore(replayed: readonly ReplayedTask[], ended: readonly EndedTask[] = [], spends: readonly { provider: string; day: string; usd: number }[] = []): RestoreResult {
    // Today's spend comes back first, so a budget spent before the restart stays spent.
    const now = this.#core.clock.now();
    for (const s of spends) this.#core.lanes.find((l) => l.name === s.provider)?.spend(s.usd, now, s.day);
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
      // Reports go to the provider that solved the task, in its protocol.
      const lane = core.lane(task.provider);
      const outcome = await lane.upstream.report(task.upstreamId, correct, core.own.signal, task.type);
      core.called(lane, REPORT, outcome);
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
  balanceObserved(outcome: Outcome<number>, startedAt: number, taskPathAnswered?: boolean, provider?: string): void {
    const core = this.#core;
    if (core.abandoned) return;
    const lane = core.lane(provider);
    // getbalance alone failing while res.php answers (`taskPathAnswered`) is a degraded dependency,
    // not an unreachable upstream.
    const wasUnreachable = lane.unreachable;
    lane.health.balanceChecked(outcome.kind !== "transient" || taskPathAnswered === true, startedAt);
    if (outcome.kind === "transient") return;
    lane.circuit.checkSucceeded();
    if (outcome.kind === "fatal_account") return lane.refused(outcome.code);
    lane.accepted();
    // Back in the running: the tasks only it takes go now (nothing else need move to pump them).
    if (wasUnreachable && !lane.unreachable) core.pump();
    if (outcome.kind !== "ok") return;
    this.#dispatcher.balanceRead(lane, outcome.value);
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
