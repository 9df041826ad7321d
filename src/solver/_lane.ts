/**
 * One provider's lane in the pool: its upstream client and everything the pool knows of that account
 * on its own (docs/providers.md): its circuit, its slots (a thread plan's adaptive limit,
 * docs/providers.md, Thread plan, or a per-solve account's cap, split by bulkhead), its submit back-off, a refused key,
 * whether its money is there, the types it answered it does not take, and what it spent today. The
 * dispatcher asks each lane in order whether it can take a task.
 */
import { Backoff } from "../base/backoff.ts";
import { CircuitBreaker, type CircuitState } from "../base/circuit_breaker.ts";
import { wallTime, type Clock } from "../base/clock.ts";
import type { Logger } from "../base/log.ts";
import type { ScheduledJob, Scheduler } from "../base/scheduler.ts";
import { balanceFunded } from "../health/readiness.ts";
import type { HealthFeed } from "../health/worker_health.ts";
import type { Task } from "../tasks/task.ts";
import type { TaskType } from "../tasks/task_catalogue.ts";
import type { Bulkhead } from "./_bulkhead.ts";
import { LaneSlots } from "./_lane_slots.ts";
import type { LaneOptions, LaneUpdate, PauseReason } from "./pool_options.ts";
import type { SolverUpstream } from "./upstream_port.ts";

/** How long a type the upstream answered "not supported" is not sent to that provider again. */
export const UNSUPPORTED_FOR_MS = 10 * 60_000;


export class Lane {
  readonly name: string;
  readonly upstream: SolverUpstream;
  readonly health: HealthFeed;
  readonly circuit: CircuitBreaker;
  /** Its slots: the bulkhead within a plan's adaptive limit or a fixed cap. */
  readonly slots: LaneSlots;
  readonly submitBackoff: Backoff;
  #o: LaneOptions;
  readonly #clock: Clock;
  readonly #scheduler: Scheduler;
  readonly #log: Logger;
  readonly #pump: () => void;
  #pausedUntil = 0;
  #pauseReason: PauseReason = "trouble";
  #resumeJob: ScheduledJob | undefined;
  #refusedCode: string | undefined;
  /** The last balance read was at or above the minimum. */
  #funded = true;
  /** Types this provider answered "not supported", until when. */
  readonly #unsupported = new Map<string, number>();
  /** The highest cost reported per type since the start (JSON APIs that report one). */
  readonly #reported = new Map<TaskType, number>();
  /** Spend this UTC day: the day (YYYY-MM-DD) and the dollars. */
  #spend = { day: "", usd: 0 };
  /** What the tasks it holds will cost if solved (a budget counts them before they are charged), and how many of each type it holds. */
  #committedUsd = 0;
  readonly #heldOf = new Map<TaskType, number>();
  /** Removed by a reload: takes no new task, still polls and reports the ones it holds. */
  removed = false;

  constructor(o: LaneOptions, ctx: { clock: Clock; scheduler: Scheduler; log: Logger; random: () => number; pump: () => void }) {
    this.#o = o;
    this.name = o.name;
    this.upstream = o.upstream;
    this.health = o.health;
    this.#clock = ctx.clock;
    this.#scheduler = ctx.scheduler;
    this.#log = ctx.log;
    this.#pump = ctx.pump;
    this.slots = new LaneSlots(o.threads, o.bulkhead, o.plan ?? true, ctx);
    this.submitBackoff = new Backoff({ baseMs: 1000, maxMs: 60_000, random: ctx.random });
    this.circuit = new CircuitBreaker(ctx.clock, {
      onChange: (state: CircuitState) => {
        o.health.circuit(state);
        // Opening is trouble; closing (or half-opening to try) is the way back.
        const line = state === "open" ? ctx.log.warn : ctx.log.info;
        line.call(ctx.log, "upstream circuit " + state.replace("_", "-"), { circuit: state, cause: this.circuit.cause, ...this.tag });
        if (state !== "open") ctx.pump();
      },
    });
  }

  /** The provider named in log fields, when there are several (a lone provider's lines stay as they were). */
  get tag(): { provider?: string } {
    return this.#o.named ? { provider: this.name } : {};
  }

  get afterMs(): number {
    return this.#o.afterMs ?? 0;
  }

  get threads(): number {
    return this.#o.threads;
  }

  /**
   * A reload changed what the providers file says of it (docs/providers.md): its slots, billing,
   * `after`, prices, budget or types. The tasks it holds keep their slots and the price they were
   * taken at; what it learnt (a refused key, unsupported types, its spend today) stays.
   */
  reconfigure(update: LaneUpdate): void {
    this.#o = { ...this.#o, ...update };
    if (update.threads !== undefined || update.plan !== undefined) this.slots.reconfigure(this.#o.threads, this.#o.plan ?? true);
  }

  get options(): LaneOptions {
    return this.#o;
  }

  /** Whether this provider takes `type` at all (its types= and its dialect; `proxied`: with the task's proxy), not counting what it refused lately. */
  takes(type: TaskType, proxied = false): boolean {
    return !this.removed && (this.#o.takes?.(type, proxied) ?? true);
  }

  /** Whether its balance check finds it unreachable now (docs/providers.md: work goes to the others meanwhile). */
  get unreachable(): boolean {
    return this.#o.unreachable?.() ?? false;
  }

  /** Until when it is not asked for `type` again, having answered it "not supported" lately; undefined: it is asked. */
  unsupportedUntil(type: TaskType, now: number): number | undefined {
    const until = this.#unsupported.get(type);
    if (until === undefined || until > now) return until;
    this.#unsupported.delete(type);
    return undefined;
  }

  /** Marks `type` unsupported here for UNSUPPORTED_FOR_MS: tasks of it go elsewhere meanwhile. */
  markUnsupported(type: TaskType, code: string): void {
    const first = !this.#unsupported.has(type);
    this.#unsupported.set(type, this.#clock.now() + UNSUPPORTED_FOR_MS);
    if (first) this.#log.warn("upstream does not take this type; it goes elsewhere for a while", { type, code, forS: UNSUPPORTED_FOR_MS / 1000, ...this.tag });
  }

  /** The fatal code the upstream last refused the key with; undefined while the key works. */
  get refusedCode(): string | undefined {
    return this.#refusedCode;
  }

  /** The key works again (a getbalance answered without refusing it): submissions resume. */
  accepted(): void {
    if (this.#refusedCode === undefined) return;
    this.#log.info("upstream accepts the key again; submissions resume", { was: this.#refusedCode, ...this.tag });
    this.#refusedCode = undefined;
    this.health.upstreamAuth(undefined);
    this.#pump();
  }

  /** A fatal account code: stop submitting here until a balance check sees the key work. */
  refused(code: string): void {
    const first = this.#refusedCode === undefined;
    this.#refusedCode = code;
    this.health.upstreamAuth(code);
    if (!first) return;
    const origin = this.#o.keyOrigin;
    this.#log.error(`upstream refuses the key${origin === undefined ? "" : ` from ${origin}`}; submissions stopped`, { code, ...this.tag });
  }

  /** Whether its submissions are paused at `now`, and why. */
  pausedAt(now: number): PauseReason | undefined {
    return now < this.#pausedUntil ? this.#pauseReason : undefined;
  }

  /** Pauses submissions for `ms` (the longer pause wins); the pump runs again when it ends. */
  pauseFor(ms: number, reason: PauseReason = "trouble"): void {
    const until = this.#clock.now() + ms;
    if (this.#resumeJob && until <= this.#pausedUntil) return;
    this.#pausedUntil = until;
    this.#pauseReason = reason;
    this.#resumeJob?.cancel();
    this.#resumeJob = this.#scheduler.schedule(ms, () => {
      this.#resumeJob = undefined;
      this.#pump();
    });
  }

  /** One step of the submit back-off per round of refusals (tasks refused together do not each lengthen it). */
  backOff(reason: PauseReason = "trouble"): void {
    if (this.pausedAt(this.#clock.now()) !== undefined) return;
    this.pauseFor(this.submitBackoff.next(), reason);
  }

  /** Ends a pending pause now (the money came back). */
  clearPause(): void {
    if (this.#resumeJob === undefined) return;
    this.#resumeJob.cancel();
    this.#resumeJob = undefined;
    this.#pausedUntil = 0;
  }

  /** Forgets the pause's timer (the scheduler stopped). */
  dropTimers(): void {
    this.#resumeJob = undefined;
  }

  /**
   * A refusal to back off: ERROR_ZERO_BALANCE re-reads the balance now (evidence, not the TTL): money
   * or threads? One read as threads (money was there) asks at the slots' pace.
   */
  refusedFor(code: string): void {
    if (code !== "ERROR_ZERO_BALANCE" || (this.refusesThreads(code) && !this.slots.asksBalance())) return;
    this.#o.onEvidence?.();
  }

  /**
   * Whether a refusal with `code` means "no free thread" on this plan (docs/providers.md, Thread plan): ERROR_NO_SLOT_AVAILABLE,
   * or CaptchaAI's ERROR_ZERO_BALANCE while the last balance read found money. A per-solve account has no plan.
   */
  refusesThreads(code: string): boolean {
    return this.slots.adaptive && (code === "ERROR_NO_SLOT_AVAILABLE" || (code === "ERROR_ZERO_BALANCE" && this.#funded));
  }

  /**
   * A balance was read. When the money comes back, the submit back-off ends now; a refusal for
   * threads never paused the lane (its probes are paced instead).
   */
  balanceRead(balanceUsd: number): void {
    const funded = balanceFunded(this.#funded, balanceUsd, this.#o.minBalanceUsd ?? 0);
    const changed = funded !== this.#funded;
    this.#funded = funded;
    this.health.balanceFunded(funded);
    if (!changed) return;
    if (!funded) return this.#pump(); // the plan is not what is full now
    this.health.resumed();
    this.submitBackoff.reset();
    this.slots.fundsBack();
    if (this.circuit.state === "closed") this.clearPause();
    this.#pump();
  }

  /** The last balance read was at or above the minimum. */
  get funded(): boolean {
    return this.#funded;
  }

  /** A thread plan (no cost per solve; capacity refusals mean "wait for a thread"), or a per-solve account. */
  get plan(): boolean {
    return this.#o.plan ?? true;
  }

  /** What one solve of `type` costs here by the providers file (0 on a thread plan). */
  priceUsd(type: TaskType): number {
    return this.#o.priceUsd?.(type) ?? 0;
  }

  /**
   * What a task of `type` is held against the budget for (docs/providers.md, Budgets): its price, or
   * the highest cost the provider reported for the type since the start when that is more (a JSON
   * API bills what it bills, whatever the file says).
   */
  reservationUsd(type: TaskType): number {
    return Math.max(this.priceUsd(type), this.#reported.get(type) ?? 0);
  }

  /** A cost the provider reported for a solve of `type`: reservations follow the highest. */
  noteCost(type: TaskType, usd: number): void {
    if (usd > (this.#reported.get(type) ?? 0)) this.#reported.set(type, usd);
  }

  /** Whether ERROR_CAPTCHA_UNSOLVABLE is billed here too (anti-captcha charges it). */
  get chargesUnsolvable(): boolean {
    return this.#o.chargesUnsolvable ?? false;
  }

  /** Spent today (UTC), in USD. */
  spentTodayUsd(now: number): number {
    return this.#spend.day === utcDay(wallTime(this.#clock, now)) ? this.#spend.usd : 0;
  }

  /** Its daily budget; undefined without one. */
  get dailyBudgetUsd(): number | undefined {
    return this.#o.dailyBudgetUsd;
  }

  /** Budget left today; undefined without a budget. */
  budgetLeftUsd(now: number): number | undefined {
    const budget = this.#o.dailyBudgetUsd;
    return budget === undefined ? undefined : Math.max(0, budget - this.spentTodayUsd(now));
  }

  /** A solve charged at `usd` (or restored from the journal: `day` given). Returns today's total. */
  spend(usd: number, at: number, day = utcDay(wallTime(this.#clock, at))): number {
    if (this.#spend.day !== day) this.#spend = { day, usd: 0 };
    this.#spend.usd = Math.round((this.#spend.usd + usd) * 1e6) / 1e6;
    return this.#spend.usd;
  }

  /** Whether a task of `type` fits today's budget, counting what the tasks it holds will cost. */
  affords(type: TaskType, now: number): boolean {
    const left = this.budgetLeftUsd(now);
    if (left === undefined) return true;
    return left > 1e-9 && left - this.#committedUsd >= this.reservationUsd(type) - 1e-9;
  }

  /**
   * Whether a task of `type` must wait for one out (busy, not out): at a provider that reports what it
   * bills, under a budget, a type whose cost is not known yet goes out one at a time (beside tasks
   * of other types), so its cost is learned before a second one can overshoot the budget.
   */
  learningCost(type: TaskType): boolean {
    return this.#o.reportsCost === true && this.dailyBudgetUsd !== undefined && !this.#reported.has(type) && (this.#heldOf.get(type) ?? 0) > 0;
  }

  /**
   * Whether today's budget is spent for every type it takes: what is left pays for none of them, so
   * it takes no new task (`provider_down=NAME:budget`) until the UTC day turns.
   */
  budgetSpent(now: number, types: readonly TaskType[]): boolean {
    const left = this.budgetLeftUsd(now);
    if (left === undefined) return false;
    if (left <= 1e-9) return true;
    const costs = types.filter((t) => this.takes(t)).map((t) => this.reservationUsd(t)).filter((usd) => usd > 0);
    return costs.length > 0 && costs.length === types.filter((t) => this.takes(t)).length && left < Math.min(...costs) - 1e-9;
  }

  /** A task of `type` took a slot: its price is committed until it ends or comes back; returns that price. */
  commit(type: TaskType): number {
    const usd = this.reservationUsd(type);
    this.#committedUsd += usd;
    this.#heldOf.set(type, (this.#heldOf.get(type) ?? 0) + 1);
    return usd;
  }

  /** A task of `type` gave its slot back: the price committed for it (by commit) no longer is (a solve is charged apart). */
  uncommit(type: TaskType, usd: number): void {
    this.#committedUsd = Math.max(0, this.#committedUsd - usd);
    this.#heldOf.set(type, Math.max(0, (this.#heldOf.get(type) ?? 0) - 1));
  }

  /** Its bulkhead (the kinds' shares within its cap). */
  get bulkhead(): Bulkhead {
    return this.slots.bulkhead;
  }

  /** The upstream took `task`'s submit: a probe taken may leave room for one more. */
  taken(task: Task): void {
    if (this.slots.taken(task)) this.#pump();
  }

  /** After a pump: whether work waited on it. The plan is full while work waits and the lane holds all it may (docs/providers.md, Thread plan: saturation). */
  noteWaiting(waiting: boolean): void {
    const full = this.slots.full(waiting, this.#funded);
    if (full !== undefined) this.health.planFull(full);
  }
}

/** The UTC day of `ms` as YYYY-MM-DD (budgets turn with it). */
export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}
