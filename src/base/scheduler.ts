/**
 * One timer for all polls and deadlines: a binary min-heap of due times behind a single clock timer,
 * so thousands of tasks in flight cost O(log n) per event and one pending timer, not one each.
 */
import type { Clock, Timer } from "./clock.ts";

export interface ScheduledJob {
  /** Cancels the job if it has not run; cheap (lazy deletion). */
  cancel(): void;
}

interface Entry {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

export class Scheduler {
  readonly #clock: Clock;
  readonly #heap: Entry[] = [];
  #seq = 0;
  #timer: Timer | undefined;
  #timerAt = Infinity;
  #live = 0;
  #onError: (err: unknown) => void;

  constructor(clock: Clock, onError: (err: unknown) => void = () => {}) {
    this.#clock = clock;
    this.#onError = onError;
  }

  /** Jobs waiting to run. */
  get size(): number {
    return this.#live;
  }

  /**
   * How late the earliest due job is: 0 while every job still lies ahead. A solver loop that stopped
   * making progress shows here (the liveness signal), however long the poll interval.
   */
  get overdueMs(): number {
    const next = this.nextAt;
    return next === undefined ? 0 : Math.max(0, this.#clock.now() - next);
  }

  /** The earliest due time, or undefined when idle. */
  get nextAt(): number | undefined {
    this.#dropCancelledTop();
    return this.#heap[0]?.at;
  }

  /** Runs `fn` once, `delayMs` from now. */
  schedule(delayMs: number, fn: () => void): ScheduledJob {
    const entry: Entry = { at: this.#clock.now() + Math.max(0, delayMs), seq: this.#seq++, fn, cancelled: false };
    this.#push(entry);
    this.#live++;
    this.#arm();
    return {
      cancel: () => {
        if (entry.cancelled) return;
        entry.cancelled = true;
        this.#live--;
      },
    };
  }

  /** Drops every job and the timer. */
  stop(): void {
    for (const e of this.#heap) e.cancelled = true;
    this.#heap.length = 0;
    this.#live = 0;
    this.#timer?.cancel();
    this.#timer = undefined;
    this.#timerAt = Infinity;
  }

  #arm(): void {
    this.#dropCancelledTop();
    const top = this.#heap[0];
    if (!top) {
      this.#timer?.cancel();
      this.#timer = undefined;
      this.#timerAt = Infinity;
      return;
    }
    if (this.#timer && this.#timerAt <= top.at) return;
    this.#timer?.cancel();
    this.#timerAt = top.at;
    this.#timer = this.#clock.setTimeout(() => this.#run(), top.at - this.#clock.now());
  }

  #run(): void {
    this.#timer = undefined;
    this.#timerAt = Infinity;
    const now = this.#clock.now();
    for (;;) {
      this.#dropCancelledTop();
      const top = this.#heap[0];
      if (!top || top.at > now) break;
      this.#pop();
      top.cancelled = true;
      this.#live--;
      try {
        top.fn();
      } catch (err) {
        this.#onError(err);
      }
    }
    this.#arm();
  }

  #dropCancelledTop(): void {
    while (this.#heap.length > 0 && this.#heap[0]!.cancelled) this.#pop();
  }

  #less(a: Entry, b: Entry): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  #push(entry: Entry): void {
    const h = this.#heap;
    h.push(entry);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.#less(h[i]!, h[parent]!)) break;
      [h[i], h[parent]] = [h[parent]!, h[i]!];
      i = parent;
    }
  }

  #pop(): void {
    const h = this.#heap;
    const last = h.pop()!;
    if (h.length === 0) return;
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && this.#less(h[l]!, h[m]!)) m = l;
      if (r < h.length && this.#less(h[r]!, h[m]!)) m = r;
      if (m === i) break;
      [h[i], h[m]] = [h[m]!, h[i]!];
      i = m;
    }
  }
}
