/**
 * What `captcha-worker status` and the status page show, built from the worker's own documents
 * (`/health/ready`, `/health/dependencies`, `/health`), so the CLI reading them over HTTP and the
 * page reading them in process cannot disagree (over HTTP, `readStatusDocs` types the JSON first).
 * Every mark comes from the readiness issues, the worker's own verdict, never from a second opinion.
 */
import type { Mark } from "../health/check_status.ts";
import { isIssue, isWarning, parseIssue, unhandledKind, type ReadinessFinding } from "../health/readiness_issue.ts";
import { providerRows, type ProviderRow } from "./provider_rows.ts";
import type { StatusDocs } from "./status_docs.ts";
import type { ProviderHour, TaskTotals } from "./status_history.ts";

export type { Mark, ProviderRow, StatusDocs, TaskTotals };

/** How a row's mark is written, in the terminal and on the page alike. */
export const MARK_SYMBOL: Readonly<Record<Mark, string>> = { ok: "ok", warn: "WARN", fail: "FAIL" };

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
  /** A row per provider (docs/health.md, Status page), in order of preference; none from a worker too old to list them. */
  providers: ProviderRow[];
}

/** A number, or undefined for null (a value the worker does not have) and missing. */
const num = (v: number | null | undefined): number | undefined => (typeof v === "number" ? v : undefined);

/** A count as shown: the number, or "?" when unknown, flagged when it cannot be (negative, fractional). */
function count(n: number | undefined): { text: string; impossible: boolean } {
  if (n === undefined) return { text: "?", impossible: false };
  const impossible = !Number.isInteger(n) || n < 0;
  return { text: impossible ? `${n} (impossible)` : String(n), impossible };
}

/** A ratio shown as a percentage, flagged outside 0-100%. */
function ratio(r: number | undefined): { text: string; impossible: boolean } {
  const impossible = r !== undefined && (r < 0 || r > 1);
  return { text: impossible ? `${pct(r)} (impossible)` : pct(r), impossible };
}

/**
 * The model of the documents. `tasks`, when given (in process: the status page's history, fed where
 * /metrics is fed), gives the task totals as /metrics counts them; without it (the CLI over HTTP)
 * the tasks row says that it counts only the failures charged to the worker. `providers` (in
 * process too) gives each provider's last hour to its row.
 */
export function statusModel(docs: StatusDocs, extra: { tasks?: TaskTotals | undefined; providers?: readonly ProviderHour[] | undefined } = {}): StatusModel {
  const ready = docs.ready;
  const stats = ready.stats ?? {};
  const t = ready.thresholds ?? {};
  const health = docs.health;
  const issues = ready.issues ?? [];
  const warnings = ready.warnings ?? [];
  const failing = new Set(issues.map(parseIssue).filter((f) => f !== undefined && isIssue(f)).map(rowOf));
  const warned = new Set(warnings.map(parseIssue).filter((f) => f !== undefined && isWarning(f)).map(rowOf));
  const has = (row: Row) => failing.has(row);
  const observed = (key: string) => num(health.checks?.[key]?.[0]?.observedValue);

  const rows: StatusRow[] = [];
  const failures = observed("solver:consecutiveFailures");
  const streak = count(failures);
  rows.push({
    name: "consecutive failures",
    value: streak.text,
    threshold: `< ${fmt(num(t.max_consecutive_failures))}`,
    mark: has("streak") || streak.impossible ? "fail" : "ok",
  });
  const sinceSolve = observed("solver:secondsSinceLastSolve");
  rows.push({
    name: "since last solve",
    value: sinceSolve === undefined ? "-" : duration(sinceSolve),
    threshold: `<= ${duration(num(t.max_seconds_without_solve))} while busy`,
    mark: has("solve") ? "fail" : "ok",
  });
  const balance = num(stats.balance);
  const minBalance = num(t.min_balance);
  rows.push({
    name: "balance",
    value: balance === undefined ? "unknown" : `$${balance.toFixed(2)} (${duration(num(stats.balance_age_s))} old)`,
    threshold: `>= $${minBalance === undefined ? "?" : minBalance.toFixed(2)}`,
    mark: has("balance") ? "fail" : balance !== undefined && minBalance !== undefined && balance < 3 * minBalance ? "warn" : "ok",
  });
  const windowOutcomes = num(stats.window_outcomes);
  const [rate, outcomes, windowFailed] = [ratio(num(stats.error_rate)), count(windowOutcomes), count(num(stats.window_failed))];
  rows.push({
    name: `error rate (${duration(num(stats.window_s))})`,
    value: `${rate.text} of ${outcomes.text} (${windowFailed.text} failed)`,
    threshold: `<= ${pct(num(t.max_error_rate))}, judged from 20`,
    mark: has("errors") || rate.impossible || outcomes.impossible || windowFailed.impossible ? "fail" : "ok",
  });
  const [queued, inFlight] = [count(num(stats.queue_depth)), count(num(stats.in_flight))];
  rows.push({
    name: "queue",
    value: `${queued.text} queued, ${inFlight.text} in flight`,
    threshold: `< ${fmt(num(t.queue_max))} queued`,
    mark: has("queue") || queued.impossible || inFlight.impossible ? "fail" : "ok",
  });
  rows.push({
    name: "oldest queued",
    value: duration(num(stats.oldest_queued_s)),
    threshold: `<= ${duration(num(t.max_queue_wait))} (503 at twice)`,
    mark: has("oldest") ? "fail" : warned.has("oldest") ? "warn" : "ok",
  });
  const saturation = ratio(num(stats.saturation));
  rows.push({
    name: "saturation",
    value: `${saturation.text} of the time the plan was full while work waited`,
    threshold: `<= ${pct(num(t.max_saturation))}`,
    mark: saturation.impossible ? "fail" : warned.has("saturation") ? "warn" : "ok",
  });
  rows.push(tasksRow(extra.tasks, num(stats.solved), num(stats.failed)));
  const upstreamIssue = issues.find((i) => {
    const f = parseIssue(i);
    return f !== undefined && isIssue(f) && rowOf(f) === "upstream";
  });
  // With several providers one down is no issue while another serves, but this row must not say all is well.
  const down = (docs.dependencies.providers ?? []).filter((p) => p?.state === "down").map((p) => String(p!.name));
  const upstream = upstreamIssue ?? (down.length > 0 ? `${down.join(", ")} down, the others accepting calls` : "accepting calls");
  rows.push({ name: "upstream", value: upstream, threshold: "", mark: upstreamIssue ? "fail" : down.length > 0 ? "warn" : "ok" });

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
      // The worker says 1 before any task; no task is no rate.
      success_rate: num(stats.solved) === 0 && num(stats.failed) === 0 ? null : (num(stats.success_rate) ?? null),
    },
    thresholds: Object.fromEntries(Object.entries(t).map(([k, v]) => [k, num(v) ?? null])),
    rows,
    checks,
    providers: providerRows(docs, extra.providers),
  };
}

/** The rows a readiness issue or warning marks (the status of the worker's lifecycle and journal show as the state and the "why" list). */
type Row = "streak" | "solve" | "balance" | "errors" | "queue" | "oldest" | "saturation" | "upstream";

/** The row an issue fails (a warning: warns), or undefined for none. */
function rowOf(f: ReadinessFinding): Row | undefined {
  switch (f.kind) {
    case "consecutive_failures":
      return "streak";
    case "no_solve_for":
      return "solve";
    case "low_balance":
      return "balance";
    case "error_rate":
      return "errors";
    case "queue_full":
      return "queue";
    case "backlog":
    case "queue_wait":
      return "oldest";
    case "saturation":
      return "saturation";
    case "upstream_auth":
    case "circuit_open":
    case "upstream_unreachable":
    case "provider_down":
      return "upstream";
    case "starting":
    case "draining":
    case "state_dir":
      return undefined;
    default:
      return unhandledKind(f);
  }
}

/**
 * Tasks since start. With the totals, failures are every task that ended unsolved, as
 * captcha_worker_tasks_total counts them, with the share charged to the worker (what readiness
 * judges: client input errors, shutdowns and restarts are not the worker's fault) beside them.
 * Without, only the charged count is known and the row says so. No tasks: no success rate.
 */
function tasksRow(totals: TaskTotals | undefined, solvedDoc: number | undefined, chargedDoc: number | undefined): StatusRow {
  const charged = count(chargedDoc);
  if (totals) {
    const [solved, failed] = [count(totals.solved), count(totals.failed)];
    const ended = totals.solved + totals.failed;
    const rate = ended > 0 && !solved.impossible && !failed.impossible ? `, ${pct(totals.solved / ended)} solved` : "";
    const { timeout, shutdown } = totals.byOutcome;
    const kinds = [timeout ? `${timeout} timed out` : "", shutdown ? `${shutdown} at shutdown` : "", `${charged.text} charged to the worker`].filter(Boolean).join(", ");
    return {
      name: "tasks since start",
      value: ended === 0 ? "none yet" : `${solved.text} solved, ${failed.text} failed (${kinds})${rate}`,
      threshold: "",
      mark: solved.impossible || failed.impossible || charged.impossible ? "fail" : "ok",
    };
  }
  const solved = count(solvedDoc);
  return {
    name: "tasks since start",
    value: `${solved.text} solved, ${charged.text} worker failures (not client errors)`,
    threshold: "",
    mark: solved.impossible || charged.impossible ? "fail" : "ok",
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
