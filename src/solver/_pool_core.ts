/**
 * What the parts of the solver pool share: its options, queues, slots, timers and lifecycle state,
 * and the steps every part takes on a task (hold a slot, give it back, requeue, fail, end) and on an
 * upstream call (timing, log, circuit). Private to src/solver: the SolverPool facade is the API.
 */
import type { TaskFailureCode } from "../base/error_registry.ts";
import { Backoff } from "../base/backoff.ts";
import { CircuitBreaker, type CircuitState } from "../base/circuit_breaker.ts";
import type { Clock } from "../base/clock.ts";
import { Deque } from "../base/deque.ts";
import { RepeatLimiter } from "../base/repeat_limiter.ts";
import { Scheduler, type ScheduledJob } from "../base/scheduler.ts";
import { withoutPayload, type FailureBlame, type Task } from "../tasks/task.ts";
import { kindOf, type TaskKind, type TaskType } from "../tasks/task_catalogue.ts";
import type { TaskParams } from "../tasks/task_catalogue.ts";
import { TaskIdGenerator } from "../tasks/task_id.ts";
import { TaskStore } from "../tasks/task_store.ts";
import { SUBMIT, type Endpoint } from "../upstream/endpoints.ts";
import { Bulkhead } from "./_bulkhead.ts";
import type { PoolOptions, PoolState } from "./pool_options.ts";
import type { Outcome } from "./upstream_port.ts";

/** The code a task fails with when its submit may have reached the upstream without an answer. */
export const SUBMIT_UNCERTAIN = "SUBMIT_UNCERTAIN" satisfies TaskFailureCode;

export class PoolCore {
  readonly o: PoolOptions;
  readonly clock: Clock;
  readonly scheduler: Scheduler;
  readonly tasks: TaskStore;
  /** New task ids (README, Scaling out): integers, unique across restarts, the node in the low bits. */
  readonly ids: TaskIdGenerator;
  readonly circuit: CircuitBreaker;
  readonly bulkhead: Bulkhead;
  readonly repeats: RepeatLimiter;
  readonly queues: Record<TaskKind, Deque<Task>> = { image: new Deque(), token: new Deque() };
  /** Pauses submissions after refusals (README, How the worker treats the upstream). */
  readonly submitBackoff: Backoff;
  /** Per open task: its deadline and its next poll. */
  readonly timers = new Map<string, { deadline: ScheduledJob; next?: ScheduledJob }>();
  /** Tasks holding an upstream slot (submitting or submitted), each with what cancels its calls. */
  readonly holding = new Map<Task, AbortController>();
  /** Cancels the pool's own calls (the key re-check, reports). */
  readonly own = new AbortController();
  readonly idleWaiters = new Set<() => void>();
  /** Live queued tasks (the deques may also hold ended ones, dropped lazily at their heads). */
  readonly #queued = new Set<Task>();
  /** Starts what may start now (the dispatcher's pump). */
  readonly #pump: () => void;
  #busySince: number | undefined;
  #state: PoolState = "running";
  /** Submissions wait until then (a back-off or an open circuit); #resumeJob pumps again at that time. */
  #pausedUntil = 0;
  #resumeJob: ScheduledJob | undefined;

  /** `pump`: starts what may start; called whenever a slot frees, a pause ends or the circuit lets calls through. */
  constructor(options: PoolOptions, pump: () => void) {
    this.o = options;
    this.#pump = pump;
    this.clock = options.clock;
    this.scheduler = new Scheduler(options.clock, (err) => options.log.error("scheduled job failed", { err }));
    this.tasks = new TaskStore(options.clock, options.retention);
    this.ids = new TaskIdGenerator({ now: () => options.clock.now(), nodeId: options.nodeId });
    this.repeats = new RepeatLimiter(options.log, options.clock);
    this.bulkhead = new Bulkhead(options.limits.threads, options.limits.bulkhead);
    this.submitBackoff = new Backoff({ baseMs: 1000, maxMs: 60_000, random: options.random ?? Math.random });
    this.circuit = new CircuitBreaker(options.clock, {
      onChange: (state: CircuitState) => {
        options.health.circuit(state);
        options.log.warn("upstream circuit " + state.replace("_", "-"), { circuit: state, cause: this.circuit.cause });
        if (state !== "open") this.pump();
      },
    });
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

  /** Live queued tasks: derived from the set, so no path can make it drift or go negative. */
  get queued(): number {
    return this.#queued.size;
  }

  /** Puts `task` in its queue (at the front after a refusal); notes when an idle pool got work. */
  enqueue(task: Task, front = false): void {
    if (this.#queued.size === 0 && this.holding.size === 0) this.#busySince = this.clock.now();
    this.#queued.add(task);
    if (front) this.queues[task.kind].unshift(task);
    else this.queues[task.kind].push(task);
  }

  /** Takes the oldest live queued task of `kind` out of its queue. */
  dequeue(kind: TaskKind): Task | undefined {
    const task = this.head(kind);
    if (task === undefined) return undefined;
    this.queues[kind].shift();
    this.#queued.delete(task);
    return task;
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

  /** Gives `task` an upstream slot and the AbortController of its calls. */
  hold(task: Task): void {
    this.holding.set(task, new AbortController());
    this.bulkhead.acquire(task.kind);
  }

  /** The signal that cancels `task`'s calls (the pool's own when it holds no slot). */
  signalOf(task: Task): AbortSignal {
    return this.holding.get(task)?.signal ?? this.own.signal;
  }

  /** Cancels every call under way: the tasks' and the pool's own. */
  abortAll(): void {
    for (const controller of this.holding.values()) controller.abort();
    this.own.abort();
  }

  /** Whether submissions are paused at `now` (a back-off or an open circuit's cool-down). */
  pausedAt(now: number): boolean {
    return now < this.#pausedUntil;
  }

  /** Pauses submissions for `ms` (the longer pause wins); the pump runs again when it ends. */
  pauseFor(ms: number): void {
    const until = this.clock.now() + ms;
    if (this.#resumeJob && until <= this.#pausedUntil) return;
    this.#pausedUntil = until;
    this.#resumeJob?.cancel();
    this.#resumeJob = this.scheduler.schedule(ms, () => {
      this.#resumeJob = undefined;
      this.pump();
    });
  }

  /** Ends a pending pause now (the money came back); the caller pumps. A pause already over stays as it is. */
  clearPause(): void {
    if (this.#resumeJob === undefined) return;
    this.#resumeJob.cancel();
    this.#resumeJob = undefined;
    this.#pausedUntil = 0;
  }

  /** Stops every timer (deadlines, polls, the pause's end): suspend and failAll. */
  stopTimers(): void {
    this.scheduler.stop();
    this.#resumeJob = undefined;
  }

  /**
   * An upstream call made for `task` with its signal: its time goes to the task's timing, its answer
   * to the log and the circuit. Undefined when the pool abandoned the call meanwhile.
   */
  async callFor<T>(task: Task, endpoint: Endpoint, call: (signal: AbortSignal) => Promise<Outcome<T>>): Promise<Outcome<T> | undefined> {
    const started = this.clock.now();
    const outcome = await call(this.signalOf(task));
    if (this.abandoned) {
      // Cancelled before it could be written (not connected yet): the journal says so, so the next
      // start submits it again instead of failing it SUBMIT_UNCERTAIN.
      if (endpoint === SUBMIT && outcome.kind === "transient" && !outcome.maybeDelivered) this.o.journal?.unsubmitted(task);
      return undefined;
    }
    task.timing.upstreamMs += this.clock.now() - started;
    this.called(endpoint, outcome);
    this.noteTransport(outcome, started);
    return outcome;
  }

  /** Every upstream answer's trouble to the log, rate-limited per endpoint and code. */
  called(endpoint: Endpoint, outcome: Outcome<unknown>): void {
    if (outcome.kind === "ok" || outcome.kind === "not_ready") return;
    if (outcome.kind === "task_failed" && outcome.blame === "client") return; // the task's own debug line says it
    const what = outcome.kind === "back_off" ? "upstream asks to back off; submissions paused" : `upstream ${outcome.kind.replace("_", " ")}`;
    this.repeats.warn(`${endpoint} ${outcome.code}`, what, { endpoint, code: outcome.code, message: outcome.message });
  }

  /**
   * A task-path answer feeds the circuit breaker: a protocol answer closes it, a transport failure
   * counts toward opening it and asks for a balance check at once (is the whole upstream down?).
   */
  noteTransport(outcome: Outcome<unknown>, startedAt: number): void {
    if (outcome.kind !== "transient") return this.circuit.success();
    this.circuit.failure(startedAt);
    this.o.account?.onEvidence?.();
  }

  /** The oldest live queued task of `kind`, dropping ended ones from the front. */
  head(kind: TaskKind): Task | undefined {
    const q = this.queues[kind];
    while (q.length > 0 && q.peek()!.status !== "queued") q.shift();
    return q.peek();
  }

  /** Back to the head of its queue after a submit that surely did not land. */
  requeue(task: Task): void {
    this.o.journal?.unsubmitted(task);
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
    if (!this.holding.delete(task)) return;
    this.bulkhead.release(task.kind);
    if (this.holding.size === 0) for (const w of [...this.idleWaiters]) w();
  }

  /** Fails `task`; `blame` undefined or "nobody": charged to nobody (a shutdown, a type the upstream does not take). */
  fail(task: Task, code: string, message: string, charged: FailureBlame | "nobody" | undefined): void {
    const blame = charged === "nobody" ? undefined : charged;
    this.#queued.delete(task); // its deque entry goes lazily
    this.giveBack(task);
    task.status = "failed";
    task.error = blame ? { code, message, blame } : { code, message };
    this.end(task);
    if (blame) this.o.health.failed(task.type, code, blame);
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
