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
import { providerCondition, providerIssues, providersReadiness, type ProviderLoad, type ProviderReading, type ProviderStatus } from "./provider_readiness.ts";

export type { ProviderLoad, ProviderStatus };

export const UPSTREAM_CHECK = "captchaai_api";
/** `provider_down`'s reason for a provider on trial (one task at a time) while another serves. */
export const TRIAL_REASON = "trial";

export interface Readiness {
  phase: Phase;
  /** The readiness state machine's state (docs/health.md, Readiness). */
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
  /** Each provider's state and load, in order of preference. */
  providers: ProviderStatus[];
}

/** One provider's health as the view reads it: its state, its dependency check, and reasons of its own (a spent budget). */
export interface ProviderHealth {
  name: string;
  health: WorkerHealth;
  /** Its dependency check's name (`captchaai_api`, `NAME_api`). */
  check: string;
  extra?: () => readonly string[];
  /** Its load and money now, and whether a reload removed it (the solver's view). */
  load?: () => ProviderLoad | undefined;
}

export interface HealthViewOptions {
  clock: Clock;
  /** The first (or only) provider's health. */
  health: WorkerHealth;
  /** Several providers (docs/providers.md): readiness over all of them. @default the one of `health` and captchaai_api */
  providers?: readonly ProviderHealth[];
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
    if (this.#several) return this.#severalReadiness(this.#o.checks.results());
    return this.#readiness(this.#o.health.snapshot(), this.#o.checks.result(this.#firstCheck));
  }

  /** One provider's own issues now (its recovery trials read them); [] for a name it does not know, or one a reload removed. */
  providerIssues(name: string): ReadinessIssue[] {
    const p = this.#o.providers?.find((x) => x.name === name);
    if (!p) return name === this.#firstName ? this.evaluate().issues : [];
    const reading = this.#reading(p, this.#o.checks.results());
    return reading.removed ? [] : providerIssues(reading, this.#o.thresholds);
  }

  /**
   * Whether a provider can take new work and is not on trial: not removed, none of its own issues, no
   * reason of its own (its budget spent), and no fault being tried by one task at a time (its circuit
   * half-open, its failure streak on probation, a submit that may have arrived unanswered), so a
   * lasting fault reads as down though each trial lets a task through.
   */
  providerUp(name: string): boolean {
    const p = this.#o.providers?.find((x) => x.name === name);
    if (!p) return name === this.#firstName && this.evaluate().state === "ready";
    const reading = this.#reading(p, this.#o.checks.results());
    if (reading.removed || reading.extra.length > 0 || reading.trial) return false;
    return providerIssues(reading, this.#o.thresholds).length === 0;
  }

  /**
   * Every provider's state (up, down for the reason `provider_down` gives, or removed) with its load,
   * in order of preference; without providers, the lone upstream judged by the same rules.
   */
  providerStates(checks: readonly CheckResult[] = this.#o.checks.results()): ProviderStatus[] {
    const providers = this.#o.providers ?? [{ name: this.#firstName, health: this.#o.health, check: UPSTREAM_CHECK }];
    const states = providers.map((p) => {
      const reading = this.#reading(p, checks);
      return { status: { name: p.name, check: p.check, ...providerCondition(reading, this.#o.thresholds), load: reading.load }, trial: reading.trial };
    });
    // While another provider serves, one on trial is down for it (its one task at a time is no
    // capacity: the HAProxy weight, the status page); when every one that can is on trial, the worker is.
    if (!this.#several || !states.some((s) => s.status.state === "up" && !s.trial)) return states.map((s) => s.status);
    return states.map((s) => (s.status.state === "up" && s.trial ? { ...s.status, state: "down", reason: TRIAL_REASON } : s.status));
  }

  get #several(): boolean {
    return (this.#o.providers?.length ?? 0) > 1;
  }

  get #firstCheck(): string {
    return this.#o.providers?.[0]?.check ?? UPSTREAM_CHECK;
  }

  get #firstName(): string {
    return this.#o.providers?.[0]?.name ?? "captchaai";
  }

  /**
   * A provider read once: its health, balance and load, and whether it is on trial (its circuit
   * half-open, its streak on probation, or a submit of it that may have arrived unanswered), since when.
   */
  #reading(p: ProviderHealth, checks: readonly CheckResult[]): ProviderReading & { load: ProviderLoad | undefined; trial: boolean; trialSince: number | undefined } {
    const value = checks.find((c) => c.name === p.check)?.value?.observedValue;
    const load = p.load?.();
    const snapshot = p.health.snapshot();
    return {
      name: p.name, snapshot, balanceUsd: typeof value === "number" ? value : undefined, extra: p.extra?.() ?? [], removed: load?.removed === true,
      load, trial: onTrial(snapshot) || load?.trial === true, trialSince: probationSince(snapshot) ?? load?.trialSince,
    };
  }

  #severalReadiness(checks: readonly CheckResult[]): Readiness {
    const readings = this.#o.providers!.map((p) => this.#reading(p, checks));
    const v = providersReadiness(this.#phase, readings, this.#o.thresholds, this.#o.extraIssues?.());
    // A provider whose submits may arrive unanswered takes one task at a time (docs/providers.md): on trial as a half-open circuit is.
    const usable = v.usable.map((u) => readings.find((r) => r.name === u.name)!);
    const state: ReadinessState =
      this.#phase === "starting" ? "starting" : this.#phase === "draining" ? "draining" : v.issues.length > 0 ? "not_ready"
      : usable.every((u) => u.trial) ? "probation" : "ready";
    // The balance is the first provider's in use that has a reading (the gateway's getbalance says the same).
    const read = readings.findIndex((r) => !r.removed && r.balanceUsd !== undefined);
    const first = read < 0 ? undefined : checks.find((c) => c.name === this.#o.providers![read]!.check);
    const balanceUsd = read < 0 ? undefined : readings[read]!.balanceUsd;
    const since = usable.map((u) => u.trialSince).filter((t): t is number => t !== undefined);
    // While another serves, a provider on trial is a warning, as one down is (docs/providers.md, Routing).
    if (state === "ready") for (const u of usable) if (u.trial) v.warnings.push({ kind: "provider_down", provider: u.name, reason: TRIAL_REASON });
    return {
      phase: this.#phase,
      state,
      ready: state === "ready" || state === "probation",
      issues: v.issues,
      warnings: v.warnings,
      probationSince: state === "probation" && since.length > 0 ? Math.max(...since) : undefined,
      snapshot: v.total,
      balanceUsd,
      balanceAgeMs: balanceUsd === undefined || first?.valueAt === undefined ? undefined : this.#o.clock.now() - first.valueAt,
    };
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
      readiness: this.#several ? this.#severalReadiness(checks) : this.#readiness(snapshot, checks.find((c) => c.name === this.#firstCheck)),
      live: liveness(snapshot, at, this.#o.stallMs),
      checks,
      thresholds: this.#o.thresholds,
      providers: this.providerStates(checks),
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

/** Whether a fault of the provider is being tried by real tasks: its failure streak on probation or its circuit half-open. */
function onTrial(s: HealthSnapshot): boolean {
  return s.streak === "probation" || s.circuit === "half_open";
}
