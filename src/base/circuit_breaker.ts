/**
 * A circuit breaker for upstream transport failures on the task path (in.php, res.php), whose
 * trials cost nothing: while it is open because the upstream is unreachable, the worker's own
 * getbalance calls are the trials (`checkSucceeded()` closes it), so no task is risked and nothing
 * flaps. Only when getbalance works but the task path keeps failing (it re-opened before any task
 * call succeeded since a check closed it) can a real task alone tell: it then waits a cool-down
 * (10 s, doubling to 1 min, reset by a task-path success) and half-opens on its own timer, letting ONE
 * call through as the trial: its answer closes the circuit, its transport failure opens it again for
 * twice as long, and nothing else goes until one of them (docs/upstream.md), so a fault that lasts costs one task per cool-down, not one per free slot. Failures of
 * calls started before the circuit last closed are old news and ignored.
 */
import type { Clock, Timer } from "./clock.ts";

export type CircuitState = "closed" | "open" | "half_open";

/** Why it is open: `upstream` (a good check closes it) or `task_path` (a task must succeed). */
export type CircuitCause = "upstream" | "task_path";

export interface CircuitBreakerOptions {
  /** Consecutive transport failures that open the circuit. @default 5 */
  failureThreshold?: number;
  /** First cool-down before a task-path trial. @default 10_000 */
  coolDownMs?: number;
  /** Longest cool-down (a task-path fault that cleared is tried again within a minute). @default 60_000 */
  maxCoolDownMs?: number;
  /** What `retryInMs` says while the upstream cause waits for a check. @default 1_000 */
  checkIntervalMs?: number;
  /** Called on every state change. */
  onChange?: (state: CircuitState) => void;
}

export class CircuitBreaker {
  readonly #clock: Clock;
  readonly #threshold: number;
  readonly #baseCoolDownMs: number;
  readonly #maxCoolDownMs: number;
  readonly #checkIntervalMs: number;
  readonly #onChange: (state: CircuitState) => void;
  #state: CircuitState = "closed";
  #cause: CircuitCause = "upstream";
  #failures = 0;
  #openedAt = 0;
  #closedAt = Number.NEGATIVE_INFINITY;
  #halfOpenAt = 0;
  #coolDownMs: number;
  /** A check closed it and no task-path call has succeeded since. */
  #closedByCheck = false;
  /** Half-open and its one trial call is out: nothing else goes until its verdict (or releaseTrial). */
  #trialOut = false;
  /** Half-opens a task-path circuit when its cool-down ends, so onChange tells it without anyone asking. */
  #coolDownTimer: Timer | undefined;

  constructor(clock: Clock, options: CircuitBreakerOptions = {}) {
    this.#clock = clock;
    this.#threshold = options.failureThreshold ?? 5;
    this.#baseCoolDownMs = options.coolDownMs ?? 10_000;
    this.#maxCoolDownMs = options.maxCoolDownMs ?? 60_000;
    this.#checkIntervalMs = options.checkIntervalMs ?? 1_000;
    this.#coolDownMs = this.#baseCoolDownMs;
    this.#onChange = options.onChange ?? (() => {});
  }

  /** The state now (a task-path cause past its cool-down reads as half-open). */
  get state(): CircuitState {
    if (this.#state === "open" && this.#cause === "task_path" && this.#clock.now() - this.#openedAt >= this.#coolDownMs) {
      this.#halfOpenAt = this.#openedAt + this.#coolDownMs;
      this.#set("half_open");
    }
    return this.#state;
  }

  get cause(): CircuitCause {
    return this.#cause;
  }

  /** When the current half-open trial began (undefined unless half-open). */
  get halfOpenSince(): number | undefined {
    return this.state === "half_open" ? this.#halfOpenAt : undefined;
  }

  /** The cool-down the next task-path opening waits. */
  get coolDownMs(): number {
    return this.#coolDownMs;
  }

  /** Milliseconds until it may let a call through: the cool-down left, or the check interval. */
  get retryInMs(): number {
    if (this.state !== "open") return 0;
    if (this.#cause === "upstream") return this.#checkIntervalMs;
    return Math.max(0, this.#openedAt + this.#coolDownMs - this.#clock.now());
  }

  /**
   * May a task-path call go now? Closed: yes. Open: no. Half-open: the first caller's call is the
   * trial (a real task), every other caller is told no until the trial's verdict (success, failure)
   * or its release.
   */
  tryAcquire(): boolean {
    const state = this.state;
    if (state === "closed") return true;
    if (state === "open" || this.#trialOut) return false;
    this.#trialOut = true;
    return true;
  }

  /** Whether the half-open trial call is out now. */
  get trialOut(): boolean {
    return this.state === "half_open" && this.#trialOut;
  }

  /** The trial tryAcquire let through was never sent (its task ended first): the next call may be the trial. */
  releaseTrial(): void {
    this.#trialOut = false;
  }

  /** A task-path call got a protocol answer: the path works. */
  success(): void {
    this.#failures = 0;
    this.#closedByCheck = false;
    this.#coolDownMs = this.#baseCoolDownMs;
    this.#close();
  }

  /** A getbalance got a protocol answer: closes a circuit the upstream's unreachability opened. */
  checkSucceeded(): void {
    if (this.#state !== "open" || this.#cause !== "upstream") return;
    this.#failures = 0;
    this.#closedByCheck = true;
    this.#close();
  }

  /** A task-path transport failure (network, timeout, 5xx, unparseable body) of a call started at `startedAt`. */
  failure(startedAt: number = this.#clock.now()): void {
    const state = this.state;
    if (startedAt < this.#closedAt) return; // sent before the circuit last closed
    if (state === "half_open") {
      if (startedAt < this.#halfOpenAt) return;
      this.#coolDownMs = Math.min(this.#maxCoolDownMs, this.#coolDownMs * 2);
      this.#open("task_path");
      return;
    }
    if (state !== "closed") return;
    if (++this.#failures >= this.#threshold) this.#open(this.#closedByCheck ? "task_path" : "upstream");
  }

  #open(cause: CircuitCause): void {
    this.#cause = cause;
    this.#openedAt = this.#clock.now();
    this.#failures = 0;
    this.#coolDownTimer?.cancel();
    this.#coolDownTimer = cause === "task_path" ? this.#clock.setTimeout(() => void this.state, this.#coolDownMs) : undefined;
    if (this.#state === "open") return;
    this.#set("open");
  }

  #close(): void {
    this.#coolDownTimer?.cancel();
    this.#coolDownTimer = undefined;
    if (this.#state === "closed") return;
    this.#closedAt = this.#clock.now();
    this.#set("closed");
  }

  #set(state: CircuitState): void {
    if (this.#state === state) return;
    this.#state = state;
    this.#trialOut = false;
    this.#onChange(state);
  }
}
