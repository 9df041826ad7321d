/**
 * What the parts of the solver pool share: its options, queues, the provider lanes (each with its
 * slots, circuit and back-off: _lane.ts), timers and lifecycle state, and the steps every part
 * takes on a task (hold a lane's slot, give it back, requeue, fail, end) and on an upstream call
 * (timing, log, the lane's circuit). Private to src/solver: the SolverPool facade is the API.
 */
import type { TaskFailureCode } from "../base/error_registry.ts";
import { wallTime, type Clock } from "../base/clock.ts";
import { RepeatLimiter } from "../base/repeat_limiter.ts";
import { Scheduler, type ScheduledJob } from "../base/scheduler.ts";
import { withoutPayload, type FailureBlame, type Task } from "../tasks/task.ts";
import { kindOf, type TaskKind, type TaskType } from "../tasks/task_catalogue.ts";
import type { TaskParams } from "../tasks/task_catalogue.ts";
import { TaskIdGenerator } from "../tasks/task_id.ts";
import { TaskStore } from "../tasks/task_store.ts";
import { SUBMIT, type Endpoint } from "../upstream/endpoints.ts";
import { Lane, utcDay } from "./_lane.ts";
import { TaskQueues } from "./_task_queues.ts";
import type { LaneOptions, PoolOptions, PoolState } from "./pool_options.ts";
import type { Outcome } from "./upstream_port.ts";

/** The code a task fails with when its submit may have reached the upstream without an answer. */
export const SUBMIT_UNCERTAIN = "SUBMIT_UNCERTAIN" satisfies TaskFailureCode;

export class PoolCore {
  readonly o: PoolOptions;
  readonly clock: Clock;
  readonly scheduler: Scheduler;
  readonly tasks: TaskStore;
  /** New task ids (docs/cluster.md): integers, unique across restarts, the node in the low bits. */
  readonly ids: TaskIdGenerator;
  /** The providers, in order of preference (one without a providers file). */
  readonly lanes: readonly Lane[];
  readonly repeats: RepeatLimiter;
  /** The queued tasks, one FIFO per routing class (_task_queues.ts). */
  readonly queue = new TaskQueues();
  /**
   * With several providers, the routing classes no provider was busy for at the last pump: each one
   * that takes them is out (down or spent; not removed: a class only a removed provider took is a backlog). Their tasks wait on an outage already said as
   * `provider_down`, so the queue's wait leaves them out (docs/providers.md, Routing).
   */
  stranded: ReadonlySet<string> = new Set();
  /** Per open task: its deadline and its next poll. */
  readonly timers = new Map<string, { deadline: ScheduledJob; next?: ScheduledJob }>();
  /** Each held task: its lane, its calls' controller, its price when taken, what its budget holds for it, and its provider before. */
  readonly holding = new Map<Task, { lane: Lane; controller: AbortController; priceUsd: number; reservedUsd: number; before: string | undefined }>();
  /** Cancels the pool's own calls (the key re-check, reports). */
  readonly own = new AbortController();
  readonly idleWaiters = new Set<() => void>();
  /** Starts what may start now (the dispatcher's pump). */
  readonly #pump: () => void;
  #busySince: number | undefined;
  #state: PoolState = "running";

  /** `pump`: starts what may start; called whenever a slot frees, a pause ends or the circuit lets calls through. */
  constructor(options: PoolOptions, pump: () => void) {
    this.o = options;
    this.#pump = pump;
    this.clock = options.clock;
    this.scheduler = new Scheduler(options.clock, (err) => options.log.error("scheduled job failed", { err }));
    this.tasks = new TaskStore(options.clock, options.retention);
    this.ids = new TaskIdGenerator({ now: () => options.clock.now(), nodeId: options.nodeId });
    this.repeats = new RepeatLimiter(options.log, options.clock);
    const ctx = { clock: options.clock, scheduler: this.scheduler, log: options.log, random: options.random ?? Math.random, pump: () => this.pump() };
    this.lanes = lanesOf(options).map((o) => new Lane(o, ctx));
  }

  /** The lane named `name` (a task's provider); the first when it names none or one no longer there. */
  lane(name: string | undefined): Lane {
    return (name === undefined ? undefined : this.lanes.find((l) => l.name === name)) ?? this.lanes[0]!;
  }

  /** The lane whose slot `task` holds, or its provider's. */
  laneOf(task: Task): Lane {
    return this.holding.get(task)?.lane ?? this.lane(task.provider);
  }

  /** Tasks holding a slot, all lanes together. */
  get inFlight(): number {
    return this.lanes.reduce((n, l) => n + l.bulkhead.total, 0);
  }

  /** Starts what may start now: a slot freed, a pause ended, the key works again, tasks came back. */
  pump(): void {
    this.#pump();
  }

  /** Where the pool is in its life: running, draining, suspended or stopped. */
  get state(): PoolState {
    return this.#state;
  }

  /** The pool moves on in its life (drain.ts): draining, suspended, stopped. */
  enter(state: Exclude<PoolState, "running">): void {
    this.#state = state;
  }

  /** When work last started waiting on an idle pool (nothing queued, nothing in flight). */
  get busySince(): number | undefined {
    return this.#busySince;
  }

  /** Work waits from `at` (restored tasks wait from the restart, not from before it). */
  busyFrom(at: number): void {
    this.#busySince = at;
  }

  /** Live queued tasks: derived from the queue's set, so no path can make it drift or go negative. */
  get queued(): number {
    return this.queue.size;
  }

  /** Live queued tasks of `kind`. */
  queuedOf(kind: TaskKind): number {
    return this.queue.ofKind(kind);
  }

  /** Puts `task` in its queue (at the front after a refusal); notes when an idle pool got work. */
  enqueue(task: Task, front = false): void {
    if (this.queue.size === 0 && this.holding.size === 0) this.#busySince = this.clock.now();
    this.queue.add(task, front);
  }

  /** Takes `task` out of its queue. */
  takeFromQueue(task: Task): void {
    this.queue.remove(task);
  }

  /** Calls made now are abandoned (their answers dropped): the pool was suspended or stopped. */
  get abandoned(): boolean {
    return this.#state === "suspended" || this.#state === "stopped";
  }

  newTask(id: string, type: TaskType, params: TaskParams, createdAt: number, deadlineAt: number): Task {
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
      useragent: undefined,
      error: undefined,
      submissions: 0,
      polls: 0,
      reported: undefined,
      timing: { queueMs: 0, upstreamMs: 0, waitMs: 0, queuedSince: this.clock.now() },
    };
  }

  /** Registers a task with its deadline timer (already passed: fires on the next run); `bytes`: its payload size if known. */
  track(task: Task, bytes?: number): void {
    this.tasks.add(task, bytes);
    const delayMs = Math.max(0, task.deadlineAt - this.clock.now());
    this.timers.set(task.id, { deadline: this.scheduler.schedule(delayMs, () => this.#expire(task)) });
  }

  /** Gives `task` a slot of `lane` and the AbortController of its calls; the task is that provider's now (a refusal gives it back). */
  hold(task: Task, lane: Lane): void {
    lane.bulkhead.acquire(task.kind);
    this.holding.set(task, { lane, controller: new AbortController(), priceUsd: lane.priceUsd(task.type), reservedUsd: lane.commit(task.type), before: task.provider });
    task.provider = lane.name;
  }

  /** The signal that cancels `task`'s calls (the pool's own when it holds no slot). */
  signalOf(task: Task): AbortSignal {
    return this.holding.get(task)?.controller.signal ?? this.own.signal;
  }

  /** Cancels every call under way: the tasks' and the pool's own. */
  abortAll(): void {
    for (const h of this.holding.values()) h.controller.abort();
    this.own.abort();
  }

  /** Stops every timer (deadlines, polls, the lanes' pauses): suspend and failAll. */
  stopTimers(): void {
    this.scheduler.stop();
    for (const l of this.lanes) l.dropTimers();
  }

  /**
   * An upstream call made for `task` with its signal: its time goes to the task's timing, its answer
   * to the log and the circuit. Undefined when the pool abandoned the call meanwhile.
   */
  async callFor<T>(task: Task, lane: Lane, endpoint: Endpoint, call: (signal: AbortSignal) => Promise<Outcome<T>>): Promise<Outcome<T> | undefined> {
    const started = this.clock.now();
    const outcome = await call(this.signalOf(task));
    if (this.abandoned) {
      // Cancelled before it could be written (not connected yet): the journal says so, so the next
      // start submits it again instead of failing it SUBMIT_UNCERTAIN.
      if (endpoint === SUBMIT && outcome.kind === "transient" && !outcome.maybeDelivered) this.o.journal?.unsubmitted(task);
      return undefined;
    }
    task.timing.upstreamMs += this.clock.now() - started;
    this.called(lane, endpoint, outcome);
    this.noteTransport(lane, outcome, started);
    return outcome;
  }

  /** Every upstream answer's trouble to the log, rate-limited per provider, endpoint and code. */
  called(lane: Lane, endpoint: Endpoint, outcome: Outcome<unknown>): void {
    if (outcome.kind === "ok" || outcome.kind === "not_ready") return;
    if (outcome.kind === "back_off" && lane.refusesThreads(outcome.code)) {
      // The plan's threads are all busy: the limit absorbs it (docs/providers.md, Thread plan), no warning.
      if (this.o.log.enabled("debug")) this.o.log.debug("upstream has no free thread; the limit adapts", { endpoint, code: outcome.code, limit: lane.slots.limit, ...lane.tag });
      return;
    }
    if (outcome.kind === "task_failed" && outcome.blame === "client") return; // the task's own debug line says it
    const what = outcome.kind === "back_off" ? "upstream asks to back off; submissions paused" : `upstream ${outcome.kind.replace("_", " ")}`;
    this.repeats.warn(`${lane.name} ${endpoint} ${outcome.code}`, what, { endpoint, code: outcome.code, message: outcome.message, ...lane.tag });
  }

  /**
   * A task-path answer feeds its lane's circuit breaker: a protocol answer closes it, a transport
   * failure counts toward opening it and asks for a balance check at once (is that upstream down?).
   */
  noteTransport(lane: Lane, outcome: Outcome<unknown>, startedAt: number): void {
    if (outcome.kind !== "transient") return lane.circuit.success();
    lane.circuit.failure(startedAt);
    lane.options.onEvidence?.();
  }

  /** The first live queued task of `kind`. */
  head(kind: TaskKind): Task | undefined {
    return this.queue.head(kind);
  }

  /** Back to the head of its queue after a submit that surely did not land: the provider that refused it does not have it. */
  requeue(task: Task): void {
    this.o.journal?.unsubmitted(task);
    if (this.holding.has(task)) task.provider = this.holding.get(task)!.before;
    this.giveBack(task);
    task.timing.queuedSince = this.clock.now();
    this.enqueue(task, true);
  }

  leaveQueue(task: Task, now: number): void {
    if (task.timing.queuedSince === undefined) return;
    task.timing.queueMs += now - task.timing.queuedSince;
    task.timing.queuedSince = undefined;
  }

  /** Gives the slot back and lets the next task take it. */
  release(task: Task): void {
    this.giveBack(task);
    this.pump();
  }

  /** Gives the slot back (idempotent); the last one wakes the idle waiters. */
  giveBack(task: Task): void {
    const held = this.holding.get(task);
    if (!held) return;
    this.holding.delete(task);
    held.lane.bulkhead.release(task.kind);
    held.lane.uncommit(task.type, held.reservedUsd);
    held.lane.slots.released(task);
    if (this.holding.size === 0) for (const w of [...this.idleWaiters]) w();
  }

  /**
   * A solve charged to its provider: the cost its answer reports (JSON APIs that do), else its price
   * for the type when the provider took it; a thread plan's solves cost nothing. The day's total goes to the journal.
   */
  charge(task: Task, lane: Lane, reportedUsd?: number): void {
    if (lane.plan) return;
    if (reportedUsd !== undefined) lane.noteCost(task.type, reportedUsd);
    const usd = reportedUsd ?? this.holding.get(task)?.priceUsd ?? lane.priceUsd(task.type);
    if (usd <= 0) return;
    const now = this.clock.now();
    const total = lane.spend(usd, now);
    // A task resubmitted after an unsolvable answer billed by its provider costs both.
    task.costUsd = Math.round(((task.costUsd ?? 0) + usd) * 1e6) / 1e6;
    this.o.onSpend?.(lane.name, utcDay(wallTime(this.clock, now)), total);
  }

  /** Fails `task`; `blame` undefined or "nobody": charged to nobody (a shutdown, a type the upstream does not take). */
  fail(task: Task, code: string, message: string, charged: FailureBlame | "nobody" | undefined): void {
    const blame = charged === "nobody" ? undefined : charged;
    // Charged to the provider that has it; a task waiting in the queue is no provider's fault, but the lone one's.
    const at = this.holding.get(task)?.lane ?? (task.status !== "queued" || this.lanes.length === 1 ? this.lane(task.provider) : undefined);
    this.queue.remove(task); // its FIFO entry goes lazily
    this.giveBack(task);
    task.status = "failed";
    task.error = blame ? { code, message, blame } : { code, message };
    this.end(task);
    if (blame) at?.health.failed(task.type, code, blame);
  }

  end(task: Task): void {
    task.endedAt = this.clock.now();
    this.o.journal?.ended(task);
    task.params = withoutPayload(task.params); // retained results hold no image
    this.leaveQueue(task, task.endedAt);
    const timers = this.timers.get(task.id);
    timers?.deadline.cancel();
    timers?.next?.cancel();
    this.timers.delete(task.id);
    this.tasks.ended(task);
    this.o.taskEnds?.publish(task);
    this.pump();
  }

  #expire(task: Task): void {
    if (task.status === "solved" || task.status === "failed") return;
    this.fail(task, "timeout" satisfies TaskFailureCode, `Not solved within ${this.o.timing.taskTimeoutMs}ms.`, "worker");
  }
}

/** The lanes the options describe: its providers, or one lane of the lone upstream. */
function lanesOf(o: PoolOptions): readonly LaneOptions[] {
  if (o.providers && o.providers.length > 0) return o.providers;
  if (!o.upstream || !o.health) throw new Error("A solver pool needs its providers, or an upstream and a health feed.");
  return [{ name: "captchaai", upstream: o.upstream, health: o.health, threads: o.limits.threads ?? 5, bulkhead: o.limits.bulkhead, ...o.account }];
}
