/**
 * The status page's last hour, kept in process in one fixed ring of minutes: time spent in each
 * readiness state with the issues that held, tasks solved and failed (counted as /metrics counts
 * them: every end that is not a solve), and the balance, queue and in-flight sampled every few
 * seconds. Time comes from the injected clock only. Memory is the ring's 60 slots, each with at
 * most MAX_ISSUES issues of bounded text, whatever the worker goes through.
 */
import type { Clock, Timer } from "../base/clock.ts";
import type { Readiness } from "../health/health_view.ts";
import { READINESS_STATES, type ReadinessState } from "../health/readiness.ts";
import { formatIssue, unhandledKind, type ReadinessIssue } from "../health/readiness_issue.ts";
import { MINUTE_MS, MinuteRing, RING_MINUTES, minuteOf } from "./history_rings.ts";
import { ProviderHistory, type EndedAtProvider, type ProviderHour, type ProviderSample } from "./provider_history.ts";

export type { ProviderHour };

/** Issues a minute keeps (the latest value of each kind); more kinds in one minute are dropped. */
export const MAX_ISSUES = 6;
/** The longest issue text a minute keeps; an issue whose text is longer has its free text cut. */
export const MAX_ISSUE_CHARS = 120;

export interface MinuteStats {
  solved: number;
  /** Every task that ended without a solution (failed, timeout, shutdown), as captcha_worker_tasks_total counts. */
  failed: number;
  /** Milliseconds spent in each readiness state during the minute. */
  msIn: Record<ReadinessState, number>;
  /** The state its first and its last recorded instant were in (undefined: no time recorded yet); the timeline orders the minute by them. */
  firstState?: ReadinessState | undefined;
  lastState?: ReadinessState | undefined;
  /** The issues that held while not_ready, latest value per kind. */
  issues: ReadinessIssue[];
  /** The last balance sampled in the minute, and the lowest (undefined: none known). */
  balanceUsd: number | undefined;
  balanceMinUsd: number | undefined;
  /** The highest queue depth and in-flight count sampled in the minute (-1: not sampled). */
  queueMax: number;
  inFlightMax: number;
}

/** The task totals since start, by the outcome label /metrics uses. */
export interface TaskTotals {
  solved: number;
  failed: number;
  byOutcome: { failed: number; timeout: number; shutdown: number };
}

/** What the status page draws: the last hour's minutes oldest first (undefined: a gap) and the totals. */
export interface HistoryView {
  /** The clock's time the view was taken. */
  now: number;
  startedAt: number;
  /** The readiness state now (a stretch of another state is over, though its minute is drawn in it). */
  state?: ReadinessState;
  minutes: { start: number; stats: Readonly<MinuteStats> | undefined }[];
  totals: TaskTotals;
  /** Each provider's hour (docs/health.md, Status page), in order of preference; empty when none were named. */
  providers?: ProviderHour[];
}

/** The readiness the sampler follows: a state and its issues. */
export interface ReadinessSample {
  state: ReadinessState;
  issues: readonly ReadinessIssue[];
}

/** The gauges sampled each tick. */
export interface GaugeSample {
  queueDepth: number;
  inFlight: number;
  balanceUsd: number | undefined;
}

/** What the sampler reads of an evaluation (the notifier publishes the same). */
export type Evaluated = Pick<Readiness, "state" | "issues" | "snapshot" | "balanceUsd">;

export interface StatusHistoryOptions {
  clock: Clock;
  /** How often the gauges (and the readiness) are sampled. @default 5000 */
  everyMs?: number;
  /** The providers, in order of preference, each kept apart for its row. @default none */
  providers?: readonly string[];
  /** Their states (and a thread plan's limit), sampled with the gauges. */
  providerStates?: () => readonly ProviderSample[];
}

const emptyStats = (): MinuteStats => ({
  solved: 0,
  failed: 0,
  msIn: Object.fromEntries(READINESS_STATES.map((s) => [s, 0])) as Record<ReadinessState, number>,
  firstState: undefined,
  lastState: undefined,
  issues: [],
  balanceUsd: undefined,
  balanceMinUsd: undefined,
  queueMax: -1,
  inFlightMax: -1,
});

function resetStats(s: MinuteStats): void {
  s.solved = 0;
  s.failed = 0;
  for (const k of READINESS_STATES) s.msIn[k] = 0;
  s.firstState = undefined;
  s.lastState = undefined;
  s.issues.length = 0;
  s.balanceUsd = undefined;
  s.balanceMinUsd = undefined;
  s.queueMax = -1;
  s.inFlightMax = -1;
}

/** Adds `issue` to `issues` in place: replaces the value of its kind, or appends it while under MAX_ISSUES. */
export function noteIssue(issues: ReadinessIssue[], issue: ReadinessIssue): void {
  const i = issues.findIndex((x) => x.kind === issue.kind);
  if (i >= 0) issues[i] = issue;
  else if (issues.length < MAX_ISSUES) issues.push(issue);
}

/**
 * The issue with its free text (an upstream's code, a state dir's error) cut so that its text is at
 * most MAX_ISSUE_CHARS long, ending in "…"; the numbers of the other kinds are short already.
 */
export function clipIssue(issue: ReadinessIssue): ReadinessIssue {
  const over = formatIssue(issue).length - MAX_ISSUE_CHARS;
  if (over <= 0) return issue;
  const cut = (text: string) => text.slice(0, Math.max(0, text.length - over - 1)) + "…";
  switch (issue.kind) {
    case "upstream_auth":
      return { kind: issue.kind, code: cut(issue.code) };
    case "state_dir":
      return { kind: issue.kind, reason: cut(issue.reason) };
    case "provider_down":
      return { kind: issue.kind, provider: issue.provider, reason: cut(issue.reason) };
    case "starting":
    case "draining":
    case "upstream_unreachable":
    case "circuit_open":
    case "consecutive_failures":
    case "no_solve_for":
    case "low_balance":
    case "error_rate":
    case "backlog":
    case "queue_full":
      return issue;
    default:
      return unhandledKind(issue);
  }
}

/** A count a gauge may hold: a finite number, not below zero (anything else is not recorded). */
const gauge = (v: number): number | undefined => (Number.isFinite(v) && v >= 0 ? v : undefined);

export class StatusHistory {
  readonly #clock: Clock;
  readonly #everyMs: number;
  readonly #ring = new MinuteRing<MinuteStats>(emptyStats, resetStats);
  readonly startedAt: number;
  #state: ReadinessState = "starting";
  #issues: readonly ReadinessIssue[] = [];
  /** Time is accounted to the state up to here. */
  #accountedTo: number;
  readonly #totals: TaskTotals = { solved: 0, failed: 0, byOutcome: { failed: 0, timeout: 0, shutdown: 0 } };
  #timer: Timer | undefined;
  #running = false;
  #unsubscribe: (() => void) | undefined;
  readonly #providers: ProviderHistory;
  readonly #providerStates: StatusHistoryOptions["providerStates"];

  constructor(o: StatusHistoryOptions) {
    this.#clock = o.clock;
    this.#everyMs = o.everyMs ?? 5000;
    this.#providers = new ProviderHistory(o.providers ?? []);
    this.#providerStates = o.providerStates;
    this.startedAt = o.clock.now();
    this.#accountedTo = this.startedAt;
    this.#ring.at(minuteOf(this.startedAt));
  }

  /** How many minute slots are held: fixed, whatever was recorded. */
  get slots(): number {
    return this.#ring.size;
  }

  /** A task ended: a solve, or a failure under the outcome /metrics gives it (failed, timeout, shutdown). */
  taskEnded(task: EndedAtProvider & { error?: { code: string } | undefined }): void {
    this.#providers.taskEnded(task, this.#clock.now());
    const slot = this.#ring.at(minuteOf(this.#clock.now()));
    if (task.status === "solved") {
      this.#totals.solved++;
      if (slot) slot.solved++;
      return;
    }
    const code = task.error?.code;
    this.#totals.failed++;
    this.#totals.byOutcome[code === "timeout" || code === "shutdown" ? code : "failed"]++;
    if (slot) slot.failed++;
  }

  /** The readiness now: the time since the last call is charged to the state before it. */
  readiness(r: ReadinessSample): void {
    this.#account(this.#clock.now());
    this.#state = r.state;
    // Starting, probation and draining are their own reason; the issues explain not_ready.
    this.#issues = r.state === "not_ready" ? r.issues.map(clipIssue) : [];
    this.#noteIssues(this.#ring.at(minuteOf(this.#clock.now())));
  }

  /** One sample of the gauges, into the current minute (negative or non-finite values are not recorded). */
  sample(g: GaugeSample): void {
    const slot = this.#ring.at(minuteOf(this.#clock.now()));
    if (!slot) return;
    const q = gauge(g.queueDepth);
    const f = gauge(g.inFlight);
    if (q !== undefined) slot.queueMax = Math.max(slot.queueMax, q);
    if (f !== undefined) slot.inFlightMax = Math.max(slot.inFlightMax, f);
    if (g.balanceUsd !== undefined && Number.isFinite(g.balanceUsd)) {
      slot.balanceUsd = g.balanceUsd;
      slot.balanceMinUsd = Math.min(slot.balanceMinUsd ?? g.balanceUsd, g.balanceUsd);
    }
  }

  /**
   * Samples `evaluate()` (the health view's pure evaluation) now and every `everyMs` until stop();
   * `subscribe` (the readiness notifier's) adds each published change at the moment it happens.
   */
  start(evaluate: () => Evaluated, subscribe?: (listener: (r: Evaluated) => void) => () => void): void {
    if (this.#running) return;
    this.#running = true;
    this.#unsubscribe = subscribe?.((r) => this.#take(r));
    const tick = () => {
      if (!this.#running) return;
      try {
        this.#take(evaluate());
      } catch {
        // A sample is worth nothing next to the worker it watches: a failed read is a gap.
      }
      this.#timer = this.#clock.setTimeout(tick, this.#everyMs);
    };
    tick();
  }

  #take(r: Evaluated): void {
    this.readiness(r);
    this.sample({ queueDepth: r.snapshot.queueDepth, inFlight: r.snapshot.inFlight, balanceUsd: r.balanceUsd });
    if (this.#providerStates) this.#providers.sample(this.#providerStates(), this.#clock.now());
  }

  stop(): void {
    this.#running = false;
    this.#timer?.cancel();
    this.#timer = undefined;
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
  }

  /** The last hour up to now (the current minute included, accounted up to now). */
  view(): HistoryView {
    const now = this.#clock.now();
    this.#account(now);
    return {
      now,
      startedAt: this.startedAt,
      state: this.#state,
      minutes: this.#ring.window(minuteOf(now)).map(({ minute, slot }) => ({ start: minute * MINUTE_MS, stats: slot })),
      totals: { ...this.#totals, byOutcome: { ...this.#totals.byOutcome } },
      providers: this.#providers.view(now, this.startedAt),
    };
  }

  /** Charges the time from the last accounting to `now` to the current state, minute by minute. */
  #account(now: number): void {
    // Only the last hour can show: older time is skipped, so the loop runs at most RING_MINUTES + 1 times.
    let t = Math.max(this.#accountedTo, now - RING_MINUTES * MINUTE_MS);
    while (t < now) {
      const minute = minuteOf(t);
      const end = Math.min(now, (minute + 1) * MINUTE_MS);
      const slot = this.#ring.at(minute);
      if (slot) {
        slot.msIn[this.#state] += end - t;
        slot.firstState ??= this.#state;
        slot.lastState = this.#state;
        this.#noteIssues(slot);
      }
      t = end;
    }
    this.#ring.at(minuteOf(now)); // the current minute exists from its first instant
    this.#accountedTo = Math.max(this.#accountedTo, now);
  }

  /** Adds the current issues to a minute: the latest value of each kind, MAX_ISSUES kinds at most. */
  #noteIssues(slot: MinuteStats | undefined): void {
    if (!slot) return;
    for (const issue of this.#issues) noteIssue(slot.issues, issue);
  }
}
