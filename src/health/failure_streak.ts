/**
 * The failure streak with its way back (issue "Honest signals"): `--max-consecutive-failures`
 * worker-blamed failures in a row make the worker not ready (`cooling`), and since only a real task
 * can tell whether the upstream solves again, after a cool-down it goes on `probation`: readiness
 * passes again with a few tasks admitted, and the first outcome decides. A solve ends the streak and
 * resets the cool-down; a failure on probation cools down again, twice as long. Cool-down: 10 s,
 * doubling to 5 min. Without this, `consecutive_failures=N` was a state only a solve could leave,
 * and an unready worker is sent no task to solve.
 */
import type { Clock } from "../base/clock.ts";

export type StreakState = "ok" | "cooling" | "probation";

export interface FailureStreakOptions {
  /** Failures in a row that trip it (--max-consecutive-failures). */
  max: number;
  /** @default 10_000 */
  coolDownMs?: number;
  /** @default 300_000 */
  maxCoolDownMs?: number;
}

export class FailureStreak {
  readonly #clock: Clock;
  readonly #max: number;
  readonly #baseMs: number;
  readonly #capMs: number;
  #count = 0;
  #tripped = false;
  #coolUntil = 0;
  #coolDownMs: number;

  constructor(clock: Clock, options: FailureStreakOptions) {
    this.#clock = clock;
    this.#max = options.max;
    this.#baseMs = options.coolDownMs ?? 10_000;
    this.#capMs = options.maxCoolDownMs ?? 300_000;
    this.#coolDownMs = this.#baseMs;
  }

  /** Worker-blamed failures since the last solve. */
  get count(): number {
    return this.#count;
  }

  /** Where the streak stands now (cooling turns into probation when its time is up). */
  get state(): StreakState {
    if (!this.#tripped) return "ok";
    return this.#clock.now() < this.#coolUntil ? "cooling" : "probation";
  }

  /** When the current probation began (undefined unless on probation). */
  get probationSince(): number | undefined {
    return this.state === "probation" ? this.#coolUntil : undefined;
  }

  /** The cool-down the streak is (or next would be) waiting out. */
  get coolDownMs(): number {
    return this.#coolDownMs;
  }

  solved(): void {
    this.#count = 0;
    this.#tripped = false;
    this.#coolDownMs = this.#baseMs;
  }

  failed(): void {
    this.#count++;
    const state = this.state;
    if (state === "probation") {
      this.#coolDownMs = Math.min(this.#capMs, this.#coolDownMs * 2);
      this.#coolUntil = this.#clock.now() + this.#coolDownMs;
    } else if (state === "ok" && this.#count >= this.#max) {
      this.#tripped = true;
      this.#coolUntil = this.#clock.now() + this.#coolDownMs;
    }
  }
}
