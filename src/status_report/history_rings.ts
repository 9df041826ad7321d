/**
 * A fixed ring of one slot per minute for the last hour: the slots are allocated once and reused
 * (a slot is emptied when a newer minute takes it), so memory stays the same whatever happens; a
 * minute nothing was recorded in reads as a gap, never as the value from an hour before.
 */

export const MINUTE_MS = 60_000;
/** Slots in a ring: one hour of minutes. */
export const RING_MINUTES = 60;

/** The minute (since the epoch) `ms` falls in. */
export const minuteOf = (ms: number): number => Math.floor(ms / MINUTE_MS);

export class MinuteRing<S> {
  readonly #minutes: number[];
  readonly #slots: S[];
  readonly #reset: (slot: S) => void;

  /** `create` builds each slot once; `reset` empties one for reuse. */
  constructor(create: () => S, reset: (slot: S) => void, size = RING_MINUTES) {
    this.#minutes = Array.from({ length: size }, () => -1);
    this.#slots = Array.from({ length: size }, create);
    this.#reset = reset;
  }

  /** How many slots the ring holds (fixed at construction). */
  get size(): number {
    return this.#slots.length;
  }

  #index(minute: number): number {
    return ((minute % this.size) + this.size) % this.size;
  }

  /**
   * The slot to record `minute` in, emptied first when it held an older minute; undefined when
   * `minute` is older than what its slot already holds (more than a ring's length ago).
   */
  at(minute: number): S | undefined {
    const i = this.#index(minute);
    const held = this.#minutes[i]!;
    if (held > minute) return undefined;
    if (held !== minute) {
      this.#reset(this.#slots[i]!);
      this.#minutes[i] = minute;
    }
    return this.#slots[i];
  }

  /** The slot of `minute` if something was recorded in it, else undefined (a gap). */
  peek(minute: number): S | undefined {
    const i = this.#index(minute);
    return this.#minutes[i] === minute ? this.#slots[i] : undefined;
  }

  /** The ring's length of minutes ending with `lastMinute`, oldest first, gaps as undefined. */
  window(lastMinute: number): { minute: number; slot: S | undefined }[] {
    const out: { minute: number; slot: S | undefined }[] = [];
    for (let m = lastMinute - this.size + 1; m <= lastMinute; m++) out.push({ minute: m, slot: this.peek(m) });
    return out;
  }
}
