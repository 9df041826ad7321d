/** Time as the core sees it: injected everywhere so tests advance a fake clock instead of sleeping. */

export interface Timer {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds since the epoch, monotonic within the process. */
  now(): number;
  /** Milliseconds since the epoch by the wall clock, which may be stepped (NTP, a suspended host); now() when absent. */
  wallNow?(): number;
  /** Calls `fn` once after `ms`; system timers never hold the process open. */
  setTimeout(fn: () => void, ms: number): Timer;
}

const origin = performance.timeOrigin;

/** The real clock: wall-clock origin, monotonic progress (performance.now); the wall clock as it reads now. */
export const systemClock: Clock = {
  now: () => origin + performance.now(),
  wallNow: () => Date.now(),
  setTimeout(fn, ms) {
    const handle = setTimeout(fn, Math.max(0, ms));
    handle.unref();
    return { cancel: () => clearTimeout(handle) };
  },
};

/**
 * The instant `now` (a clock.now() reading) as the wall clock reads it: calendar days (the UTC day
 * of a budget) follow a wall clock stepped since the start, timers do not.
 */
export function wallTime(clock: Clock, now = clock.now()): number {
  return clock.wallNow === undefined ? now : now + clock.wallNow() - clock.now();
}

/** Resolves after `ms` on `clock`, or rejects with the signal's reason when aborted. */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      timer.cancel();
      reject(signal?.reason);
    };
    const timer = clock.setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
