/**
 * What `captcha-worker status` and the status page show, built from the worker's own documents
 * (`/health/ready`, `/health/dependencies`, `/health`), so the CLI reading them over HTTP and the
 * page reading them in process cannot disagree (over HTTP, `readStatusDocs` types the JSON first).
 * Every mark comes from the readiness issues, the worker's own verdict, never from a second opinion.
 */
import type { Mark } from "../health/check_status.ts";
import type { StatusDocs } from "./status_docs.ts";

export type { Mark, StatusDocs };

export interface StatusRow {
  name: string;
  value: string;
  threshold: string;
  mark: Mark;
}

export interface StatusModel {
  version: string;
  /** pass, warn or fail, as /health says. */
  overall: string;
  ready: boolean;
  /** The readiness state (starting, ready, probation, not_ready, draining), when the worker says it. */
  state: string | undefined;
  warnings: string[];
  issues: string[];
  uptimeS: number | undefined;
  /** The rows' numbers as numbers (seconds, dollars, ratios), for scripts; null where unknown. */
  figures: Record<string, number | null>;
  /** The thresholds they are judged against, in the same units. */
  thresholds: Record<string, number | null>;
  /** The rows as a person reads them (formatted text). */
  rows: StatusRow[];
  checks: { name: string; status: string; responseMs: number | undefined; checkedAt: string | undefined; stale: boolean; error: string | undefined }[];
}

/** A number, or undefined for null (a value the worker does not have) and missing. */
const num = (v: number | null | undefined): number | undefined => (typeof v === "number" ? v : undefined);

export function statusModel(docs: StatusDocs): StatusModel {
  const ready = docs.ready;
  const stats = ready.stats ?? {};
  const t = ready.thresholds ?? {};
  const health = docs.health;
  const issues = ready.issues ?? [];
  const warnings = ready.warnings ?? [];
  const has = (prefix: string) => issues.some((i) => i.startsWith(prefix));
  const warned = (prefix: string) => warnings.some((i) => i.startsWith(prefix));
  const observed = (key: string) => num(health.checks?.[key]?.[0]?.observedValue);

  const rows: StatusRow[] = [];
  const failures = observed("solver:consecutiveFailures");
  rows.push({
    name: "consecutive failures",
    value: fmt(failures),
    threshold: `< ${fmt(num(t.max_consecutive_failures))}`,
    mark: has("consecutive_failures=") ? "fail" : "ok",
  });
  const sinceSolve = observed("solver:secondsSinceLastSolve");
  rows.push({
    name: "since last solve",
    value: sinceSolve === undefined ? "-" : duration(sinceSolve),
    threshold: `<= ${duration(num(t.max_seconds_without_solve))} while busy`,
    mark: has("no_solve_for=") ? "fail" : "ok",
  });
  const balance = num(stats.balance);
  const minBalance = num(t.min_balance);
  rows.push({
    name: "balance",
    value: balance === undefined ? "unknown" : `$${balance.toFixed(2)} (${duration(num(stats.balance_age_s))} old)`,
    threshold: `>= $${minBalance === undefined ? "?" : minBalance.toFixed(2)}`,
    mark: has("low_balance=") ? "fail" : balance !== undefined && minBalance !== undefined && balance < 3 * minBalance ? "warn" : "ok",
  });
  const windowOutcomes = num(stats.window_outcomes);
  rows.push({
    name: `error rate (${duration(num(stats.window_s))})`,
    value: `${pct(num(stats.error_rate))} of ${fmt(windowOutcomes)} (${fmt(num(stats.window_failed))} failed)`,
    threshold: `<= ${pct(num(t.max_error_rate))}, judged from 20`,
    mark: has("error_rate=") ? "fail" : "ok",
  });
  rows.push({
    name: "queue",
    value: `${fmt(num(stats.queue_depth))} queued, ${fmt(num(stats.in_flight))} in flight`,
    threshold: `< ${fmt(num(t.queue_max))} queued`,
    mark: has("queue_full=") ? "fail" : "ok",
  });
  rows.push({
    name: "oldest queued",
    value: duration(num(stats.oldest_queued_s)),
    threshold: `<= ${duration(num(t.max_queue_wait))} (503 at twice)`,
    mark: has("backlog=") ? "fail" : warned("queue_wait=") ? "warn" : "ok",
  });
  rows.push({
    name: "saturation",
    value: `${pct(num(stats.saturation))} of submits refused for threads`,
    threshold: `<= ${pct(num(t.max_saturation))}`,
    mark: warned("saturation=") ? "warn" : "ok",
  });
  rows.push({
    name: "tasks",
    value: `${fmt(num(stats.solved))} solved, ${fmt(num(stats.failed))} failed (${pct(num(stats.success_rate))} success)`,
    threshold: "",
    mark: "ok",
  });
  const upstreamIssue = issues.find((i) => i.startsWith("upstream_auth=") || i === "circuit_open" || i === "upstream_unreachable");
  rows.push({ name: "upstream", value: upstreamIssue ?? "accepting calls", threshold: "", mark: upstreamIssue ? "fail" : "ok" });

  const checks = Object.entries(docs.dependencies.checks ?? {}).map(([name, c]) => ({
    name,
    status: c?.status ?? "unknown",
    responseMs: num(c?.response_ms),
    checkedAt: c?.checked_at ?? undefined,
    stale: c?.stale === true,
    error: c?.error,
  }));
  return {
    version: health.releaseId ?? "unknown",
    overall: health.status ?? "unknown",
    ready: ready.status === "ready",
    state: ready.state,
    warnings,
    issues,
    uptimeS: observed("uptime"),
    figures: {
      consecutive_failures: failures ?? null,
      seconds_since_last_solve: sinceSolve ?? null,
      balance_usd: balance ?? null,
      balance_age_s: num(stats.balance_age_s) ?? null,
      error_rate: num(stats.error_rate) ?? null,
      window_outcomes: windowOutcomes ?? null,
      queue_depth: num(stats.queue_depth) ?? null,
      in_flight: num(stats.in_flight) ?? null,
      oldest_queued_s: num(stats.oldest_queued_s) ?? null,
      saturation: num(stats.saturation) ?? null,
      solved: num(stats.solved) ?? null,
      failed: num(stats.failed) ?? null,
      success_rate: num(stats.success_rate) ?? null,
    },
    thresholds: Object.fromEntries(Object.entries(t).map(([k, v]) => [k, num(v) ?? null])),
    rows,
    checks,
  };
}

function fmt(n: number | undefined): string {
  return n === undefined ? "?" : String(n);
}

function pct(ratio: number | undefined): string {
  return ratio === undefined ? "?" : `${(ratio * 100).toFixed(1).replace(/\.0$/, "")}%`;
}

/** 75 -> "1m15s", 600 -> "10m", 3 -> "3s". */
export function duration(seconds: number | undefined): string {
  if (seconds === undefined) return "?";
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  return [h ? `${h}h` : "", m ? `${m}m` : "", r || (!h && !m) ? `${r}s` : ""].join("");
}
