/**
 * The documents the status model reads, typed: in process they are the health documents as built;
 * over HTTP (`captcha-worker status`) they are parsed JSON from a worker of any version, so
 * `readStatusDocs` keeps each field only when it has its type, and its text without control characters
 * (it goes to a terminal). Every field may be missing: a missing value shows as "?", never as a throw.
 */
import type { DependenciesDocument, HealthReport, ProviderDocument, ReadyDocument } from "../health/health_documents.ts";

/** `T` with every field optional, recursively (arrays keep their element type, made lenient). */
export type Lenient<T> = T extends readonly (infer U)[] ? Lenient<U>[] : T extends object ? { [K in keyof T]?: Lenient<T[K]> | undefined } : T;

export interface StatusDocs {
  ready: Lenient<ReadyDocument>;
  dependencies: Lenient<DependenciesDocument>;
  health: Lenient<HealthReport>;
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Obj) : {});
const num = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) ? v : undefined);
/** Text for a terminal: a server's control characters (escape sequences, CR, BEL, C1) become "?". */
const clean = (s: string): string => s.replace(/[\u0000-\u001f\u007f-\u009f]/g, "?");
const str = (v: unknown): string | undefined => (typeof v === "string" ? clean(v) : undefined);
/** The most issues, warnings or checks kept: a worker has a dozen issue kinds and one check; more is a server to distrust. */
const MAX_LISTED = 100;
const list = (v: unknown): string[] | undefined => {
  if (!Array.isArray(v)) return undefined;
  const out = v.slice(0, MAX_LISTED).map((x) => clean(String(x)));
  if (v.length > MAX_LISTED) out.push(`(and ${v.length - MAX_LISTED} more)`);
  return out;
};
const oneOf = <T extends string>(v: unknown, allowed: readonly T[]): T | undefined => (allowed.includes(v as T) ? (v as T) : undefined);

/** Fields of an object that are numbers, by name. */
function numbers<K extends string>(v: unknown, keys: readonly K[]): { [P in K]?: number } {
  const o = obj(v);
  const out: { [P in K]?: number } = {};
  for (const k of keys) out[k] = num(o[k]);
  return out;
}

/** Parsed JSON of /health/ready, /health/dependencies and /health, field by field. */
export function readStatusDocs(raw: { ready: unknown; dependencies: unknown; health: unknown }): StatusDocs {
  const ready = obj(raw.ready);
  const checks: Record<string, Lenient<DependenciesDocument["checks"][string]>> = {};
  for (const [name, v] of Object.entries(obj(obj(raw.dependencies).checks)).slice(0, MAX_LISTED)) {
    const c = obj(v);
    checks[clean(name)] = {
      status: oneOf(c.status, ["ok", "degraded", "down"] as const),
      response_ms: num(c.response_ms),
      checked_at: str(c.checked_at),
      stale: typeof c.stale === "boolean" ? c.stale : undefined,
      error: str(c.error),
    };
  }
  const providers = Array.isArray(obj(raw.dependencies).providers) ? (obj(raw.dependencies).providers as unknown[]).slice(0, MAX_LISTED).map(readProvider) : undefined;
  const health = obj(raw.health);
  const items: Record<string, Lenient<HealthReport["checks"][string]>> = {};
  for (const [key, v] of Object.entries(obj(health.checks)).slice(0, MAX_LISTED)) {
    if (Array.isArray(v)) items[clean(key)] = v.map((i) => ({ observedValue: num(obj(i).observedValue) }));
  }
  return {
    ready: {
      status: oneOf(ready.status, ["ready", "not_ready"] as const),
      state: oneOf(ready.state, ["starting", "ready", "probation", "not_ready", "draining"] as const),
      issues: list(ready.issues),
      warnings: list(ready.warnings),
      stats: numbers(ready.stats, [
        "solved", "failed", "success_rate", "error_rate", "balance", "balance_age_s", "queue_depth", "in_flight", "window_s", "window_outcomes", "window_failed",
        "oldest_queued_s", "saturation",
      ]),
      thresholds: numbers(ready.thresholds, ["max_consecutive_failures", "max_seconds_without_solve", "min_balance", "max_error_rate", "queue_max", "max_queue_wait", "max_saturation"]),
    },
    dependencies: providers === undefined ? { checks } : { checks, providers },
    health: { status: oneOf(health.status, ["pass", "warn", "fail"] as const), releaseId: str(health.releaseId), checks: items },
  };
}

/** One provider of /health/dependencies, field by field. */
function readProvider(v: unknown): Lenient<ProviderDocument> {
  const p = obj(v);
  return {
    name: str(p.name),
    check: str(p.check),
    state: oneOf(p.state, ["up", "down", "removed"] as const),
    reason: str(p.reason),
    billing: oneOf(p.billing, ["plan", "per_solve"] as const),
    ...numbers(p, ["busy", "limit", "plan", "spent_today_usd", "daily_budget_usd", "budget_left_usd"]),
  };
}
