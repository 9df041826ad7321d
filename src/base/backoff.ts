/**
 * Capped exponential back-off, with full jitter (AWS architecture blog's "full jitter") or without:
 * the one doubling arithmetic behind the submit pause, the key re-check, the circuit breaker's
 * cool-down and the journal's re-check.
 */

export interface BackoffOptions {
  /** @default 1000 */
  baseMs?: number;
  /** @default 60_000 */
  maxMs?: number;
  /** `"full"`: half the step plus up to half again at random; `"none"`: exactly base, 2 x base, ... @default "full" */
  jitter?: "full" | "none";
  /** Returns a number in [0, 1). @default Math.random */
  random?: () => number;
}

export class Backoff {
  readonly #baseMs: number;
  readonly #maxMs: number;
  readonly #jitter: boolean;
  readonly #random: () => number;
  #attempt = 0;

  constructor(options: BackoffOptions = {}) {
    this.#baseMs = options.baseMs ?? 1000;
    this.#maxMs = options.maxMs ?? 60_000;
    this.#jitter = (options.jitter ?? "full") === "full";
    this.#random = options.random ?? Math.random;
  }

  /** Failures since the last reset. */
  get attempt(): number {
    return this.#attempt;
  }

  /** The next delay; with jitter half the capped exponential plus up to half again, so never zero. */
  next(): number {
    const ceiling = Math.min(this.#maxMs, this.#baseMs * 2 ** Math.min(this.#attempt, 30));
    this.#attempt++;
    if (!this.#jitter) return ceiling;
    return Math.round(ceiling / 2 + (this.#random() * ceiling) / 2);
  }

  reset(): void {
    this.#attempt = 0;
  }
}
