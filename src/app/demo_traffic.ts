/**
 * Sample traffic for `run --demo`: a small, steady stream of tasks of every type, so a newcomer
 * sees solves, metrics and health move. It goes through the same pool as real tasks.
 */
import type { Clock, Timer } from "../base/clock.ts";
import type { Logger } from "../base/log.ts";
import type { SolverPool } from "../solver/pool.ts";
import type { TaskParams } from "../tasks/task_params.ts";

/** A 1x1 PNG, enough for the simulator (which does not read images). */
const SAMPLE_PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";

const SAMPLES: readonly TaskParams[] = [
  { type: "image", image: SAMPLE_PNG, numeric: 1, min_len: 4, max_len: 6 },
  { type: "recaptcha_v2", sitekey: "6Le-demo-sitekey-v2", pageurl: "https://example.com/login" },
  { type: "image", image: SAMPLE_PNG, phrase: false },
  { type: "turnstile", sitekey: "0x4AAAAAAAdemo", pageurl: "https://example.com/signup" },
  { type: "recaptcha_v3", sitekey: "6Le-demo-sitekey-v3", pageurl: "https://example.com/checkout", action: "verify", min_score: 0.3 },
];

/** Enqueues one sample task every `everyMs`; returns the stop function. */
export function startDemoTraffic(pool: SolverPool, clock: Clock, log: Logger, everyMs = 2000): () => void {
  let i = 0;
  let timer: Timer | undefined;
  const tick = () => {
    const params = SAMPLES[i++ % SAMPLES.length]!;
    try {
      pool.enqueue(params.type, params);
    } catch (err) {
      log.debug("demo task not accepted", { err });
    }
    timer = clock.setTimeout(tick, everyMs);
  };
  timer = clock.setTimeout(tick, 0);
  return () => timer?.cancel();
}
