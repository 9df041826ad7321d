/**
 * Rate-limits a repeated log line: the first line for a key is written at once; identical ones in
 * the next `windowMs` are only counted, and the count rides on the first line after the window
 * (`repeated`, `over_s`), so a flapping upstream writes one line a minute, not one per call.
 */
import type { Clock } from "./clock.ts";
import type { LogFields, Logger } from "./log.ts";

export class RepeatLimiter {
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #windowMs: number;
  readonly #maxKeys: number;
  readonly #seen = new Map<string, { since: number; suppressed: number }>();

  constructor(log: Logger, clock: Clock, windowMs = 60_000, maxKeys = 200) {
    this.#log = log;
    this.#clock = clock;
    this.#windowMs = windowMs;
    this.#maxKeys = maxKeys;
  }

  warn(key: string, msg: string, fields: LogFields = {}): void {
    const now = this.#clock.now();
    const entry = this.#seen.get(key);
    if (entry && now - entry.since < this.#windowMs) {
      entry.suppressed++;
      return;
    }
    // Keys come from upstream codes, which a hostile upstream could vary without end: keep a bound.
    if (!entry && this.#seen.size >= this.#maxKeys) this.#seen.delete(this.#seen.keys().next().value!);
    this.#seen.set(key, { since: now, suppressed: 0 });
    const extra = entry && entry.suppressed > 0 ? { repeated: entry.suppressed, over_s: Math.round((now - entry.since) / 1000) } : {};
    this.#log.warn(msg, { ...fields, ...extra });
  }
}
