/** Outcome counts over a sliding time window: a ring of time buckets, O(1) per event, O(buckets) per read. */

export interface WindowCounts {
  ok: number;
  failed: number;
}

export class SlidingWindow {
  readonly #bucketMs: number;
  readonly #ok: Float64Array;
  readonly #failed: Float64Array;
  readonly #epoch: Float64Array;

  /** @param windowMs the window's length; @param buckets its resolution. @default buckets 60 */
  constructor(windowMs: number, buckets = 60) {
    this.#bucketMs = Math.max(1, Math.ceil(windowMs / buckets));
    this.#ok = new Float64Array(buckets);
    this.#failed = new Float64Array(buckets);
    this.#epoch = new Float64Array(buckets).fill(-1);
  }

  record(nowMs: number, ok: boolean): void {
    const epoch = Math.floor(nowMs / this.#bucketMs);
    const i = epoch % this.#ok.length;
    if (this.#epoch[i] !== epoch) {
      this.#epoch[i] = epoch;
      this.#ok[i] = 0;
      this.#failed[i] = 0;
    }
    if (ok) this.#ok[i]!++;
    else this.#failed[i]!++;
  }

  /** Forgets every outcome recorded so far. */
  clear(): void {
    this.#epoch.fill(-1);
  }

  /** Counts of the buckets still inside the window at `nowMs`. */
  counts(nowMs: number): WindowCounts {
    const current = Math.floor(nowMs / this.#bucketMs);
    const oldest = current - this.#ok.length + 1;
    let ok = 0;
    let failed = 0;
    for (let i = 0; i < this.#ok.length; i++) {
      const e = this.#epoch[i]!;
      if (e >= oldest && e <= current) {
        ok += this.#ok[i]!;
        failed += this.#failed[i]!;
      }
    }
    return { ok, failed };
  }
}
