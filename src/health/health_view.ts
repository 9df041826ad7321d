/**
 * The worker's health evaluated from state in memory: liveness, readiness with its issues, and the
 * dependency checks. Pure: a function of the state and the clock, so a probe or a scrape may call it
 * any number of times and change nothing; transitions are published by the ReadinessNotifier.
 */
import type { Clock } from "../base/clock.ts";
import type { CheckResult, HealthChecks } from "./checks.ts";
import { probationSince, readinessIssues, readinessState, readinessWarnings, type Phase, type ReadinessState, type Thresholds } from "./readiness.ts";
import type { ReadinessIssue, ReadinessWarning } from "./readiness_issue.ts";
import type { HealthSnapshot, WorkerHealth } from "./worker_health.ts";

export const UPSTREAM_CHECK = "captchaai_api";

export interface Readiness {
  phase: Phase;
  /** The readiness state machine's state (README: readiness states). */
  state: ReadinessState;
  /** Readiness passes: `ready` or `probation`. */
  ready: boolean;
  /** Why readiness fails, empty when ready (`formatIssue` writes each as the documents carry it). */
  issues: ReadinessIssue[];
  /** Worth a `warn` on /health and a lower HAProxy weight, not a 503 (`queue_wait`, `saturation`). */
  warnings: ReadinessWarning[];
  /** When the current probation began (undefined unless on probation). */
  probationSince: number | undefined;
  snapshot: HealthSnapshot;
  balanceUsd: number | undefined;
  balanceAgeMs: number | undefined;
}

export interface Liveness {
  ok: boolean;
  uptimeS: number;
  stalledMs: number;
}

/** Everything the health documents are built from, read once at one instant. */
export interface HealthState {
  /** The clock's time of the evaluation. */
  at: number;
  readiness: Readiness;
  live: Liveness;
  checks: CheckResult[];
  thresholds: Thresholds;
}

export interface HealthViewOptions {
  clock: Clock;
  health: WorkerHealth;
  checks: HealthChecks;
  thresholds: Thresholds;
  /** No scheduler progress for this long while work is pending means the solver loop is stuck. */
  stallMs: number;
  /** Extra issues from other parts (e.g. the journal's state dir). */
  extraIssues?: () => readonly ReadinessIssue[];
}

export class HealthView {
  readonly #o: HealthViewOptions;
  #phase: Phase = "starting";

  constructor(options: HealthViewOptions) {
    this.#o = options;
  }

  get phase(): Phase {
    return this.#phase;
  }

  get thresholds(): Thresholds {
    return this.#o.thresholds;
  }

  /** Sets the lifecycle phase; the caller then asks the notifier to publish the change. */
  setPhase(phase: Phase): void {
    this.#phase = phase;
  }

  /** Liveness: false only when work is pending and the scheduler is overdue by more than stallMs. */
  live(): Liveness {
    return liveness(this.#o.health.snapshot(), this.#o.clock.now(), this.#o.stallMs);
  }

  /** Readiness now, with its issues and the numbers behind them. */
  evaluate(): Readiness {
    return this.#readiness(this.#o.health.snapshot(), this.#o.checks.result(UPSTREAM_CHECK));
  }

  /** Every dependency check's latest result. */
  dependencies(): CheckResult[] {
    return this.#o.checks.results();
  }

  /** Readiness, liveness and the checks from one read of the state (a scrape, the /health report). */
  state(): HealthState {
    const at = this.#o.clock.now();
    const snapshot = this.#o.health.snapshot();
    const checks = this.#o.checks.results();
    return {
      at,
      readiness: this.#readiness(snapshot, checks.find((c) => c.name === UPSTREAM_CHECK)),
      live: liveness(snapshot, at, this.#o.stallMs),
      checks,
      thresholds: this.#o.thresholds,
    };
  }

  #readiness(snapshot: HealthSnapshot, upstream: CheckResult | undefined): Readiness {
    const balance = upstream?.value?.observedValue;
    const balanceUsd = typeof balance === "number" ? balance : undefined;
    const issues = readinessIssues({
      phase: this.#phase,
      health: snapshot,
      balanceUsd,
      thresholds: this.#o.thresholds,
      extra: this.#o.extraIssues?.(),
    });
    const state = readinessState(this.#phase, issues, snapshot);
    return {
      phase: this.#phase,
      state,
      ready: state === "ready" || state === "probation",
      issues,
      warnings: readinessWarnings(snapshot, this.#o.thresholds),
      probationSince: state === "probation" ? probationSince(snapshot) : undefined,
      snapshot,
      balanceUsd,
      balanceAgeMs: balanceUsd === undefined || upstream?.valueAt === undefined ? undefined : this.#o.clock.now() - upstream.valueAt,
    };
  }
}

function liveness(s: HealthSnapshot, now: number, stallMs: number): Liveness {
  const stalledMs = Math.max(0, now - s.lastProgressAt);
  const pending = s.queueDepth > 0 || s.inFlight > 0;
  return { ok: !(pending && stalledMs > stallMs), uptimeS: Math.floor(s.uptimeMs / 1000), stalledMs };
}
