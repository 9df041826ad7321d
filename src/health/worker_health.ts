/**
 * The worker's health state: the classic three (totals, consecutive failures, last solve) plus a
 * sliding-window error rate, the upstream's account, reachability and circuit state, the share of
 * time its thread plan was full while work waited (docs/providers.md, Thread plan), and the solver's load read
 * at call time. Client-caused
 * failures (bad image, bad sitekey) never count against the worker.
 */
import type { Clock } from "../base/clock.ts";
import type { CircuitState } from "../base/circuit_breaker.ts";
import { SlidingWindow } from "../base/sliding_window.ts";
import { TimeShare } from "../base/time_share.ts";
import { FailureStreak, type StreakState } from "./failure_streak.ts";

import type { Blame } from "../upstream/outcome.ts";

export type { Blame };

/** The narrow interface the solver reports through. */
export interface HealthFeed {
  solved(type: string, solveMs: number): void;
  failed(type: string, code: string, blame: Blame): void;
  /** A fatal account code (e.g. ERROR_WRONG_USER_KEY), or undefined once the key works again. */
  upstreamAuth(code: string | undefined): void;
  circuit(state: CircuitState): void;
  /**
   * A balance check of a call started at `startedAt` ended: `reachable` when the upstream answered
   * in its protocol (whatever the answer), false on a transport failure (refused, timeout, 5xx, HTML).
   */
  balanceChecked(reachable: boolean, startedAt: number): void;
  /**
   * The thread plan is full while work waits for it (`full`), or no longer, from now on: the lane
   * holds all the upstream lets it hold (its whole plan, or its limit where a refusal stopped it).
   */
  planFull(full: boolean): void;
  /** Submissions resumed after a stop for the upstream's sake (money came back). */
  resumed(): void;
  /** A balance read, judged against --min-balance with hysteresis (see `balanceFunded`). */
  balanceFunded(funded: boolean): void;
}

/** The solver's load, read when health is read (never pushed by timers). */
export interface LoadSnapshot {
  queueDepth: number;
  inFlight: number;
  /** How long the oldest task waiting to be submitted has waited, one out submitting included; 0 when none waits. */
  oldestQueuedAgeMs: number;
  /** When the solver's scheduler last made progress. */
  lastProgressAt: number;
  /** When work last started waiting on an idle solver (undefined: never had work). */
  busySince?: number | undefined;
}

export interface HealthSnapshot extends LoadSnapshot {
  startedAt: number;
  uptimeMs: number;
  solved: number;
  failed: number;
  clientFailed: number;
  consecutiveFailures: number;
  successRate: number;
  /** Failure ratio over the window; `windowOutcomes` says how many outcomes it rests on. */
  errorRate: number;
  windowOutcomes: number;
  /** Of those, the failures charged to the worker. */
  windowFailed: number;
  /** The --error-window the rate is judged over. */
  windowMs: number;
  lastSolveAt: number | undefined;
  /** Since the last solve, or undefined before the first one (docs/troubleshooting.md: "no solve for N seconds"). */
  msSinceLastSolve: number | undefined;
  upstreamAuth: string | undefined;
  circuit: CircuitState;
  /** When the circuit last half-opened (its probation began). */
  circuitHalfOpenSince: number | undefined;
  /** The last balance check failed at the transport level and nothing was solved since it started. */
  upstreamUnreachable: boolean;
  /** The last balance read was low (it stays so until one clears the minimum with a margin). */
  lowBalance: boolean;
  streak: StreakState;
  /** When the failure streak's probation began (undefined unless on probation). */
  streakProbationSince: number | undefined;
  /**
   * When the upstream last came back (reachable again, circuit closed, key accepted, money back):
   * time without a solve is not counted across an outage the other issues already explained.
   */
  resumedAt: number | undefined;
  /** Share of the window (--error-window, or the uptime while shorter) the thread plan was full while work waited. */
  saturation: number;
  /** The time that share is over (the window, or the uptime while shorter). */
  saturationObservedMs: number;
}

export interface WorkerHealthOptions {
  /** --max-consecutive-failures. @default 10 */
  maxConsecutiveFailures?: number;
}

const IDLE_LOAD = (now: number): LoadSnapshot => ({ queueDepth: 0, inFlight: 0, oldestQueuedAgeMs: 0, lastProgressAt: now, busySince: undefined });

export class WorkerHealth implements HealthFeed {
  readonly #clock: Clock;
  readonly #window: SlidingWindow;
  readonly startedAt: number;
  #solved = 0;
  #failed = 0;
  #clientFailed = 0;
  readonly #streak: FailureStreak;
  /** When the plan was full while work waited. */
  readonly #full: TimeShare;
  #lastSolveAt: number | undefined;
  #auth: string | undefined;
  #circuit: CircuitState = "closed";
  #circuitHalfOpenSince: number | undefined;
  /** When the balance call that found the upstream unreachable started; undefined: reachable. */
  #unreachableSince: number | undefined;
  #resumedAt: number | undefined;
  #lowBalance = false;
  #load: () => LoadSnapshot;
  readonly #listeners = new Set<() => void>();

  /** The --error-window the error rate is judged over. */
  readonly windowMs: number;

  constructor(clock: Clock, errorWindowMs: number, options: WorkerHealthOptions = {}) {
    this.#clock = clock;
    this.windowMs = errorWindowMs;
    this.#window = new SlidingWindow(errorWindowMs);
    this.#full = new TimeShare(errorWindowMs);
    this.#streak = new FailureStreak(clock, { max: options.maxConsecutiveFailures ?? 10 });
    this.startedAt = clock.now();
    this.#load = () => IDLE_LOAD(clock.now());
  }

  /**
   * Subscribes to changes of the account and circuit state (the fatal code, the breaker), which
   * no task ending reports; returns the unsubscribe.
   */
  onStateChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Where queue depth, in-flight and progress come from (the solver pool). */
  setLoadSource(load: () => LoadSnapshot): void {
    this.#load = load;
  }

  solved(_type: string, _solveMs: number): void {
    this.#solved++;
    this.#streak.solved();
    this.#lastSolveAt = this.#clock.now();
    this.#window.record(this.#lastSolveAt, true);
    this.#unreachableSince = undefined; // a solve is the best proof the upstream is reachable
  }

  failed(_type: string, _code: string, blame: Blame): void {
    if (blame === "client") {
      this.#clientFailed++;
      return;
    }
    this.#failed++;
    this.#streak.failed();
    this.#window.record(this.#clock.now(), false);
  }

  balanceChecked(reachable: boolean, startedAt: number): void {
    const was = this.#unreachableSince !== undefined;
    // A worker that solved since the check started is solving: only getbalance fails (degraded).
    if (reachable || (this.#lastSolveAt !== undefined && this.#lastSolveAt >= startedAt)) this.#unreachableSince = undefined;
    else this.#unreachableSince ??= startedAt;
    if (was === (this.#unreachableSince !== undefined)) return;
    if (was) this.#resumedAt = this.#clock.now();
    this.#changed();
  }

  resumed(): void {
    this.#resumedAt = this.#clock.now();
  }

  balanceFunded(funded: boolean): void {
    this.#lowBalance = !funded;
  }

  planFull(full: boolean): void {
    this.#full.set(this.#clock.now(), full);
  }

  /**
   * Readiness came back: the error-rate rule judges only outcomes from here on, so failures from
   * before the recovery cannot hold 503 for a whole error window.
   */
  markReady(): void {
    this.#window.clear();
  }

  upstreamAuth(code: string | undefined): void {
    if (code === this.#auth) return;
    if (code === undefined) this.#resumedAt = this.#clock.now();
    this.#auth = code;
    this.#changed();
  }

  circuit(state: CircuitState): void {
    if (state === this.#circuit) return;
    if (state === "closed") this.#resumedAt = this.#clock.now();
    this.#circuit = state;
    this.#circuitHalfOpenSince = state === "half_open" ? this.#clock.now() : undefined;
    this.#changed();
  }

  #changed(): void {
    for (const l of this.#listeners) l();
  }

  snapshot(): HealthSnapshot {
    const now = this.#clock.now();
    const total = this.#solved + this.#failed;
    const w = this.#window.counts(now);
    const windowOutcomes = w.ok + w.failed;
    const full = this.#full.read(now);
    const observedMs = Math.min(full.spanMs, now - this.startedAt);
    return {
      ...this.#load(),
      startedAt: this.startedAt,
      uptimeMs: now - this.startedAt,
      solved: this.#solved,
      failed: this.#failed,
      clientFailed: this.#clientFailed,
      consecutiveFailures: this.#streak.count,
      successRate: total === 0 ? 1 : this.#solved / total,
      errorRate: windowOutcomes === 0 ? 0 : w.failed / windowOutcomes,
      windowOutcomes,
      windowFailed: w.failed,
      windowMs: this.windowMs,
      lastSolveAt: this.#lastSolveAt,
      msSinceLastSolve: this.#lastSolveAt === undefined ? undefined : now - this.#lastSolveAt,
      upstreamAuth: this.#auth,
      circuit: this.#circuit,
      circuitHalfOpenSince: this.#circuitHalfOpenSince,
      upstreamUnreachable: this.#unreachableSince !== undefined,
      lowBalance: this.#lowBalance,
      resumedAt: this.#resumedAt,
      streak: this.#streak.state,
      streakProbationSince: this.#streak.probationSince,
      saturation: observedMs <= 0 ? 0 : Math.min(1, full.heldMs / observedMs),
      saturationObservedMs: Math.max(0, observedMs),
    };
  }
}
