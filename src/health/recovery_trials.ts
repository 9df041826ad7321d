/**
 * The worker tries again by itself what costs nothing to try: while readiness fails for a reason a
 * balance check can settle (the upstream unreachable or its circuit open, the key refused, the
 * balance low), it re-reads the balance every second instead of waiting for the balance TTL or a
 * client's task, so recovery follows the upstream within about a second. getbalance is free, and
 * the check is single flight: a hung one is joined, not repeated.
 */
import type { Clock, Timer } from "../base/clock.ts";
import type { Readiness } from "./health_view.ts";

/** The issues a balance check can clear. */
export const TRIAL_ISSUES: ReadonlySet<string> = new Set(["upstream_unreachable", "circuit_open", "upstream_auth", "low_balance"]);

export interface RecoveryTrialsOptions {
  clock: Clock;
  evaluate: () => Pick<Readiness, "issues">;
  /** Runs the balance check now (single flight). */
  trial: () => Promise<void>;
  /** @default 1000 */
  everyMs?: number;
}

/** True when one of `issues` is one a balance check can clear. */
export function needsTrial(issues: readonly string[]): boolean {
  return issues.some((i) => TRIAL_ISSUES.has(i.split("=", 1)[0]!));
}

/** Starts the trials' timer; stop() ends it for good. */
export function startRecoveryTrials(o: RecoveryTrialsOptions): { stop(): void } {
  let timer: Timer | undefined;
  let stopped = false;
  const tick = () => {
    timer = undefined;
    if (stopped) return;
    if (needsTrial(o.evaluate().issues)) void o.trial();
    timer = o.clock.setTimeout(tick, o.everyMs ?? 1000);
  };
  timer = o.clock.setTimeout(tick, o.everyMs ?? 1000);
  return {
    stop() {
      stopped = true;
      timer?.cancel();
      timer = undefined;
    },
  };
}
