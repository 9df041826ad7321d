/**
 * The health views the endpoints serve, computed from state in memory: liveness, readiness (with
 * its issues, stats and thresholds), dependencies, and the draft-inadarei health+json report.
 * Readiness changes are published to subscribers (metrics, systemd, HAProxy) as events.
 */
import type { Clock } from "../base/clock.ts";
import type { Logger } from "../base/log.ts";
import { PRODUCT, VERSION } from "../base/version.ts";
import type { CheckResult, HealthChecks } from "./checks.ts";
import { readinessIssues, type Phase, type Thresholds } from "./readiness.ts";
import type { HealthSnapshot, WorkerHealth } from "./worker_health.ts";

export const UPSTREAM_CHECK = "captchaai_api";

export interface Readiness {
  ready: boolean;
  issues: string[];
  snapshot: HealthSnapshot;
  balanceUsd: number | undefined;
  balanceAgeMs: number | undefined;
}

export interface HealthViewOptions {
  clock: Clock;
  health: WorkerHealth;
  checks: HealthChecks;
  thresholds: Thresholds;
  /** No scheduler progress for this long while work is pending means the solver loop is stuck. */
  stallMs: number;
  log: Logger;
  extraIssues?: () => readonly string[];
}

export type ReadinessListener = (r: Readiness) => void;

export class HealthView {
  readonly #o: HealthViewOptions;
  #phase: Phase = "starting";
  #lastReady: boolean | undefined;
  #lastIssues = "";
  readonly #listeners = new Set<ReadinessListener>();

  constructor(options: HealthViewOptions) {
    this.#o = options;
  }

  get phase(): Phase {
    return this.#phase;
  }

  setPhase(phase: Phase): void {
    this.#phase = phase;
    this.evaluate();
  }

  /** Subscribes to readiness transitions (and changes of the issue list); returns the unsubscribe. */
  onReadinessChange(listener: ReadinessListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Liveness: false only when work is pending and the scheduler is overdue by more than stallMs. */
  live(): { ok: boolean; uptimeS: number; stalledMs: number } {
    const s = this.#o.health.snapshot();
    const stalledMs = this.#o.clock.now() - s.lastProgressAt;
    const pending = s.queueDepth > 0 || s.inFlight > 0;
    return { ok: !(pending && stalledMs > this.#o.stallMs), uptimeS: Math.floor(s.uptimeMs / 1000), stalledMs };
  }

  /** Readiness now; publishes a change to subscribers when it differs from the last one seen. */
  evaluate(): Readiness {
    const snapshot = this.#o.health.snapshot();
    const upstream = this.#o.checks.result(UPSTREAM_CHECK);
    const balance = upstream?.value?.observedValue;
    const balanceUsd = typeof balance === "number" ? balance : undefined;
    const issues = readinessIssues({
      phase: this.#phase,
      health: snapshot,
      balanceUsd,
      thresholds: this.#o.thresholds,
      extra: this.#o.extraIssues?.(),
    });
    const r: Readiness = {
      ready: issues.length === 0,
      issues,
      snapshot,
      balanceUsd,
      balanceAgeMs: balanceUsd === undefined || upstream?.valueAt === undefined ? undefined : this.#o.clock.now() - upstream.valueAt,
    };
    const key = issues.join(",");
    if (r.ready !== this.#lastReady || key !== this.#lastIssues) {
      const first = this.#lastReady === undefined;
      this.#lastReady = r.ready;
      this.#lastIssues = key;
      if (!first || !r.ready) {
        if (r.ready) this.#o.log.info("ready", { issues: [] });
        else this.#o.log.warn("not ready", { issues });
      }
      for (const l of this.#listeners) {
        try {
          l(r);
        } catch (err) {
          this.#o.log.error("readiness listener failed", { err });
        }
      }
    }
    return r;
  }

  dependencies(): CheckResult[] {
    return this.#o.checks.results();
  }

  /** GET /health/ready body (SPEC §4). */
  readyBody(r: Readiness): Record<string, unknown> {
    const s = r.snapshot;
    const t = this.#o.thresholds;
    return {
      status: r.ready ? "ready" : "not_ready",
      issues: r.issues,
      stats: {
        solved: s.solved,
        failed: s.failed,
        success_rate: round(s.successRate, 3),
        error_rate: round(s.errorRate, 3),
        balance: r.balanceUsd ?? null,
        balance_age_s: r.balanceAgeMs === undefined ? null : Math.floor(r.balanceAgeMs / 1000),
        queue_depth: s.queueDepth,
        in_flight: s.inFlight,
        window_s: Math.round(this.#o.health.windowMs / 1000),
        window_outcomes: s.windowOutcomes,
        window_failed: s.windowFailed,
      },
      thresholds: {
        max_consecutive_failures: t.maxConsecutiveFailures,
        max_seconds_without_solve: Math.round(t.maxSecondsWithoutSolveMs / 1000),
        min_balance: t.minBalanceUsd,
        max_error_rate: t.maxErrorRate,
        queue_max: t.queueMax,
      },
    };
  }

  /** GET /health/dependencies body (SPEC §4). */
  dependenciesBody(results: CheckResult[]): { ok: boolean; body: Record<string, unknown> } {
    const checks: Record<string, unknown> = {};
    for (const c of results) {
      const entry: Record<string, unknown> = {
        status: c.status,
        response_ms: c.responseMs === undefined ? null : Math.round(c.responseMs),
        checked_at: c.checkedAt === undefined ? null : new Date(c.checkedAt).toISOString(),
        stale: c.stale,
      };
      if (c.error !== undefined) entry.error = c.error;
      checks[c.name] = entry;
    }
    const ok = results.every((c) => c.status === "ok");
    return { ok, body: { status: ok ? "ok" : "degraded", checks } };
  }

  /** GET /health body: application/health+json (draft-inadarei-api-health-check). */
  report(): { status: "pass" | "warn" | "fail"; body: Record<string, unknown> } {
    const now = this.#o.clock.now();
    const time = new Date(now).toISOString();
    const r = this.evaluate();
    const live = this.live();
    const deps = this.dependencies();
    const s = r.snapshot;
    const t = this.#o.thresholds;
    const status = !live.ok || !r.ready ? "fail" : deps.some((d) => d.status !== "ok") ? "warn" : "pass";
    const item = (componentId: string, componentType: string, observedValue: unknown, observedUnit: string, ok: boolean, output?: string) => [
      { componentId, componentType, observedValue, observedUnit, status: ok ? "pass" : "fail", time, ...(output ? { output } : {}) },
    ];
    const checks: Record<string, unknown> = {
      "solver:consecutiveFailures": item("solver", "component", s.consecutiveFailures, "failures", s.consecutiveFailures < t.maxConsecutiveFailures),
      "solver:errorRate": item("solver", "component", round(s.errorRate, 3), "ratio", !r.issues.some((i) => i.startsWith("error_rate="))),
      "solver:secondsSinceLastSolve": item(
        "solver", "component",
        s.msSinceLastSolve === undefined ? null : Math.floor(s.msSinceLastSolve / 1000), "s",
        !r.issues.some((i) => i.startsWith("no_solve_for=")),
      ),
      "solver:queueDepth": item("solver", "component", s.queueDepth, "tasks", s.queueDepth < t.queueMax),
      "solver:inFlight": item("solver", "component", s.inFlight, "tasks", true),
      "solver:liveness": item("solver", "component", live.stalledMs, "ms", live.ok),
      "uptime": item("process", "system", live.uptimeS, "s", true),
    };
    for (const d of deps) {
      const entry = {
        componentId: d.name,
        componentType: d.componentType,
        observedValue: d.responseMs === undefined ? null : Math.round(d.responseMs),
        observedUnit: "ms",
        status: d.status === "ok" ? "pass" : d.status === "degraded" ? "warn" : "fail",
        time: d.checkedAt === undefined ? time : new Date(d.checkedAt).toISOString(),
        ...(d.error ? { output: d.error } : {}),
      };
      checks[`${d.name}:responseTime`] = [entry];
    }
    if (r.balanceUsd !== undefined) {
      checks[`${UPSTREAM_CHECK}:balance`] = item(UPSTREAM_CHECK, "component", r.balanceUsd, "USD", r.balanceUsd >= t.minBalanceUsd);
    }
    return {
      status,
      body: {
        status,
        version: VERSION.split(".")[0],
        releaseId: VERSION,
        serviceId: PRODUCT,
        description: "CAPTCHA-solving worker for the CaptchaAI API",
        ...(r.issues.length > 0 ? { output: r.issues.join(", ") } : {}),
        checks,
      },
    };
  }
}

function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}
