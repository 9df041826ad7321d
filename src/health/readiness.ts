/**
 * Readiness rules (SPEC §3/§4) turned into the exact issue strings. Pure: the caller passes the
 * health snapshot, the cached balance and the lifecycle phase, so a probe never waits on I/O.
 */
import type { HealthSnapshot } from "./worker_health.ts";

export type Phase = "starting" | "running" | "draining";

export interface Thresholds {
  maxConsecutiveFailures: number;
  maxSecondsWithoutSolveMs: number;
  minBalanceUsd: number;
  maxErrorRate: number;
  queueMax: number;
}

/** The error rate is judged only on at least this many outcomes in the window (SPEC §3). */
export const MIN_ERROR_RATE_OUTCOMES = 20;

export interface ReadinessInput {
  phase: Phase;
  health: HealthSnapshot;
  /** The last known balance in USD, if one was ever read. */
  balanceUsd: number | undefined;
  thresholds: Thresholds;
  /** Extra issues from other parts (e.g. the journal's state dir). */
  extra?: readonly string[];
}

/** The readiness issues, empty when ready; order is stable (most fundamental first). */
export function readinessIssues(input: ReadinessInput): string[] {
  const { health: h, thresholds: t } = input;
  const issues: string[] = [];
  if (input.phase === "starting") issues.push("starting");
  if (input.phase === "draining") issues.push("draining");
  if (h.upstreamAuth !== undefined) issues.push(`upstream_auth=${h.upstreamAuth}`);
  if (h.circuit === "open") issues.push("circuit_open");
  if (h.consecutiveFailures >= t.maxConsecutiveFailures) issues.push(`consecutive_failures=${h.consecutiveFailures}`);
  // The seed's troubleshooting row: judge time without a solve only after a first solve, and only
  // while work is waiting or in flight (an idle worker has nothing to solve).
  const busy = h.queueDepth > 0 || h.inFlight > 0;
  if (h.msSinceLastSolve !== undefined && busy && h.msSinceLastSolve > t.maxSecondsWithoutSolveMs) {
    issues.push(`no_solve_for=${Math.floor(h.msSinceLastSolve / 1000)}s`);
  }
  if (input.balanceUsd !== undefined && input.balanceUsd < t.minBalanceUsd) issues.push(`low_balance=$${input.balanceUsd.toFixed(2)}`);
  if (h.windowOutcomes >= MIN_ERROR_RATE_OUTCOMES && h.errorRate > t.maxErrorRate) issues.push(`error_rate=${h.errorRate.toFixed(3)}`);
  if (h.queueDepth >= t.queueMax) issues.push(`queue_full=${h.queueDepth}`);
  if (input.extra) issues.push(...input.extra);
  return issues;
}
