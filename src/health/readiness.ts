/**
 * Readiness rules (docs/health.md, Readiness) turned into typed issues and warnings (readiness_issue.ts formats
 * them) and the readiness state. Pure: the caller passes the health snapshot, the cached balance and
 * the lifecycle phase, so a probe never waits on I/O. Every issue has a way back that needs no restart and no client
 * traffic (docs/health.md's readiness table says which).
 */
import type { ReadinessIssue, ReadinessWarning } from "./readiness_issue.ts";
import type { HealthSnapshot } from "./worker_health.ts";

export type Phase = "starting" | "running" | "draining";

/**
 * starting: until the first balance check ended. ready: takes work. probation: takes a few tasks
 * to see whether a fault only a task can reveal has cleared (readiness 200, a low HAProxy weight).
 * not_ready: an issue holds. draining: shutting down.
 */
export type ReadinessState = "starting" | "ready" | "probation" | "not_ready" | "draining";

export const READINESS_STATES: readonly ReadinessState[] = ["starting", "ready", "probation", "not_ready", "draining"];

export interface Thresholds {
  maxConsecutiveFailures: number;
  maxWithoutSolveMs: number;
  minBalanceUsd: number;
  maxErrorRate: number;
  queueMax: number;
  /** The oldest queued task waiting longer warns; twice as long is `backlog=Ns`. */
  maxQueueWaitMs: number;
  /** Share of time the thread plan was full while work waited above which /health warns. */
  maxSaturation: number;
}

/**
 * Whether a balance read counts as money to work with, given the last verdict: below --min-balance
 * is low; once low, it takes `min + max($0.05, 5%)` to count as topped up again, so a balance
 * hovering at the minimum does not flap readiness with every read.
 */
export function balanceFunded(wasFunded: boolean, balanceUsd: number, minBalanceUsd: number): boolean {
  const margin = Math.max(0.05, minBalanceUsd * 0.05);
  return balanceUsd >= (wasFunded ? minBalanceUsd : minBalanceUsd + margin);
}

/** The error rate is judged only on at least this many outcomes in the window (docs/configuration.md: --max-error-rate). */
export const MIN_ERROR_RATE_OUTCOMES = 20;
/** Saturation is judged only over at least this much time (a worker just started has seen too little). */
export const MIN_SATURATION_OBSERVED_MS = 30_000;

export interface ReadinessInput {
  phase: Phase;
  health: HealthSnapshot;
  /** The last known balance in USD, if one was ever read. */
  balanceUsd: number | undefined;
  thresholds: Thresholds;
  /** Extra issues from other parts (e.g. the journal's state dir). */
  extra?: readonly ReadinessIssue[];
}

/** The readiness issues, empty when ready; order is stable (most fundamental first). */
export function readinessIssues(input: ReadinessInput): ReadinessIssue[] {
  const { health: h, thresholds: t } = input;
  const now = h.startedAt + h.uptimeMs;
  const issues: ReadinessIssue[] = [];
  if (input.phase === "starting") issues.push({ kind: "starting" });
  if (input.phase === "draining") issues.push({ kind: "draining" });
  if (h.upstreamAuth !== undefined) issues.push({ kind: "upstream_auth", code: h.upstreamAuth });
  if (h.upstreamUnreachable) issues.push({ kind: "upstream_unreachable" });
  if (h.circuit === "open") issues.push({ kind: "circuit_open" });
  // On probation the streak is being tried by real tasks; it shows as the readiness state instead.
  // While the streak holds (cooling or on trial), the other task-evidence rules (time without a
  // solve, the error rate) say the same thing and must not keep the trial from happening.
  if (h.streak === "cooling") issues.push({ kind: "consecutive_failures", failures: h.consecutiveFailures });
  const streakHolds = h.streak !== "ok";
  const latest = (...ts: (number | undefined)[]) => Math.max(...ts.map((t) => t ?? Number.NEGATIVE_INFINITY));
  // Time without a solve counts while work waits: from the later of the last solve, the moment work
  // last found the worker idle (the first task after an idle spell is no alarm) and the moment the
  // upstream last came back (an outage is explained by its own issue, and its end is no new alarm).
  const busy = h.queueDepth > 0 || h.inFlight > 0;
  // On probation it counts from the probation's start: a trial that solves nothing for that long
  // has failed too, whether or not its tasks ended (its deadline).
  if (h.lastSolveAt !== undefined && busy && h.streak !== "cooling") {
    const waitingMs = now - latest(h.lastSolveAt, h.busySince, h.resumedAt, h.streakProbationSince);
    if (waitingMs > t.maxWithoutSolveMs) issues.push({ kind: "no_solve_for", waitedMs: waitingMs });
  }
  if (input.balanceUsd !== undefined && !balanceFunded(!h.lowBalance, input.balanceUsd, t.minBalanceUsd)) issues.push({ kind: "low_balance", balanceUsd: input.balanceUsd });
  if (!streakHolds && h.windowOutcomes >= MIN_ERROR_RATE_OUTCOMES && h.errorRate > t.maxErrorRate) issues.push({ kind: "error_rate", rate: h.errorRate });
  const queueWaitMs = queueWait(h, now);
  if (queueWaitMs > 2 * t.maxQueueWaitMs) issues.push({ kind: "backlog", waitedMs: queueWaitMs });
  if (h.queueDepth >= t.queueMax) issues.push({ kind: "queue_full", depth: h.queueDepth });
  if (input.extra) issues.push(...input.extra);
  return issues;
}

/** The state the issues and the snapshot put the worker in. */
export function readinessState(phase: Phase, issues: readonly ReadinessIssue[], h: HealthSnapshot): ReadinessState {
  if (phase === "starting") return "starting";
  if (phase === "draining") return "draining";
  if (issues.length > 0) return "not_ready";
  if (h.streak === "probation" || h.circuit === "half_open") return "probation";
  return "ready";
}

/** When the current probation began (its admissions are counted from there); undefined when not on probation. */
export function probationSince(h: HealthSnapshot): number | undefined {
  const a = h.streak === "probation" ? h.streakProbationSince : undefined;
  const b = h.circuit === "half_open" ? h.circuitHalfOpenSince : undefined;
  if (a === undefined) return b;
  return b === undefined ? a : Math.max(a, b);
}

/**
 * How long the oldest queued task has waited on a working upstream: since it was queued, or since
 * the upstream last came back, whichever is later (an outage is its own issue; after it the queue
 * gets the time it needs to drain before it reads as a backlog). Not gated on queueDepth: a task out
 * submitting has left the queue but still waits (the load's oldestQueuedAgeMs is 0 when none does).
 */
function queueWait(h: HealthSnapshot, now: number): number {
  return h.resumedAt === undefined ? h.oldestQueuedAgeMs : Math.min(h.oldestQueuedAgeMs, now - h.resumedAt);
}

/** What is worth a warning but not a 503: `/health` says warn and the HAProxy agent lowers the weight. */
export function readinessWarnings(h: HealthSnapshot, t: Thresholds): ReadinessWarning[] {
  const warnings: ReadinessWarning[] = [];
  const waitMs = queueWait(h, h.startedAt + h.uptimeMs);
  if (waitMs > t.maxQueueWaitMs) warnings.push({ kind: "queue_wait", waitedMs: waitMs });
  if (h.saturationObservedMs >= MIN_SATURATION_OBSERVED_MS && h.saturation > t.maxSaturation) warnings.push({ kind: "saturation", ratio: h.saturation });
  return warnings;
}
