/**
 * The status model's provider rows (docs/health.md, Status page): one per provider of /health/dependencies,
 * its state as the worker judges it (up, down for the reason `provider_down` gives, removed by a
 * reload), its threads busy of its plan (and its adaptive limit, docs/providers.md, Thread plan) or its spend
 * today of its budget, and, in process, its last hour from the status history (solved and failed
 * per minute, the median solve, time down, a plan's limit against the plan).
 */
import type { ProviderDocument } from "../health/health_documents.ts";
import type { Mark } from "../health/check_status.ts";
import type { ProviderHour } from "./provider_history.ts";
import type { StatusDocs } from "./status_docs.ts";

export type ProviderRowState = ProviderDocument["state"] | "unknown";

/** The numbers behind a row, as /health/dependencies spells them (null: unknown). */
export type ProviderFigures = Pick<ProviderDocument, "billing" | "busy" | "limit" | "plan" | "spent_today_usd" | "daily_budget_usd" | "budget_left_usd">;

export interface ProviderRow {
  name: string;
  /** Its dependency check's name, as /health/dependencies gives it. */
  check: string | undefined;
  state: ProviderRowState;
  /** Why it is down, as `provider_down` says it. */
  reason: string | undefined;
  /** ok while up or removed; warn while down and another serves; fail while down and it is why the worker is not ready. */
  mark: Mark;
  /** "2/10 threads busy", "$1.20 of $20.00 today, 3 in flight". */
  load: string;
  figures: ProviderFigures;
  /** Its last hour (the page, in process); undefined over HTTP. */
  hour: ProviderHour | undefined;
}

type Lenient = NonNullable<NonNullable<StatusDocs["dependencies"]["providers"]>[number]>;

const num = (v: number | null | undefined): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);
/** Dollars to the cent, and to the millionth where a figure has more (a $0.0012 budget is not "$0.00"). */
export const usd = (v: number): string => `$${v.toFixed(6).replace(/(\.\d{2}\d*?)0+$/, "$1")}`;
const STATES: readonly ProviderRowState[] = ["up", "down", "removed"];

/** Its load as a person reads it: threads busy of the plan (its limit when below), or spend today of the budget and tasks out. */
function loadText(f: ProviderFigures): string {
  const busy = f.busy === null ? "?" : String(f.busy);
  if (f.billing === "plan") return `${busy}/${f.plan ?? "?"} threads busy${f.limit !== null && f.plan !== null && f.limit < f.plan ? `, limit ${f.limit}` : ""}`;
  if (f.billing === "per_solve") {
    const spent = f.spent_today_usd === null ? "?" : usd(f.spent_today_usd);
    const budget = f.daily_budget_usd === null ? `${spent} today, no budget` : `${spent} of ${usd(f.daily_budget_usd)} today`;
    return `${budget}, ${busy} in flight`;
  }
  return "?";
}

/**
 * The rows of the providers /health/dependencies lists (none from a worker too old to list them).
 * `issues`: the readiness issues, which say whether a provider's being down is why the worker fails.
 */
export function providerRows(docs: StatusDocs, hours: readonly ProviderHour[] = []): ProviderRow[] {
  const listed = (docs.dependencies.providers ?? []).filter((p): p is Lenient => p !== undefined && typeof p.name === "string");
  const issues = docs.ready.issues ?? [];
  return listed.map((p) => {
    const name = p.name!;
    const state: ProviderRowState = STATES.includes(p.state as ProviderRowState) ? (p.state as ProviderRowState) : "unknown";
    const figures: ProviderFigures = {
      billing: p.billing === "plan" || p.billing === "per_solve" ? p.billing : null,
      busy: num(p.busy),
      limit: num(p.limit),
      plan: num(p.plan),
      spent_today_usd: num(p.spent_today_usd),
      daily_budget_usd: num(p.daily_budget_usd),
      budget_left_usd: num(p.budget_left_usd),
    };
    // Down and the reason readiness fails (every provider is down, or it is the only one): fail.
    const failing = issues.some((i) => i.startsWith(`provider_down=${name}:`)) || (listed.length === 1 && issues.length > 0);
    const mark: Mark = state === "down" ? (failing ? "fail" : "warn") : state === "unknown" ? "warn" : "ok";
    return { name, check: typeof p.check === "string" ? p.check : undefined, state, reason: typeof p.reason === "string" ? p.reason : undefined, mark, load: loadText(figures), figures, hour: hours.find((h) => h.name === name) };
  });
}

/** A row for scripts (`status --json`): the figures as /health/dependencies spells them, and the hour when known. */
export function providerJson(r: ProviderRow): Record<string, unknown> {
  const hour = r.hour && {
    solved_per_min: round(r.hour.solvedPerMin),
    failed_per_min: round(r.hour.failedPerMin),
    p50_solve_s: r.hour.p50S === undefined ? null : round(r.hour.p50S),
    down_s: Math.round(r.hour.msDown / 1000),
    ...(r.hour.limit && { limit_mean: round(r.hour.limit.mean), limit_min: r.hour.limit.min, limit_max: r.hour.limit.max }),
  };
  return { name: r.name, check: r.check ?? null, state: r.state, reason: r.reason ?? null, ...r.figures, ...(hour ?? {}) };
}

const round = (n: number) => Math.round(n * 100) / 100;
