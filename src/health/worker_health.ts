/**
 * The worker's health state: what the seed tracks (totals, consecutive failures, last solve) plus a
 * sliding-window error rate, the upstream's account and circuit state, and the solver's load read at
 * call time. Client-caused failures (bad image, bad sitekey) never count against the worker.
 */
import type { Clock } from "../base/clock.ts";
import type { CircuitState } from "../base/circuit_breaker.ts";
import { SlidingWindow } from "../base/sliding_window.ts";

import type { Blame } from "../upstream/outcome.ts";

export type { Blame };

/** The narrow interface the solver reports through. */
export interface HealthFeed {
  solved(type: string, solveMs: number): void;
  failed(type: string, code: string, blame: Blame): void;
  /** A fatal account code (e.g. ERROR_WRONG_USER_KEY), or undefined once the key works again. */
  upstreamAuth(code: string | undefined): void;
  circuit(state: CircuitState): void;
}

/** The solver's load, read when health is read (never pushed by timers). */
export interface LoadSnapshot {
  queueDepth: number;
  inFlight: number;
  oldestQueuedAgeMs: number;
  /** When the solver's scheduler last made progress. */
  lastProgressAt: number;
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
  /** Since the last solve, or undefined before the first one (the seed's troubleshooting row). */
  msSinceLastSolve: number | undefined;
  upstreamAuth: string | undefined;
  circuit: CircuitState;
}

const IDLE_LOAD = (now: number): LoadSnapshot => ({ queueDepth: 0, inFlight: 0, oldestQueuedAgeMs: 0, lastProgressAt: now });

export class WorkerHealth implements HealthFeed {
  readonly #clock: Clock;
  readonly #window: SlidingWindow;
  readonly startedAt: number;
  #solved = 0;
  #failed = 0;
  #clientFailed = 0;
  #consecutive = 0;
  #lastSolveAt: number | undefined;
  #auth: string | undefined;
  #circuit: CircuitState = "closed";
  #load: () => LoadSnapshot;
  readonly #listeners = new Set<() => void>();

  /** The --error-window the error rate is judged over. */
  readonly windowMs: number;

  constructor(clock: Clock, errorWindowMs: number) {
    this.#clock = clock;
    this.windowMs = errorWindowMs;
    this.#window = new SlidingWindow(errorWindowMs);
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
    this.#consecutive = 0;
    this.#lastSolveAt = this.#clock.now();
    this.#window.record(this.#lastSolveAt, true);
  }

  failed(_type: string, _code: string, blame: Blame): void {
    if (blame === "client") {
      this.#clientFailed++;
      return;
    }
    this.#failed++;
    this.#consecutive++;
    this.#window.record(this.#clock.now(), false);
  }

  upstreamAuth(code: string | undefined): void {
    if (code === this.#auth) return;
    this.#auth = code;
    this.#changed();
  }

  circuit(state: CircuitState): void {
    if (state === this.#circuit) return;
    this.#circuit = state;
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
    return {
      ...this.#load(),
      startedAt: this.startedAt,
      uptimeMs: now - this.startedAt,
      solved: this.#solved,
      failed: this.#failed,
      clientFailed: this.#clientFailed,
      consecutiveFailures: this.#consecutive,
      successRate: total === 0 ? 1 : this.#solved / total,
      errorRate: windowOutcomes === 0 ? 0 : w.failed / windowOutcomes,
      windowOutcomes,
      windowFailed: w.failed,
      windowMs: this.windowMs,
      lastSolveAt: this.#lastSolveAt,
      msSinceLastSolve: this.#lastSolveAt === undefined ? undefined : now - this.#lastSolveAt,
      upstreamAuth: this.#auth,
      circuit: this.#circuit,
    };
  }
}
