/**
 * A circuit breaker for upstream transport failures: closed, open for a cool-down, then half-open
 * letting exactly one trial through; the cool-down doubles on each failed trial, up to a cap.
 */
import { Backoff } from "./backoff.ts";
import type { Clock } from "./clock.ts";

export type CircuitState = "closed" | "open" | "half_open";

export interface CircuitBreakerOptions {
  /** Consecutive transport failures that open the circuit. @default 5 */
  failureThreshold?: number;
  /** First cool-down. @default 5_000 */
  coolDownMs?: number;
  /** Longest cool-down. @default 60_000 */
  maxCoolDownMs?: number;
  /** Called on every state change. */
  onChange?: (state: CircuitState) => void;
}

export class CircuitBreaker {
  readonly #clock: Clock;
  readonly #threshold: number;
  readonly #coolDowns: Backoff;
  readonly #onChange: (state: CircuitState) => void;
  #state: CircuitState = "closed";
  #failures = 0;
  #openedAt = 0;
  #coolDownMs = 0;
  #trialInFlight = false;

  constructor(clock: Clock, options: CircuitBreakerOptions = {}) {
    this.#clock = clock;
    this.#threshold = options.failureThreshold ?? 5;
    this.#coolDowns = new Backoff({ baseMs: options.coolDownMs ?? 5_000, maxMs: options.maxCoolDownMs ?? 60_000, jitter: "none" });
    this.#onChange = options.onChange ?? (() => {});
  }

  /** The state now (an open circuit past its cool-down reads as half-open). */
  get state(): CircuitState {
    if (this.#state === "open" && this.#clock.now() - this.#openedAt >= this.#coolDownMs) this.#set("half_open");
    return this.#state;
  }

  /** Milliseconds until an open circuit lets a trial through (0 when not open). */
  get retryInMs(): number {
    return this.state === "open" ? Math.max(0, this.#openedAt + this.#coolDownMs - this.#clock.now()) : 0;
  }

  /**
   * Asks to send one request. Closed: yes. Open: no. Half-open: yes for exactly one caller until
   * that trial is reported with success() or failure().
   */
  tryAcquire(): boolean {
    const state = this.state;
    if (state === "closed") return true;
    if (state === "open" || this.#trialInFlight) return false;
    this.#trialInFlight = true;
    return true;
  }

  /** A request reached the upstream and got a protocol answer. */
  success(): void {
    this.#failures = 0;
    this.#trialInFlight = false;
    this.#coolDowns.reset();
    if (this.#state !== "closed") this.#set("closed");
  }

  /** A transport failure (network, timeout, 5xx, unparseable body). */
  failure(): void {
    this.#failures++;
    const wasTrial = this.#state === "half_open";
    this.#trialInFlight = false;
    if (wasTrial) {
      this.#open();
    } else if (this.#state === "closed" && this.#failures >= this.#threshold) {
      this.#open();
    }
  }

  /** Opens for the next cool-down: the first since the last success, or twice the one before. */
  #open(): void {
    this.#coolDownMs = this.#coolDowns.next();
    this.#openedAt = this.#clock.now();
    this.#set("open");
  }

  #set(state: CircuitState): void {
    if (this.#state === state) return;
    this.#state = state;
    this.#onChange(state);
  }
}
