/**
 * The health documents the endpoints serve (docs/health.md), typed, and pure builders from the evaluated
 * state: the HTTP edge only serialises them and picks the status code from their `status`, and the
 * status page and the `status` command read the same types.
 */
import { PRODUCT, VERSION } from "../base/version.ts";
import { checkStatusForms, type CheckStatus, type Verdict } from "./check_status.ts";
import type { CheckResult } from "./checks.ts";
import type { HealthState, Liveness, ProviderStatus, Readiness } from "./health_view.ts";
import { UPSTREAM_CHECK } from "./health_view.ts";
import type { Phase, ReadinessState, Thresholds } from "./readiness.ts";
import { formatIssue, unhandledKind, type ReadinessFinding } from "./readiness_issue.ts";
import type { ReadinessChange } from "./readiness_notifier.ts";

/** GET /health/live. */
export type LiveDocument = { status: "ok"; uptime_s: number } | { status: "stuck"; uptime_s: number; stalled_s: number };

/** GET /health/startup. */
export interface StartupDocument {
  status: "started" | "starting";
}

/** GET /health/ready. */
export interface ReadyDocument {
  status: "ready" | "not_ready";
  /** The readiness state (docs/health.md, Readiness); `probation` answers 200 like `ready`. */
  state: ReadinessState;
  issues: string[];
  /** Worth a warn, not a 503: `queue_wait=Ns`, `saturation=R`. */
  warnings: string[];
  stats: {
    solved: number;
    failed: number;
    success_rate: number;
    error_rate: number;
    balance: number | null;
    balance_age_s: number | null;
    queue_depth: number;
    in_flight: number;
    window_s: number;
    window_outcomes: number;
    window_failed: number;
    oldest_queued_s: number;
    saturation: number;
  };
  thresholds: {
    max_consecutive_failures: number;
    max_seconds_without_solve: number;
    min_balance: number;
    max_error_rate: number;
    queue_max: number;
    max_queue_wait: number;
    max_saturation: number;
  };
}

export interface DependencyDocument {
  status: CheckStatus;
  response_ms: number | null;
  checked_at: string | null;
  stale: boolean;
  error?: string;
}

/** One provider in /health/dependencies (docs/providers.md): its state, its load and its money now. */
export interface ProviderDocument {
  name: string;
  /** Its check in `checks` (a provider removed by a reload loses it once it holds no task). */
  check: string;
  state: ProviderStatus["state"];
  /** Why it cannot take work, as `provider_down` says it; null when up or removed. */
  reason: string | null;
  /** `plan`: a thread plan; `per_solve`: a price per solve. */
  billing: "plan" | "per_solve" | null;
  /** Tasks it holds now. */
  busy: number | null;
  /** Its slots now: a plan's adaptive limit on this replica (docs/providers.md, Thread plan), or a per-solve account's cap. */
  limit: number | null;
  /** A thread plan's threads. */
  plan: number | null;
  spent_today_usd: number | null;
  daily_budget_usd: number | null;
  budget_left_usd: number | null;
}

/** GET /health/dependencies. */
export interface DependenciesDocument {
  /** The worst check's status. */
  status: CheckStatus;
  checks: Record<string, DependencyDocument>;
  /** Each provider in order of preference (one, `captchaai`, without a providers file). */
  providers?: ProviderDocument[];
}

/** A provider as /health/dependencies lists it. */
export function providerDocument(p: ProviderStatus): ProviderDocument {
  const l = p.load;
  return {
    name: p.name,
    check: p.check,
    state: p.state,
    reason: p.reason ?? null,
    billing: l === undefined ? null : l.plan === undefined ? "per_solve" : "plan",
    busy: l?.busy ?? null,
    limit: l?.limit ?? null,
    plan: l?.plan ?? null,
    spent_today_usd: l === undefined ? null : round(l.spentTodayUsd, 6),
    daily_budget_usd: l?.dailyBudgetUsd ?? null,
    budget_left_usd: l?.budgetLeftUsd === undefined ? null : round(l.budgetLeftUsd, 6),
  };
}

/** One entry of a health+json `checks` array (draft-inadarei-api-health-check). */
export interface HealthCheckItem {
  componentId: string;
  componentType: string;
  observedValue: number | null;
  observedUnit: string;
  status: Verdict;
  time: string;
  output?: string;
}

/** GET /health: application/health+json. */
export interface HealthReport {
  status: Verdict;
  version: string;
  releaseId: string;
  serviceId: string;
  description: string;
  output?: string;
  checks: Record<string, HealthCheckItem[]>;
}

export function liveDocument(live: Liveness): LiveDocument {
  return live.ok
    ? { status: "ok", uptime_s: live.uptimeS }
    : { status: "stuck", uptime_s: live.uptimeS, stalled_s: Math.floor(live.stalledMs / 1000) };
}

export function startupDocument(phase: Phase): StartupDocument {
  return { status: phase === "starting" ? "starting" : "started" };
}

export function readyDocument(r: Readiness, t: Thresholds): ReadyDocument {
  const s = r.snapshot;
  return {
    status: r.ready ? "ready" : "not_ready",
    state: r.state,
    issues: r.issues.map(formatIssue),
    warnings: r.warnings.map(formatIssue),
    stats: {
      solved: s.solved,
      failed: s.failed,
      success_rate: round(s.successRate, 3),
      error_rate: round(s.errorRate, 3),
      balance: r.balanceUsd ?? null,
      balance_age_s: r.balanceAgeMs === undefined ? null : Math.floor(r.balanceAgeMs / 1000),
      queue_depth: s.queueDepth,
      in_flight: s.inFlight,
      window_s: Math.round(s.windowMs / 1000),
      window_outcomes: s.windowOutcomes,
      window_failed: s.windowFailed,
      oldest_queued_s: Math.max(0, Math.floor(s.oldestQueuedAgeMs / 1000)), // a task out submitting waits too
      saturation: round(s.saturation, 3),
    },
    thresholds: {
      max_consecutive_failures: t.maxConsecutiveFailures,
      max_seconds_without_solve: Math.round(t.maxWithoutSolveMs / 1000),
      min_balance: t.minBalanceUsd,
      max_error_rate: t.maxErrorRate,
      queue_max: t.queueMax,
      max_queue_wait: Math.round(t.maxQueueWaitMs / 1000),
      max_saturation: t.maxSaturation,
    },
  };
}

/** GET /health/history: the last readiness state changes, newest first (docs/health.md). */
export interface HistoryDocument {
  state: ReadinessState;
  changes: { at: string; from: ReadinessState; to: ReadinessState; issues: string[] }[];
}

export function historyDocument(state: ReadinessState, changes: readonly ReadinessChange[]): HistoryDocument {
  return { state, changes: changes.map((c) => ({ at: new Date(c.at).toISOString(), from: c.from, to: c.to, issues: c.issues.map(formatIssue) })) };
}

const SEVERITY: Record<CheckStatus, number> = { ok: 0, degraded: 1, down: 2 };

/** The worst check's status: `ok`, `degraded` or `down`; with `providers`, each provider's state and load. */
export function dependenciesDocument(results: readonly CheckResult[], providers?: readonly ProviderStatus[]): DependenciesDocument {
  const checks: Record<string, DependencyDocument> = {};
  for (const c of results) {
    const entry: DependencyDocument = {
      status: c.status,
      response_ms: c.responseMs === undefined ? null : Math.round(c.responseMs),
      checked_at: c.checkedAt === undefined ? null : new Date(c.checkedAt).toISOString(),
      stale: c.stale,
    };
    if (c.error !== undefined) entry.error = c.error;
    checks[c.name] = entry;
  }
  const worst = results.reduce<CheckStatus>((w, c) => (SEVERITY[c.status] > SEVERITY[w] ? c.status : w), "ok");
  return providers === undefined ? { status: worst, checks } : { status: worst, checks, providers: providers.map(providerDocument) };
}

/** fail when not live or not ready, warn on probation, a readiness warning or a dependency not ok, else pass. */
export function healthReport(state: HealthState): HealthReport {
  const { readiness: r, live, checks: deps, thresholds: t } = state;
  const time = new Date(state.at).toISOString();
  const s = r.snapshot;
  const warn = r.state === "probation" || r.warnings.length > 0 || deps.some((d) => d.status !== "ok");
  const status: Verdict = !live.ok || !r.ready ? "fail" : warn ? "warn" : "pass";
  const item = (componentId: string, componentType: string, observedValue: number | null, observedUnit: string, ok: boolean): HealthCheckItem[] => [
    { componentId, componentType, observedValue, observedUnit, status: ok ? "pass" : "fail", time },
  ];
  const failing = new Set(r.issues.map(reportItemOf));
  const warned = new Set(r.warnings.map(reportItemOf));
  const warnItem = (key: ReportItem, componentId: string, observedValue: number, observedUnit: string): HealthCheckItem[] => [{
    componentId, componentType: "component", observedValue, observedUnit, time,
    status: failing.has(key) ? "fail" : warned.has(key) ? "warn" : "pass",
  }];
  const checks: Record<string, HealthCheckItem[]> = {
    "solver:consecutiveFailures": item("solver", "component", s.consecutiveFailures, "failures", !failing.has("solver:consecutiveFailures")),
    "solver:errorRate": item("solver", "component", round(s.errorRate, 3), "ratio", !failing.has("solver:errorRate")),
    "solver:secondsSinceLastSolve": item(
      "solver", "component",
      s.msSinceLastSolve === undefined ? null : Math.floor(s.msSinceLastSolve / 1000), "s",
      !failing.has("solver:secondsSinceLastSolve"),
    ),
    "solver:queueDepth": item("solver", "component", s.queueDepth, "tasks", s.queueDepth < t.queueMax),
    "solver:inFlight": item("solver", "component", s.inFlight, "tasks", true),
    "solver:oldestQueued": warnItem("solver:oldestQueued", "solver", Math.max(0, Math.floor(s.oldestQueuedAgeMs / 1000)), "s"),
    "solver:saturation": warnItem("solver:saturation", "solver", round(s.saturation, 3), "ratio"),
    "solver:liveness": item("solver", "component", live.stalledMs, "ms", live.ok),
    "uptime": item("process", "system", live.uptimeS, "s", true),
  };
  for (const d of deps) {
    checks[`${d.name}:responseTime`] = [{
      componentId: d.name,
      componentType: d.componentType,
      observedValue: d.responseMs === undefined ? null : Math.round(d.responseMs),
      observedUnit: "ms",
      status: checkStatusForms(d.status).verdict,
      time: d.checkedAt === undefined ? time : new Date(d.checkedAt).toISOString(),
      ...(d.error ? { output: d.error } : {}),
    }];
  }
  if (r.balanceUsd !== undefined) {
    checks[`${UPSTREAM_CHECK}:balance`] = item(UPSTREAM_CHECK, "component", r.balanceUsd, "USD", r.balanceUsd >= t.minBalanceUsd);
  }
  return {
    status,
    version: VERSION.split(".")[0]!,
    releaseId: VERSION,
    serviceId: PRODUCT,
    description: "CAPTCHA-solving worker for the CaptchaAI API",
    ...(r.issues.length + r.warnings.length > 0 ? { output: [...r.issues, ...r.warnings].map(formatIssue).join(", ") } : {}),
    checks,
  };
}

/** The /health solver items an issue fails or a warning warns. */
type ReportItem = "solver:consecutiveFailures" | "solver:errorRate" | "solver:secondsSinceLastSolve" | "solver:oldestQueued" | "solver:saturation";

/**
 * The solver item of /health an issue fails (a warning: warns), or undefined for none. The queue
 * depth and the balance items compare their own figures with the thresholds; the rest are about the
 * worker or its upstream as a whole, and show in `output`.
 */
function reportItemOf(f: ReadinessFinding): ReportItem | undefined {
  switch (f.kind) {
    case "consecutive_failures":
      return "solver:consecutiveFailures";
    case "error_rate":
      return "solver:errorRate";
    case "no_solve_for":
      return "solver:secondsSinceLastSolve";
    case "backlog":
    case "queue_wait":
      return "solver:oldestQueued";
    case "saturation":
      return "solver:saturation";
    case "starting":
    case "draining":
    case "upstream_auth":
    case "upstream_unreachable":
    case "circuit_open":
    case "low_balance":
    case "queue_full":
    case "state_dir":
    case "provider_down":
      return undefined;
    default:
      return unhandledKind(f);
  }
}

/** The three documents the status page and `status` read, from one evaluation. */
export interface StatusDocuments {
  ready: ReadyDocument;
  dependencies: DependenciesDocument;
  health: HealthReport;
}

export function statusDocuments(state: HealthState): StatusDocuments {
  return { ready: readyDocument(state.readiness, state.thresholds), dependencies: dependenciesDocument(state.checks, state.providers), health: healthReport(state) };
}

function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}
