/**
 * How long a condition held within a sliding time window: a ring of time buckets, O(1) per change
 * (O(buckets) for a change after a long stretch), O(buckets) per read. The window is the buckets',
 * so its start moves a bucket at a time.
 */

export interface HeldTime {
  /** Milliseconds the condition held within the window. */
  heldMs: number;
  /** The window's length at this read: from its oldest bucket's start to now. */
  spanMs: number;
}

export class TimeShare {
  readonly #bucketMs: number;
  readonly #held: Float64Array;
  readonly #epoch: Float64Array;
  #on = false;
  #since = 0;

  /** @param windowMs the window's length; @param buckets its resolution. @default buckets 60 */
  constructor(windowMs: number, buckets = 60) {
    this.#bucketMs = Math.max(1, Math.ceil(windowMs / buckets));
    this.#held = new Float64Array(buckets);
    this.#epoch = new Float64Array(buckets).fill(-1);
  }

  /** Whether the condition holds now. */
  get on(): boolean {
    return this.#on;
  }

  /** The condition holds (`on`) or not from `nowMs` on. */
  set(nowMs: number, on: boolean): void {
    if (on === this.#on) return;
    if (this.#on) this.#add(this.#since, nowMs);
    this.#on = on;
    this.#since = nowMs;
  }

  /** How long it held within the window ending at `nowMs`, a stretch still under way included. */
  read(nowMs: number): HeldTime {
    const n = this.#held.length;
    const current = Math.floor(nowMs / this.#bucketMs);
    const oldest = current - n + 1;
    const start = oldest * this.#bucketMs;
    let heldMs = 0;
    for (let i = 0; i < n; i++) {
      const e = this.#epoch[i]!;
      if (e >= oldest && e <= current) heldMs += this.#held[i]!;
    }
    if (this.#on) heldMs += Math.max(0, nowMs - Math.max(this.#since, start));
    return { heldMs, spanMs: nowMs - start };
  }

  /** Adds [from, to) to the buckets it spans (only the last `buckets` of them can still be read). */
  #add(from: number, to: number): void {
    const n = this.#held.length;
    const last = Math.floor((to - 1) / this.#bucketMs);
    for (let epoch = Math.max(Math.floor(from / this.#bucketMs), last - n + 1); epoch <= last; epoch++) {
      const lo = Math.max(from, epoch * this.#bucketMs);
      const hi = Math.min(to, (epoch + 1) * this.#bucketMs);
      if (hi <= lo) continue;
      const i = epoch % n;
      if (this.#epoch[i] !== epoch) {
        this.#epoch[i] = epoch;
        this.#held[i] = 0;
      }
      this.#held[i]! += hi - lo;
    }
  }
}
