/**
 * The status page's list of stretches outside ready: runs of minutes with the same worst state and
 * the same kinds of issue. A minute counts in the worst state it held at all (a 5 s fault marks its
 * minute, so none is missed), and each stretch says how long the worker actually spent outside
 * `ready` in it, so nothing is overstated. The timeline draws time in proportion (timeline_runs.ts).
 */
import type { ReadinessState } from "../health/readiness.ts";
import type { ReadinessIssue } from "../health/readiness_issue.ts";
import type { HistoryView, MinuteStats } from "./status_history.ts";
import { noteIssue } from "./status_history.ts";

/** Worse states first: a minute that held any of them is drawn in it. */
const WORST_FIRST: readonly ReadinessState[] = ["not_ready", "draining", "starting", "probation", "ready"];

export interface Stretch {
  /** The stretch's first minute's start and its last minute's end (ms). */
  from: number;
  to: number;
  /** Index of the first minute in the view, and how many minutes it spans. */
  first: number;
  minutes: number;
  /** The worst state of its minutes; "gap" where nothing was recorded (before the start). */
  state: ReadinessState | "gap";
  /** The issues that held (latest value of each kind). */
  issues: ReadinessIssue[];
  /** Milliseconds spent outside `ready` within the stretch. */
  msNotReady: number;
  /** The stretch goes on now: it holds the current minute and the worker is in its state now. */
  ongoing: boolean;
}

/** The worst state a minute held, or undefined when it holds no time at all. */
export function worstState(stats: Readonly<MinuteStats>): ReadinessState | undefined {
  return WORST_FIRST.find((s) => stats.msIn[s] > 0);
}

const kinds = (issues: readonly ReadinessIssue[]) => issues.map((i) => i.kind).sort().join(",");

/** The view's minutes as stretches, oldest first. */
export function readinessStretches(view: HistoryView): Stretch[] {
  const out: Stretch[] = [];
  view.minutes.forEach(({ start, stats }, i) => {
    const last = out.at(-1);
    const worst = stats && worstState(stats);
    if (stats && !worst && last) {
      // A minute that holds no time yet (it began this instant) goes on with the state before it.
      last.to = start + 60_000;
      last.minutes++;
      return;
    }
    const state = worst ?? "gap";
    const issues = stats && state !== "ready" && state !== "gap" ? stats.issues : [];
    const msNotReady = stats ? Object.entries(stats.msIn).reduce((sum, [s, ms]) => (s === "ready" ? sum : sum + ms), 0) : 0;
    if (last && last.state === state && kinds(last.issues) === kinds(issues)) {
      last.to = start + 60_000;
      last.minutes++;
      last.msNotReady += msNotReady;
      for (const issue of issues) noteIssue(last.issues, issue);
      return;
    }
    out.push({ from: start, to: start + 60_000, first: i, minutes: 1, state, issues: [...issues], msNotReady, ongoing: false });
  });
  // The current minute ends now, not at its end. A minute is drawn in the worst state it held, so
  // the last stretch may be one the worker has already left: it goes on only if the state still holds.
  const tail = out.at(-1);
  if (tail) {
    tail.to = Math.min(tail.to, view.now);
    tail.ongoing = view.state === undefined || view.state === tail.state;
  }
  return out;
}
