/**
 * The last hour as inline SVG charts (no script, no external asset): the readiness timeline, solves
 * and failures per minute, the balance, and queue depth and in-flight. Each chart is 480 units wide
 * with a viewBox, so CSS scales it to any width, across the minutes it is given (the page gives
 * fewer than 60 early on, so the first minutes are not a sliver); every mark has a <title> for a
 * tooltip, and the page lists the same facts as text beside it, so nothing needs hovering.
 */
import { formatIssue } from "../health/readiness_issue.ts";
import { duration } from "./status_model.ts";
import type { HistoryView } from "./status_history.ts";
import type { Stretch } from "./readiness_stretches.ts";
import type { Run } from "./timeline_runs.ts";
import { attr, escapeHtml, hhmm } from "./_html.ts";

const W = 480;
/** Units per minute: `minutes` across the width. */
const stepOf = (minutes: number): number => W / (Number.isFinite(minutes) && minutes >= 1 ? minutes : 60);

const STATE_LABEL: Record<Stretch["state"], string> = {
  ready: "ready",
  probation: "probation",
  not_ready: "not ready",
  starting: "starting",
  draining: "draining",
  gap: "no record (before the start)",
};

export const stateLabel = (s: Stretch["state"]): string => STATE_LABEL[s];

/** "06:42–06:45 UTC", or "06:42–now" for the stretch that goes on. */
export const span = (s: Pick<Stretch, "from" | "to" | "ongoing">): string => `${hhmm(s.from)}–${s.ongoing ? "now" : `${hhmm(s.to)} UTC`}`;

/** A stretch's time outside ready: "under 1s" rather than a rounded "0s". */
export const outsideFor = (ms: number) => (ms > 0 && ms < 1000 ? "under 1s" : duration(ms / 1000));

/** One line for a stretch: when, what, for how long, why. */
export function describeStretch(s: Stretch): string {
  const time = s.state === "ready" || s.state === "gap" ? "" : ` (${outsideFor(s.msNotReady)} outside ready)`;
  return `${span(s)}, ${STATE_LABEL[s.state]}${time}${s.issues.length ? `: ${s.issues.map(formatIssue).join(", ")}` : ""}`;
}

/** Minute ticks under a chart, at each quarter of its span: -60m, -45m, -30m, -15m, now (-10m, -7.5m, ... for 10). */
function axis(y: number, minutes: number): string {
  const span = W / stepOf(minutes);
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => {
    const x = f * W;
    const anchor = f === 0 ? "start" : f === 1 ? "end" : "middle";
    const ago = Math.round((1 - f) * span * 10) / 10;
    return `<text x="${attr(x)}" y="${attr(y)}" text-anchor="${anchor}">${f === 1 ? "now" : `-${ago}m`}</text>`;
  });
  return `<g class="axis">${ticks.join("")}</g>`;
}

const svgOpen = (id: string, height: number, label: string) =>
  `<svg id="${id}" class="chart" viewBox="0 0 ${W} ${height}" width="100%" role="img" aria-label="${escapeHtml(label)}" xmlns="http://www.w3.org/2000/svg">`;

/** One line for a run of the timeline: when, what, for how long, why. */
export function describeRun(r: Run): string {
  const issues = r.issues.length ? `: ${r.issues.map(formatIssue).join(", ")}` : "";
  return `${span(r)}, ${STATE_LABEL[r.state]} for ${outsideFor(r.to - r.from)}${issues}`;
}

/** The narrowest a state outside ready is drawn (about 7 s of the hour), so a short fault still shows; its tooltip has its time. */
const MIN_MARK = 1;

/**
 * The readiness timeline in proportion: one coloured band per run, as wide as the run lasted (a
 * state outside ready at least MIN_MARK), its reason in a tooltip and, where wide enough, as text.
 */
export function timelineSvg(runs: readonly Run[], windowStart: number, minutes = 60): string {
  const x = (t: number) => ((t - windowStart) / 60_000) * stepOf(minutes);
  const parts = runs.map((r) => {
    const left = x(r.from);
    const w = r.state === "ready" || r.state === "gap" ? x(r.to) - left : Math.max(MIN_MARK, x(r.to) - left);
    const room = Math.floor((w - 6) / 7.2);
    // The issues in full when they fit, else their kinds (low_balance), else cut.
    const full = r.issues.length ? r.issues.map(formatIssue).join(", ") : STATE_LABEL[r.state];
    const short = r.issues.map((i) => i.kind).join(", ") || full;
    const label = full.length <= room ? full : short.length <= room ? short : short.slice(0, Math.max(0, room - 1)) + "…";
    const text = r.state !== "ready" && r.state !== "gap" && room >= 6 ? `<text x="${attr(left + 3)}" y="27">${escapeHtml(label)}</text>` : "";
    return `<g class="stretch ${r.state}"><title>${escapeHtml(describeRun(r))}</title><rect x="${attr(left)}" y="8" width="${attr(w)}" height="30"/>${text}</g>`;
  });
  // States outside ready last, so a narrow one is drawn over its neighbours, never under them.
  const order = (i: number) => (runs[i]!.state === "ready" || runs[i]!.state === "gap" ? 0 : 1);
  const drawn = parts.map((p, i) => [order(i), i, p] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]).map(([, , p]) => p);
  return `${svgOpen("timeline", 62, "readiness over the last hour")}${drawn.join("")}${axis(56, minutes)}</svg>`;
}

/** Solves (green) and failures (red) per minute, side by side, as wide as a minute allows. */
export function tasksSvg(view: HistoryView): string {
  const max = Math.max(1, ...view.minutes.map((m) => Math.max(m.stats?.solved ?? 0, m.stats?.failed ?? 0)));
  const top = 14;
  const h = 86;
  const step = stepOf(view.minutes.length);
  const bars = view.minutes.map((m, i) => {
    const s = m.stats;
    if (!s || s.solved + s.failed === 0) return "";
    const bar = (n: number, dx: number, cls: string) => {
      const bh = (n / max) * h;
      return n > 0 ? `<rect class="${cls}" x="${attr(i * step + dx * step)}" y="${attr(top + h - bh)}" width="${attr(0.425 * step)}" height="${attr(bh)}"/>` : "";
    };
    return `<g><title>${escapeHtml(`${hhmm(m.start)} UTC: ${s.solved} solved, ${s.failed} failed`)}</title>${bar(s.solved, 0.0625, "solved")}${bar(s.failed, 0.5125, "failed")}</g>`;
  });
  return `${svgOpen("tasks-chart", 122, "solves and failures per minute")}<text class="scale" x="2" y="10">${max} per minute</text>` +
    `<line class="base" x1="0" y1="${top + h}" x2="${W}" y2="${top + h}"/>${bars.join("")}${axis(116, view.minutes.length)}</svg>`;
}

export interface Series {
  cls: string;
  name: string;
  values: (number | undefined)[];
}

/**
 * Steps over the minutes: each minute's value held across its minute, broken where a minute has no
 * sample, so one minute alone is already a line; a dot (with its value as tooltip) on each.
 * `line` is a dashed reference (a threshold); `floor` a value the scale reaches at least (the
 * threads, for in-flight), so the first minutes do not fill the chart with a count of one.
 */
export function linesSvg(
  id: string,
  label: string,
  series: readonly Series[],
  format: (v: number) => string,
  starts: readonly number[],
  line?: { value: number; name: string },
  floor?: number,
): string {
  const all = series.flatMap((s) => s.values.filter((v): v is number => v !== undefined && Number.isFinite(v)));
  if (line && Number.isFinite(line.value)) all.push(line.value);
  if (floor !== undefined && Number.isFinite(floor)) all.push(floor);
  let lo = Math.min(0, ...all);
  let hi = Math.max(...all, 1);
  if (!(hi > lo)) [lo, hi] = [lo - 1, hi + 1];
  const top = 14;
  const h = 86;
  const y = (v: number) => top + h - ((v - lo) / (hi - lo)) * h;
  const step = stepOf(starts.length);
  const x = (i: number) => i * step + step / 2;
  const out: string[] = [];
  if (line && Number.isFinite(line.value)) {
    out.push(`<g class="threshold"><title>${escapeHtml(`${line.name}: ${format(line.value)}`)}</title><line x1="0" y1="${attr(y(line.value))}" x2="${W}" y2="${attr(y(line.value))}"/></g>`);
  }
  for (const s of series) {
    let run: string[] = [];
    const flush = () => {
      if (run.length > 1) out.push(`<polyline class="${s.cls}" points="${run.join(" ")}"/>`);
      run = [];
    };
    s.values.forEach((v, i) => {
      if (v === undefined || !Number.isFinite(v)) return flush();
      run.push(`${attr(i * step)},${attr(y(v))}`, `${attr((i + 1) * step)},${attr(y(v))}`);
      out.push(`<circle class="${s.cls}" cx="${attr(x(i))}" cy="${attr(y(v))}" r="2"><title>${escapeHtml(`${hhmm(starts[i]!)} UTC: ${s.name} ${format(v)}`)}</title></circle>`);
    });
    flush();
  }
  // The base line is zero; below it (an overdrawn balance) the floor is labelled, so it never reads as zero.
  const base = attr(y(Math.max(lo, 0)));
  const below = lo < 0 ? `<text class="scale" x="2" y="${top + h - 3}">${escapeHtml(format(lo))}</text>` : "";
  return `${svgOpen(id, 122, label)}<text class="scale" x="2" y="10">${escapeHtml(format(hi))}</text>${below}` +
    `<line class="base" x1="0" y1="${base}" x2="${W}" y2="${base}"/>${out.join("")}${axis(116, starts.length)}</svg>`;
}
