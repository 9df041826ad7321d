/** A manual Clock for tests: time moves only when a test calls advance(), so no test sleeps. */
import { setImmediate as tick } from "node:timers/promises";
import type { Clock, Timer } from "../../src/base/clock.ts";

interface Pending {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

export class FakeClock implements Clock {
  #now: number;
  #seq = 0;
  #pending: Pending[] = [];

  constructor(startMs = Date.UTC(2026, 0, 1)) {
    this.#now = startMs;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): Timer {
    const entry: Pending = { at: this.#now + Math.max(0, ms), seq: this.#seq++, fn, cancelled: false };
    this.#pending.push(entry);
    return { cancel: () => void (entry.cancelled = true) };
  }

  /** Timers still waiting to fire. */
  get pendingCount(): number {
    return this.#pending.filter((p) => !p.cancelled).length;
  }

  /**
   * Moves time forward by `ms`, firing due timers in order and letting promise
   * chains (including real socket I/O already complete) settle between them.
   */
  async advance(ms: number): Promise<void> {
    const end = this.#now + ms;
    for (;;) {
      await settle();
      const next = this.#takeNext(end);
      if (!next) break;
      this.#now = next.at;
      next.fn();
    }
    this.#now = end;
    await settle();
  }

  #takeNext(end: number): Pending | undefined {
    let best: Pending | undefined;
    for (const p of this.#pending) {
      if (p.cancelled || p.at > end) continue;
      if (!best || p.at < best.at || (p.at === best.at && p.seq < best.seq)) best = p;
    }
    if (best) this.#pending = this.#pending.filter((p) => p !== best && !p.cancelled);
    return best;
  }
}

/** Lets queued microtasks and immediate callbacks run. */
export async function settle(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await tick();
}
