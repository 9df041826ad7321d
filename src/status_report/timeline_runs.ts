/**
 * The readiness timeline in proportion: each state drawn for as long as it held, so a 40 s fault
 * is 40 s wide and the rest of its minute keeps its colour. The history keeps each minute's time per
 * state with the state it began and ended in, not every change; within a minute the first state
 * comes first, the last last and any others between them (worst first), which is exact for a
 * minute with one change and close for one with more.
 */
import type { ReadinessState } from "../health/readiness.ts";
import type { ReadinessIssue } from "../health/readiness_issue.ts";
import { MINUTE_MS } from "./history_rings.ts";
import type { HistoryView, MinuteStats } from "./status_history.ts";
import { noteIssue } from "./status_history.ts";

/** Worse states first: the order of the states between a minute's first and its last. */
const WORST_FIRST: readonly ReadinessState[] = ["not_ready", "draining", "starting", "probation", "ready"];

export interface Run {
  /** "gap": nothing recorded (before the start). */
  state: ReadinessState | "gap";
  /** Its start and end (ms on the clock); the last run ends now. */
  from: number;
  to: number;
  /** The issues that held while not_ready (latest value of each kind). */
  issues: ReadinessIssue[];
  /** It goes on now: the last run, in the state the worker is in. */
  ongoing: boolean;
}

/** A minute's states in the order drawn, each with its time. */
export function minuteOrder(stats: Readonly<MinuteStats>): [ReadinessState, number][] {
  const held = WORST_FIRST.filter((s) => stats.msIn[s] > 0);
  if (held.length === 0) return [];
  const first = stats.firstState !== undefined && held.includes(stats.firstState) ? stats.firstState : held[0]!;
  const last = stats.lastState !== undefined && held.includes(stats.lastState) ? stats.lastState : held.at(-1)!;
  const middle = held.filter((s) => s !== first && s !== last);
  if (first === last) {
    // Back where it began (a spell within the minute): the state around it on both sides.
    if (middle.length === 0) return [[first, stats.msIn[first]]];
    const half = stats.msIn[first] / 2;
    return [[first, half], ...middle.map((s): [ReadinessState, number] => [s, stats.msIn[s]]), [first, half]];
  }
  return [[first, stats.msIn[first]], ...middle.map((s): [ReadinessState, number] => [s, stats.msIn[s]]), [last, stats.msIn[last]]];
}

/** The view's hour as runs of one state, oldest first; neighbours of one state are one run. */
export function timelineRuns(view: HistoryView): Run[] {
  const out: Run[] = [];
  const push = (state: Run["state"], from: number, to: number, issues: readonly ReadinessIssue[]) => {
    if (!(to > from)) return;
    const last = out.at(-1);
    if (last && last.state === state && from - last.to < 1) {
      last.to = to;
      for (const issue of issues) noteIssue(last.issues, issue);
      return;
    }
    out.push({ state, from, to, issues: [...issues], ongoing: false });
  };
  for (const { start, stats } of view.minutes) {
    if (!stats) {
      push("gap", start, Math.min(start + MINUTE_MS, view.now), []);
      continue;
    }
    // The start's minute holds time from the start on; the current one up to now.
    let t = Math.max(start, view.startedAt);
    push("gap", start, t, []);
    for (const [state, ms] of minuteOrder(stats)) {
      push(state, t, t + ms, state === "not_ready" ? stats.issues : []);
      t += ms;
    }
  }
  const tail = out.at(-1);
  if (tail) tail.ongoing = view.state === undefined || view.state === tail.state;
  return out;
}
