/**
 * Readiness over several providers (docs/providers.md): the rules that judge an upstream (its key,
 * reachability, circuit, failure streak, error rate, balance) apply to each provider on its own; the
 * worker can take work while one provider can, the others then only warn (`provider_down`); when
 * none can, each one's reason is an issue. What is about the worker as a whole (starting, draining,
 * the queue, time without a solve, the state dir) is judged once, on the totals.
 */
import { readinessIssues, readinessWarnings, type Phase, type Thresholds } from "./readiness.ts";
import type { ProviderDown, ReadinessIssue, ReadinessWarning } from "./readiness_issue.ts";
import { formatIssue } from "./readiness_issue.ts";
import type { HealthSnapshot } from "./worker_health.ts";

/** The issue kinds that judge one provider, not the worker. */
const PROVIDER_KINDS = new Set<ReadinessIssue["kind"]>(["upstream_auth", "upstream_unreachable", "circuit_open", "consecutive_failures", "low_balance", "error_rate"]);

/** One provider as readiness reads it. */
export interface ProviderReading {
  name: string;
  snapshot: HealthSnapshot;
  balanceUsd: number | undefined;
  /** Issues of its own beyond the rules' (its budget spent today: `budget`). */
  extra: readonly string[];
  /**
   * Removed by a reload (docs/providers.md): it takes no new task, which is the operator's choice and
   * no failure, so it is neither an issue nor a warning; it only finishes the tasks it holds.
   */
  removed?: boolean;
}

/** What the solver knows of a provider's load and money now (the pool's ProviderState has these fields). */
export interface ProviderLoad {
  /** Tasks holding its slots. */
  busy: number;
  /** Its slots now: a plan's adaptive limit (docs/providers.md, Thread plan) or a per-solve account's cap. */
  limit: number;
  /** A thread plan's threads; undefined for a per-solve account. */
  plan: number | undefined;
  spentTodayUsd: number;
  dailyBudgetUsd: number | undefined;
  budgetLeftUsd: number | undefined;
  /** Gone from the providers file since a reload. */
  removed: boolean;
  /** On trial after a fault: one task at a time until a submit of it is answered (undefined: not known). */
  trial?: boolean;
  /** When its current round on trial began (its last submit that may have arrived went unanswered); undefined when it is not on trial. */
  trialSince?: number;
}

/** Whether a provider can take new work: `up`, `down` (for `reason`), or `removed` by a reload. */
export type ProviderCondition = "up" | "down" | "removed";

/** One provider's state now, for the status page, `/health/dependencies` and the HAProxy weight. */
export interface ProviderStatus {
  name: string;
  /** Its dependency check's name (`captchaai_api`, `NAME_api`). */
  check: string;
  state: ProviderCondition;
  /** Why it is down, as `provider_down` says it (`upstream_auth=ERROR_KEY_DOES_NOT_EXIST`, `budget`). */
  reason: string | undefined;
  /** Its load and money; undefined when the view was built without the solver. */
  load: ProviderLoad | undefined;
}

/** One provider's verdict: the issues that keep it from taking work (empty: it can). */
export function providerIssues(p: ProviderReading, thresholds: Thresholds): ReadinessIssue[] {
  const own = readinessIssues({ phase: "running", health: p.snapshot, balanceUsd: p.balanceUsd, thresholds }).filter((i) => PROVIDER_KINDS.has(i.kind));
  return own;
}

/** Why a provider is down, as `provider_down` says it: its first issue's text, or its own extra reason. */
export function downReason(p: Pick<ProviderReading, "extra">, issues: readonly ReadinessIssue[]): string | undefined {
  return issues[0] ? formatIssue(issues[0]) : p.extra[0];
}

function down(p: ProviderReading, issues: readonly ReadinessIssue[]): ProviderDown {
  return { kind: "provider_down", provider: p.name, reason: downReason(p, issues)! };
}

/** One provider's state from its reading: removed, down for its first reason, or up. */
export function providerCondition(p: ProviderReading, thresholds: Thresholds): { state: ProviderCondition; reason: string | undefined } {
  if (p.removed) return { state: "removed", reason: undefined };
  const reason = downReason(p, providerIssues(p, thresholds));
  return reason === undefined ? { state: "up", reason: undefined } : { state: "down", reason };
}

/**
 * The snapshot of the worker as a whole: the providers' totals and its load; of the upstreams'
 * states, the worst circuit and the longest failure streak (what captcha_worker_circuit_open and
 * captcha_worker_consecutive_failures say with several providers), none of the rest.
 */
export function totalSnapshot(snapshots: readonly HealthSnapshot[]): HealthSnapshot {
  const first = snapshots[0]!;
  const sum = (f: (s: HealthSnapshot) => number) => snapshots.reduce((n, s) => n + f(s), 0);
  const solved = sum((s) => s.solved);
  const failed = sum((s) => s.failed);
  const windowOutcomes = sum((s) => s.windowOutcomes);
  const windowFailed = sum((s) => s.windowFailed);
  const lastSolves = snapshots.map((s) => s.lastSolveAt).filter((t): t is number => t !== undefined);
  const lastSolveAt = lastSolves.length === 0 ? undefined : Math.max(...lastSolves);
  const now = first.startedAt + first.uptimeMs;
  const resumes = snapshots.map((s) => s.resumedAt).filter((t): t is number => t !== undefined);
  return {
    ...first,
    solved,
    failed,
    clientFailed: sum((s) => s.clientFailed),
    consecutiveFailures: Math.max(...snapshots.map((s) => s.consecutiveFailures)),
    successRate: solved + failed === 0 ? 1 : solved / (solved + failed),
    errorRate: windowOutcomes === 0 ? 0 : windowFailed / windowOutcomes,
    windowOutcomes,
    windowFailed,
    lastSolveAt,
    msSinceLastSolve: lastSolveAt === undefined ? undefined : now - lastSolveAt,
    upstreamAuth: undefined,
    circuit: snapshots.some((s) => s.circuit === "open") ? "open" : snapshots.some((s) => s.circuit === "half_open") ? "half_open" : "closed",
    circuitHalfOpenSince: undefined,
    upstreamUnreachable: false,
    lowBalance: false,
    streak: "ok",
    streakProbationSince: undefined,
    resumedAt: resumes.length === 0 ? undefined : Math.max(...resumes),
    // The fullest plan: a per-solve provider is never full, and two plans are two accounts.
    saturation: Math.max(...snapshots.map((s) => s.saturation)),
    saturationObservedMs: Math.max(...snapshots.map((s) => s.saturationObservedMs)),
  };
}

export interface ProvidersVerdict {
  issues: ReadinessIssue[];
  warnings: ReadinessWarning[];
  /** The providers that can take work now; every one of them on trial: the worker is on probation. */
  usable: readonly ProviderReading[];
  total: HealthSnapshot;
}

/** The worker's readiness over its providers. */
export function providersReadiness(phase: Phase, providers: readonly ProviderReading[], thresholds: Thresholds, extra: readonly ReadinessIssue[] = []): ProvidersVerdict {
  const total = totalSnapshot(providers.map((p) => p.snapshot));
  // A removed provider only finishes what it holds: not usable, and not down either.
  const judged = providers.filter((p) => p.removed !== true).map((p) => ({ p, issues: providerIssues(p, thresholds) }));
  const usable = judged.filter((j) => j.issues.length === 0 && j.p.extra.length === 0).map((j) => j.p);
  const downs = judged.filter((j) => j.issues.length > 0 || j.p.extra.length > 0).map((j) => down(j.p, j.issues));
  const issues = readinessIssues({ phase, health: total, balanceUsd: undefined, thresholds, extra }).filter((i) => !PROVIDER_KINDS.has(i.kind));
  const warnings: ReadinessWarning[] = readinessWarnings(total, thresholds);
  if (usable.length === 0) issues.push(...downs);
  else warnings.push(...downs);
  return { issues, warnings, usable, total };
}
