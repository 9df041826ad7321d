/**
 * Stop signals (SPEC §8): the first flips readiness to draining at once, lets in-flight tasks finish
 * for the drain timeout, fails what is left with `shutdown`, closes, and resolves with exit code 0;
 * a second signal exits at once.
 */
import type { Runtime, StopSignal } from "../base/runtime.ts";
import { EXIT_FAILURE, EXIT_OK } from "../base/runtime.ts";
import type { Logger } from "../base/log.ts";

export interface Drainable {
  beginDrain(): void;
  drain(timeoutMs: number): Promise<number>;
  close(): Promise<void>;
}

/** Resolves with the exit code once the worker stopped after a signal. */
export function runUntilSignal(rt: Runtime, worker: Drainable, drainTimeoutMs: number, log: Logger): Promise<number> {
  return new Promise((resolve) => {
    const off = rt.onSignal(async (signal: StopSignal) => {
      off();
      rt.onSignal((again) => {
        log.warn("second signal: exiting at once", { signal: again });
        rt.exit(EXIT_FAILURE);
      });
      log.info("stopping", { signal, drain_timeout_ms: drainTimeoutMs });
      try {
        worker.beginDrain();
        const left = await worker.drain(drainTimeoutMs);
        await worker.close();
        log.info("stopped", { failed_with_shutdown: left });
        resolve(EXIT_OK);
      } catch (err) {
        log.error("stop failed", { err });
        resolve(EXIT_FAILURE);
      }
    });
  });
}
