/**
 * Publishes readiness transitions: holds the last readiness published, and `check()` compares a
 * fresh (pure) evaluation with it and, when readiness or the kinds of its issues changed, logs one
 * line and tells the subscribers (systemd's STATUS, ...). A value inside an issue moving
 * (`no_solve_for=601s` -> `602s`) is not a transition, or a stuck worker would log every second. The places that change state call `check()`: a
 * task ending, a check result, a phase change, the account or circuit state; a timer covers the
 * rules time alone moves (no_solve_for, the error window sliding). Probes never call it. With
 * several providers it also logs each one going down and coming back, which readiness may not show.
 */
import type { Clock, Timer } from "../base/clock.ts";
import type { Logger } from "../base/log.ts";
import type { HealthView, Readiness } from "./health_view.ts";
import { READINESS_STATES, type ReadinessState } from "./readiness.ts";
import { formatIssue, type ReadinessIssue } from "./readiness_issue.ts";

export type ReadinessListener = (r: Readiness) => void;

/** One readiness state change, as GET /health/history shows it (docs/health.md). */
export interface ReadinessChange {
  at: number;
  from: ReadinessState;
  to: ReadinessState;
  issues: ReadinessIssue[];
}

/** How many state changes /health/history keeps. */
export const HISTORY_SIZE = 100;

export interface ReadinessNotifierOptions {
  view: Pick<HealthView, "evaluate">;
  clock: Clock;
  log: Logger;
  /** How often start() re-checks, for the rules time moves without an event. @default 1000 */
  everyMs?: number;
  /**
   * Called when readiness passes again (`ready`, or `probation`: the trial must not be judged on the
   * failures that led to it), so the error-rate rule starts afresh.
   */
  onPassing?: () => void;
}

export class ReadinessNotifier {
  readonly #o: ReadinessNotifierOptions;
  readonly #listeners = new Set<ReadinessListener>();
  #last: Readiness;
  #lastKey: string;
  #timer: Timer | undefined;
  #state: "idle" | "running" | "stopped" = "idle";
  /** Inside together(): check() calls wait for its end, and whether one came. */
  #held = 0;
  #pending = false;
  /** Providers down as last logged: the reason each went down for. */
  #down = new Map<string, string>();
  /** The last HISTORY_SIZE state changes, oldest first. */
  readonly #history: ReadinessChange[] = [];
  readonly #changes = Object.fromEntries(READINESS_STATES.map((s) => [s, 0])) as Record<ReadinessState, number>;

  /**
   * Takes the readiness at construction (normally `starting`) as published without a log line: a
   * start is expected to begin not ready, so the first line a start logs is the first transition.
   */
  constructor(options: ReadinessNotifierOptions) {
    this.#o = options;
    this.#last = options.view.evaluate();
    this.#lastKey = keyOf(this.#last);
  }

  /** The readiness last published. */
  get last(): Readiness {
    return this.#last;
  }

  /** The last state changes, newest first. */
  history(): ReadinessChange[] {
    return this.#history.toReversed();
  }

  /** State changes so far, by the state entered (captcha_worker_readiness_changes_total). */
  get changes(): Readonly<Record<ReadinessState, number>> {
    return this.#changes;
  }

  /** Subscribes to readiness transitions (and changes of the issue kinds); returns the unsubscribe. */
  subscribe(listener: ReadinessListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Runs `fn`, one event that moves several inputs of readiness (a balance check answering again
   * marks the upstream reachable and closes the circuit its unreachability opened), and judges
   * readiness once at its end: one line for the event, not one per input moved, which would log
   * `not ready` with what was left for a moment, then `ready`, in the same millisecond.
   */
  together<T>(fn: () => T): T {
    this.#held++;
    try {
      return fn();
    } finally {
      if (--this.#held === 0 && this.#pending) {
        this.#pending = false;
        this.check();
      }
    }
  }

  /** Evaluates now and publishes when it differs from the last published; never throws; nothing once stopped. */
  check(): void {
    if (this.#state === "stopped") return;
    if (this.#held > 0) {
      this.#pending = true;
      return;
    }
    let r: Readiness;
    try {
      r = this.#o.view.evaluate();
    } catch (err) {
      this.#o.log.error("readiness evaluation failed", { err });
      return;
    }
    // Still starting: a first check result changes only the issues under `starting`, and the start's
    // end (a phase change, checked at once) publishes what it found: one line, not two.
    if (r.state === "starting" && this.#last.state === "starting") return;
    this.#noteProviders(r);
    const key = keyOf(r);
    if (key === this.#lastKey) return;
    const from = this.#last.state;
    this.#last = r;
    this.#lastKey = key;
    if (from !== r.state) this.#record(from, r);
    if (r.state === "probation") this.#o.log.info("probation: a few tasks will tell whether the fault cleared", { issues: [] });
    else if (r.ready) this.#o.log.info("ready", { issues: [] });
    // A stop someone asked for is no trouble: the drain is info, whatever else holds.
    else if (r.state === "draining") this.#o.log.info("not ready", { issues: r.issues.map(formatIssue) });
    else this.#o.log.warn("not ready", { issues: r.issues.map(formatIssue) });
    for (const l of this.#listeners) {
      try {
        l(r);
      } catch (err) {
        this.#o.log.error("readiness listener failed", { err });
      }
    }
  }

  /**
   * With several providers, one going down while another serves is only a warning (readiness holds):
   * the log says so once, `provider down` with its reason, and `provider up` when it takes work
   * again. A reason's value moving (`low_balance=$0.50` -> `$0.49`) is no change.
   */
  #noteProviders(r: Readiness): void {
    const now = new Map<string, string>();
    for (const f of [...r.issues, ...r.warnings]) if (f.kind === "provider_down") now.set(f.provider, f.reason);
    for (const [provider, reason] of now) {
      const was = this.#down.get(provider);
      if (was !== undefined && reasonKind(was) === reasonKind(reason)) now.set(provider, was);
      else this.#o.log.warn("provider down", { provider, reason, ...(was === undefined ? {} : { was }) });
    }
    for (const [provider, was] of this.#down) if (!now.has(provider)) this.#o.log.info("provider up", { provider, was });
    this.#down = now;
  }

  #record(from: ReadinessState, r: Readiness): void {
    this.#history.push({ at: this.#o.clock.now(), from, to: r.state, issues: r.issues });
    if (this.#history.length > HISTORY_SIZE) this.#history.shift();
    this.#changes[r.state]++;
    if (r.state === "ready" || r.state === "probation") this.#o.onPassing?.();
  }

  /** Checks every `everyMs` until stop(). */
  start(): void {
    if (this.#state !== "idle") return;
    this.#state = "running";
    const tick = () => {
      this.#timer = undefined;
      if (this.#state !== "running") return;
      this.check();
      this.#timer = this.#o.clock.setTimeout(tick, this.#o.everyMs ?? 1000);
    };
    this.#timer = this.#o.clock.setTimeout(tick, this.#o.everyMs ?? 1000);
  }

  /** Cancels the timer for good: a start() after it (a startup ending after close) does nothing. */
  stop(): void {
    this.#state = "stopped";
    this.#timer?.cancel();
    this.#timer = undefined;
  }
}

function keyOf(r: Readiness): string {
  return `${r.state}:${r.issues.map((i) => i.kind).join(",")}`;
}

/** A provider's reason without its value: `low_balance=$0.50` -> `low_balance`. */
function reasonKind(reason: string): string {
  const eq = reason.indexOf("=");
  return eq < 0 ? reason : reason.slice(0, eq);
}
