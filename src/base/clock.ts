/** Time as the core sees it: injected everywhere so tests advance a fake clock instead of sleeping. */

export interface Timer {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds since the epoch, monotonic within the process. */
  now(): number;
  /** Calls `fn` once after `ms`; system timers never hold the process open. */
  setTimeout(fn: () => void, ms: number): Timer;
}

const origin = performance.timeOrigin;

/** The real clock: wall-clock origin, monotonic progress (performance.now). */
export const systemClock: Clock = {
  now: () => origin + performance.now(),
  setTimeout(fn, ms) {
    const handle = setTimeout(fn, Math.max(0, ms));
    handle.unref();
    return { cancel: () => clearTimeout(handle) };
  },
};

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
