/**
 * The documents the status model reads, typed: in process they are the health documents as built;
 * over HTTP (`captcha-worker status`) they are parsed JSON from a worker of any version, so
 * `readStatusDocs` keeps each field only when it has its type. Every field may be missing: a missing
 * value shows as "?", never as a throw.
 */
import type { DependenciesDocument, HealthReport, ReadyDocument } from "../health/health_documents.ts";

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
const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
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
  for (const [name, v] of Object.entries(obj(obj(raw.dependencies).checks))) {
    const c = obj(v);
    checks[name] = {
      status: oneOf(c.status, ["ok", "degraded", "down"] as const),
      response_ms: num(c.response_ms),
      checked_at: str(c.checked_at),
      stale: typeof c.stale === "boolean" ? c.stale : undefined,
      error: str(c.error),
    };
  }
  const health = obj(raw.health);
  const items: Record<string, Lenient<HealthReport["checks"][string]>> = {};
  for (const [key, v] of Object.entries(obj(health.checks))) {
    if (Array.isArray(v)) items[key] = v.map((i) => ({ observedValue: num(obj(i).observedValue) }));
  }
  return {
    ready: {
      status: oneOf(ready.status, ["ready", "not_ready"] as const),
      state: oneOf(ready.state, ["starting", "ready", "probation", "not_ready", "draining"] as const),
      issues: Array.isArray(ready.issues) ? ready.issues.map(String) : undefined,
      warnings: Array.isArray(ready.warnings) ? ready.warnings.map(String) : undefined,
      stats: numbers(ready.stats, [
        "solved", "failed", "success_rate", "error_rate", "balance", "balance_age_s", "queue_depth", "in_flight", "window_s", "window_outcomes", "window_failed",
        "oldest_queued_s", "saturation",
      ]),
      thresholds: numbers(ready.thresholds, ["max_consecutive_failures", "max_seconds_without_solve", "min_balance", "max_error_rate", "queue_max", "max_queue_wait", "max_saturation"]),
    },
    dependencies: { checks },
    health: { status: oneOf(health.status, ["pass", "warn", "fail"] as const), releaseId: str(health.releaseId), checks: items },
  };
}
