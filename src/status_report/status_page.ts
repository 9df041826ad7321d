/**
 * The status page: the status model as HTML, with the last hour drawn as inline SVG, the last
 * readiness changes and the worker's facts. No script and no external asset; it refreshes itself.
 * Everything a chart shows is also written as text, so nothing needs hovering, and it fits a phone.
 */
import { checkStatusForms } from "../health/check_status.ts";
import { formatIssue, parseIssue, type FindingKind, type ReadinessIssue } from "../health/readiness_issue.ts";
import { attr, escapeHtml as esc, hhmmss } from "./_html.ts";
import { describeStretch, linesSvg, outsideFor, stateLabel, tasksSvg, timelineSvg } from "./history_svg.ts";
import { readinessStretches } from "./readiness_stretches.ts";
import { timelineRuns } from "./timeline_runs.ts";
import type { HistoryView } from "./status_history.ts";
import type { LimitHour } from "./provider_history.ts";
import { duration, MARK_SYMBOL, type Mark, type StatusModel } from "./status_model.ts";

/** What the worker is, for the facts section: never the key, only the upstream's host. */
export interface StatusFacts {
  upstreamHost: string;
  /** With a providers file, its providers in order (then `threads` is their plans' threads). */
  providers?: readonly string[] | undefined;
  threads: number;
  /** The upstream is the built-in simulator (--demo). */
  simulator: boolean;
  nodeId: number;
  /** Nodes in --peers (0: no cluster). */
  peers: number;
}

/** A readiness state change, as /health/history keeps it. */
export interface PageChange {
  at: number;
  from: string;
  to: string;
  issues: readonly ReadinessIssue[];
}

export interface PageExtras {
  history?: HistoryView | undefined;
  /** Newest first; the page shows the first CHANGES_SHOWN. */
  changes?: readonly PageChange[] | undefined;
  /** State changes since the start (captcha_worker_readiness_changes_total); `changes` keeps only the last ones. */
  changesTotal?: number | undefined;
  facts?: StatusFacts | undefined;
  /** Task types the upstream refused lately as unsupported (most recent first); a line when any. */
  unsupported?: readonly RefusedType[] | undefined;
}

/** A task type the upstream refused lately (health/unsupported_types.ts). */
export interface RefusedType {
  type: string;
  code: string;
  tasks: number;
  lastAt: number;
  /** Until when new tasks of it are refused at submit; undefined: taken again since. */
  refusedUntil: number | undefined;
}

/** How many readiness changes the page lists. */
export const CHANGES_SHOWN = 20;

/** What each readiness issue (and warning) means, by its kind, in a few words. */
const MEANING: Record<FindingKind, string> = {
  starting: "the first balance check has not answered yet",
  draining: "stopping: finishing the tasks in hand",
  upstream_auth: "the upstream refuses the CaptchaAI key",
  upstream_unreachable: "the upstream does not answer",
  circuit_open: "task calls to the upstream keep failing, so they are paused",
  consecutive_failures: "too many failures in a row (--max-consecutive-failures)",
  no_solve_for: "work is waiting and nothing was solved for too long (--max-seconds-without-solve)",
  low_balance: "the balance is below --min-balance",
  error_rate: "too many failures over --error-window (--max-error-rate)",
  backlog: "the oldest queued task has waited more than twice --max-queue-wait",
  queue_full: "the queue is full (--queue-max)",
  state_dir: "the journal in --state-dir cannot be written",
  queue_wait: "the oldest queued task has waited more than --max-queue-wait",
  saturation: "the thread plan was full while work waited much of the time (--max-saturation)",
  provider_down: "this provider cannot take work now (its reason follows its name)",
};

/** An issue or warning as the documents write it, with its meaning when this version knows its kind. */
const issueItem = (issue: string) => {
  const kind = parseIssue(issue)?.kind;
  const meaning = kind && MEANING[kind];
  const text = meaning && esc(meaning).replace(/--[a-z-]+/g, (flag) => `<span class="flag">${flag}</span>`);
  return `<li><code>${esc(issue)}</code>${text ? ` <span class="meaning">${text}</span>` : ""}</li>`;
};

const CSS = `
*{box-sizing:border-box}
body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;padding:1rem;max-width:1100px;color:#222}
h1{font-size:1.4rem;display:flex;flex-wrap:wrap;gap:.5rem;align-items:center;margin:.5rem 0}
h2{font-size:1.1rem;margin:1.2rem 0 .4rem}
.state{padding:.1rem .5rem;border-radius:.3rem;color:#fff}
.state.ok{background:#1a7f37} .state.warn{background:#9a6700} .state.fail{background:#cf222e}
code{overflow-wrap:anywhere;background:#f3f4f6;padding:0 .25rem;border-radius:.2rem}
ul,ol{padding-left:1.3rem;margin:.3rem 0} li{margin:.15rem 0;overflow-wrap:anywhere}
.meaning{color:#555} .meaning::before{content:"— "} .flag{white-space:nowrap}
dl.facts{display:flex;flex-wrap:wrap;gap:.2rem 1.4rem;margin:.3rem 0 .6rem}
dl.facts dt,dl.facts dd{display:inline;margin:0} dl.facts dt{color:#555} dl.facts dd{font-weight:600;overflow-wrap:anywhere}
.scroll{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;margin:.5rem 0} td,th{padding:.25rem .75rem;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}
td{overflow-wrap:anywhere} td.mark{white-space:nowrap}
.mark{font-weight:bold} tr.ok .mark{color:#1a7f37} tr.warn .mark{color:#9a6700} tr.fail .mark{color:#cf222e}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,420px),1fr));gap:1rem 2rem}
figure{margin:0;min-width:0} figcaption{font-size:.9rem;margin-bottom:.2rem}
svg.chart{display:block;width:100%;height:auto;font:13px system-ui,sans-serif;background:#fafbfc}
svg .axis text,svg .scale{fill:#57606a;font-size:12px}
svg .base{stroke:#d0d7de} svg .threshold line{stroke:#cf222e;stroke-dasharray:4 3}
svg polyline{stroke-width:1.6}
.stretch text{fill:#fff;font-size:12px}
.ready rect,.sw.ready{fill:#1a7f37;background:#1a7f37} .probation rect,.sw.probation{fill:#bf8700;background:#bf8700}
.not_ready rect,.sw.not_ready{fill:#cf222e;background:#cf222e} .starting rect,.sw.starting{fill:#6e7781;background:#6e7781}
.draining rect,.sw.draining{fill:#8250df;background:#8250df} .gap rect,.sw.gap{fill:#eaeef2;background:#eaeef2}
rect.solved,.sw.solved{fill:#1a7f37;background:#1a7f37} rect.failed,.sw.failed{fill:#cf222e;background:#cf222e}
polyline.balance{stroke:#0969da;fill:none} circle.balance{fill:#0969da} .sw.balance{background:#0969da}
polyline.balance_min{stroke:#54aeff;fill:none;stroke-dasharray:2 2} circle.balance_min{fill:#54aeff} .sw.balance_min{background:#54aeff}
polyline.queue{stroke:#bc4c00;fill:none} circle.queue{fill:#bc4c00} .sw.queue{background:#bc4c00}
polyline.in_flight{stroke:#8250df;fill:none} circle.in_flight{fill:#8250df} .sw.in_flight{background:#8250df}
.sw{display:inline-block;width:.8em;height:.8em;border-radius:.15em;margin-right:.25em;vertical-align:-.05em}
.legend{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:.1rem 1rem;font-size:.9rem}
footer{color:#666;font-size:.85rem;margin-top:1.5rem} .note{color:#555;font-size:.9rem;margin:.2rem 0}
@media (max-width:600px){
body{font-size:14px;padding:.75rem}
table.stack,table.stack tbody{display:block}
table.stack tr:first-child{display:none}
table.stack tr{display:grid;grid-template-columns:3.2rem minmax(0,1fr);border-bottom:1px solid #ddd;padding:.25rem 0}
table.stack td{border:0;padding:.05rem .3rem}
table.stack td:nth-child(n+3){grid-column:2}
table.stack td:nth-child(2){font-weight:600}
table.stack td:empty{display:none}
#rows td:nth-child(4)::before{content:"threshold: ";color:#555}
#providers td:nth-child(n+4)::before{color:#555} #providers td:nth-child(5)::before{content:"limit: "}
#providers td:nth-child(6)::before{content:"solved/min: "} #providers td:nth-child(7)::before{content:"failed/min: "}
#providers td:nth-child(8)::before{content:"p50 solve: "} #providers td:nth-child(9)::before{content:"down: "}
}
`;

const swatch = (cls: string, text: string) => `<li><span class="sw ${cls}"></span>${esc(text)}</li>`;

/** The fewest minutes the charts span: the first minutes of a start fill a sixth of a chart, not a sliver. */
export const MIN_SHOWN_MINUTES = 10;

/** The minutes the charts draw: since the start (at least MIN_SHOWN_MINUTES), up to the hour. */
export function shownMinutes(h: HistoryView): HistoryView["minutes"] {
  const sinceStart = Math.floor(h.now / 60_000) - Math.floor(h.startedAt / 60_000) + 1;
  const n = Math.min(h.minutes.length, Math.max(MIN_SHOWN_MINUTES, Number.isFinite(sinceStart) ? sinceStart : h.minutes.length));
  return h.minutes.slice(-n);
}

function historySection(full: HistoryView, minBalance: number | null | undefined, threads: number | undefined): string {
  const stretches = readinessStretches(full);
  const h: HistoryView = { ...full, minutes: shownMinutes(full) };
  const outside = stretches.filter((s) => s.state !== "ready" && s.state !== "gap").reverse();
  const recordedMs = Math.max(0, h.now - Math.max(h.startedAt, h.minutes[0]?.start ?? h.startedAt));
  const notReadyMs = stretches.reduce((sum, s) => sum + s.msNotReady, 0);
  const starts = h.minutes.map((m) => m.start);
  const values = (pick: (s: NonNullable<HistoryView["minutes"][number]["stats"]>) => number | undefined) => h.minutes.map((m) => (m.stats ? pick(m.stats) : undefined));
  const peak = (v: number) => (v < 0 ? undefined : v);
  const minute = h.minutes.at(-1)?.stats;
  const solvedHour = h.minutes.reduce((n, m) => n + (m.stats?.solved ?? 0), 0);
  const failedHour = h.minutes.reduce((n, m) => n + (m.stats?.failed ?? 0), 0);
  const usd = (v: number) => `$${v.toFixed(2)}`;
  const count = (v: number) => String(Math.round(v));
  const span = h.minutes.length >= 60 ? "hour" : `${h.minutes.length} minutes`;
  return `<section id="history"><h2>The last ${span}</h2>
<div class="charts">
<figure><figcaption><b>Readiness</b> (each state as long as it held): outside ready ${esc(outsideFor(notReadyMs))} of the ${esc(duration(recordedMs / 1000))} recorded</figcaption>
${timelineSvg(timelineRuns(h), h.minutes[0]?.start ?? h.now, h.minutes.length)}
<ul class="legend">${["ready", "probation", "not_ready", "starting", "draining", "gap"].map((s) => swatch(s, stateLabel(s as never))).join("")}</ul></figure>
<figure><figcaption><b>Tasks per minute</b>: ${solvedHour} solved, ${failedHour} failed in the hour${minute ? `; this minute ${minute.solved} solved, ${minute.failed} failed` : ""}</figcaption>
${tasksSvg(h)}
<ul class="legend">${swatch("solved", "solved")}${swatch("failed", "failed (as /metrics counts)")}</ul></figure>
<figure><figcaption><b>Balance</b>${minute?.balanceUsd === undefined ? "" : `: ${esc(usd(minute.balanceUsd))} at the last read`}${typeof minBalance === "number" ? `, minimum ${esc(usd(minBalance))} (dashed)` : ""}</figcaption>
${linesSvg("balance-chart", "balance over the last hour", [
    { cls: "balance", name: "balance", values: values((s) => s.balanceUsd) },
    { cls: "balance_min", name: "lowest balance", values: values((s) => (s.balanceMinUsd !== undefined && s.balanceMinUsd < (s.balanceUsd ?? Infinity) ? s.balanceMinUsd : undefined)) },
  ], usd, starts, typeof minBalance === "number" ? { value: minBalance, name: "--min-balance" } : undefined)}
<ul class="legend">${swatch("balance", "last balance read in each minute")}${swatch("balance_min", "lowest, when lower")}</ul></figure>
<figure><figcaption><b>Queue and in flight</b> (highest each minute)${minute && minute.queueMax >= 0 ? `: this minute up to ${minute.queueMax} queued, ${minute.inFlightMax} in flight` : ""}${threads === undefined ? "" : ` of ${threads} threads`}</figcaption>
${linesSvg("load-chart", "queue depth and in-flight over the last hour", [
    { cls: "queue", name: "queued", values: values((s) => peak(s.queueMax)) },
    { cls: "in_flight", name: "in flight", values: values((s) => peak(s.inFlightMax)) },
  ], count, starts, undefined, threads)}
<ul class="legend">${swatch("queue", "queued")}${swatch("in_flight", "in flight")}</ul></figure>
</div>
<h3>Outside ready in the last hour (newest first)</h3>
${outside.length ? `<ol id="stretches">${outside.map((s) => `<li class="${s.state}">${esc(describeStretch(s))}</li>`).join("")}</ol>` : `<p id="stretches">Ready all the time recorded.</p>`}
</section>`;
}

function changesSection(changes: readonly PageChange[], total = changes.length): string {
  const shown = changes.slice(0, CHANGES_SHOWN);
  const all = Math.max(total, changes.length);
  const items = shown.map((c) => {
    const iso = Number.isFinite(c.at) ? new Date(c.at).toISOString() : "";
    return `<li><time datetime="${esc(iso)}">${hhmmss(c.at)} UTC</time> ${esc(c.from)} → <b>${esc(c.to)}</b>${c.issues.length ? `: ${c.issues.map((i) => `<code>${esc(formatIssue(i))}</code>`).join(", ")}` : ""}</li>`;
  });
  return `<section id="changes-section"><h2>Readiness changes (last ${shown.length} of ${all} since the start, newest first)</h2>
${items.length ? `<ol id="changes">${items.join("")}</ol>` : `<p id="changes">No change since the start.</p>`}
<p>${all > changes.length ? `The last ${changes.length}` : "All of them"}: <a href="/health/history">/health/history</a>.</p></section>`;
}

/** The line naming the task types the upstream refused lately, which is nobody's fault and never readiness. */
function unsupportedLine(types: readonly RefusedType[] | undefined): string {
  if (!types?.length) return "";
  const items = types.map((t) => {
    const when = t.refusedUntil === undefined ? "taken again since" : `new ones refused at submit until ${hhmmss(t.refusedUntil)} UTC`;
    return `<code>${esc(t.type)}</code> (<code>${esc(t.code)}</code>, ${t.tasks} task${t.tasks === 1 ? "" : "s"}, last at ${hhmmss(t.lastAt)} UTC; ${when})`;
  });
  return `<p id="unsupported">Task types the upstream refused lately as unsupported: ${items.join("; ")}.</p>`;
}

/** Per minute as the rows write it: two figures below 10 ("0.05", "1.5"), whole above. */
const perMinute = (n: number) => (n >= 10 ? n.toFixed(0) : n.toFixed(n >= 1 ? 1 : 2).replace(/\.?0+$/, ""));

/** A plan's limit over the hour (docs/providers.md, Thread plan): its mean of the plan and its range ("7.5 of 12 (5-12)"); "-" for none. */
function limitText(l: LimitHour | undefined): string {
  if (!l) return "-";
  const mean = Math.abs(l.mean - Math.round(l.mean)) < 0.05 ? l.mean.toFixed(0) : l.mean.toFixed(1);
  return `${mean} of ${l.plan}${l.min === l.max ? "" : ` (${l.min}-${l.max})`}`;
}

/** The providers table (docs/health.md, Status page): state, load, a plan's limit, the last hour's rates, median solve and time down. */
function providersSection(m: StatusModel, row: (mark: Mark, cells: string[]) => string): string {
  if (m.providers.length === 0) return "";
  const rows = m.providers.map((p) => {
    const h = p.hour;
    const state = p.state === "down" && p.reason !== undefined ? `down: ${p.reason}` : p.state;
    const rate = (perMin: number, n: number) => (h ? `${perMinute(perMin)} (${n} in ${duration(h.minutes * 60)})` : "-");
    const p50 = h?.p50S === undefined ? "-" : h.p50S < 10 ? `${h.p50S.toFixed(1)}s` : duration(h.p50S);
    const down = !h || h.msKnown === 0 ? "-" : h.msDown === 0 ? "never" : `${duration(h.msDown / 1000)} of ${duration(h.msKnown / 1000)}`;
    return row(p.mark, [p.name, state, p.load, limitText(h?.limit), rate(h?.solvedPerMin ?? 0, h?.solved ?? 0), rate(h?.failedPerMin ?? 0, h?.failed ?? 0), p50, down]);
  });
  return `<section id="providers-section"><h2>Providers</h2>
<div class="scroll"><table id="providers" class="stack"><tr><th></th><th>provider</th><th>state</th><th>load</th><th>limit (hour)</th><th>solved /min</th><th>failed /min</th><th>p50 solve</th><th>down</th></tr>
${rows.join("\n")}
</table></div>
<p class="note">In order of preference. Per minute over the last hour (since the start when shorter); p50: the median time from the provider's submit to the solution; limit: a thread plan's limit on this replica over the hour, on average of the plan (its lowest and highest); down: time it could take no work in the hour, of the time sampled.</p></section>`;
}

/** The facts line under the title: where it solves, how wide, which node, which version, how long up. */
function factsLine(m: StatusModel, f: StatusFacts | undefined): string {
  const rows: [string, string][] = [];
  if (f) {
    if (f.providers) rows.push(["providers", f.providers.join(", ")]);
    else rows.push(["upstream", f.upstreamHost], ["simulator", f.simulator ? "yes (built-in, --demo)" : "no"]);
    rows.push([f.providers ? "plan threads" : "threads", String(f.threads)]);
    rows.push(["node", f.peers > 0 ? `${f.nodeId} of ${f.peers} peers` : String(f.nodeId)]);
  }
  rows.push(["version", m.version], ["up", duration(m.uptimeS)], ["health", m.overall]);
  return `<dl class="facts" id="facts">${rows.map(([k, v]) => `<div><dt>${esc(k)}</dt> <dd>${esc(v)}</dd></div>`).join("")}</dl>`;
}

/** A page that needs no script, no external asset, and refreshes itself every `refreshS` seconds. */
export function renderHtml(m: StatusModel, refreshS = 5, extras: PageExtras = {}): string {
  const state = m.state === "probation" ? "PROBATION" : m.ready ? "READY" : "NOT READY";
  const stateMark: Mark = m.state === "probation" ? "warn" : m.ready ? "ok" : "fail";
  const row = (mark: Mark, cells: string[]) => `<tr class="${mark}"><td class="mark">${MARK_SYMBOL[mark]}</td>${cells.map((c) => `<td>${esc(c)}</td>`).join("")}</tr>`;
  const checks = m.checks.map((c) =>
    row(checkStatusForms(c.status).mark, [c.name, c.status + (c.stale ? " (stale)" : ""), c.responseMs === undefined ? "" : `${c.responseMs} ms`, c.checkedAt ?? "", c.error ?? ""]),
  );
  const why = m.issues.length
    ? `<section id="why"><h2>Why not ready</h2><ul>${m.issues.map(issueItem).join("")}</ul></section>`
    : `<p id="why">No readiness issues.</p>`;
  const warnings = m.warnings.length ? `<section id="warnings"><h2>Warnings</h2><ul>${m.warnings.map(issueItem).join("")}</ul></section>` : "";
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="${attr(refreshS)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>captcha-worker: ${state}</title>
<style>${CSS}</style></head>
<body>
<h1>captcha-worker ${esc(m.version)} <span class="state ${stateMark}" id="state">${state}</span></h1>
${factsLine(m, extras.facts)}
${why}
${warnings}
${unsupportedLine(extras.unsupported)}
<div class="scroll"><table id="rows" class="stack"><tr><th></th><th>what</th><th>value</th><th>threshold</th></tr>
${m.rows.map((r) => row(r.mark, [r.name, r.value, r.threshold])).join("\n")}
</table></div>
${providersSection(m, row)}
${extras.history ? historySection(extras.history, m.thresholds.min_balance, extras.facts?.threads) : ""}
${extras.changes ? changesSection(extras.changes, extras.changesTotal) : ""}
<h2>Dependencies</h2>
<div class="scroll"><table id="checks" class="stack"><tr><th></th><th>check</th><th>status</th><th>response</th><th>checked at</th><th>error</th></tr>
${checks.join("\n")}
</table></div>
<footer>Refreshes every ${attr(refreshS)} s. Times in UTC. Machine-readable: <a href="/health/ready">/health/ready</a>, <a href="/health">/health</a>, <a href="/health/dependencies">/health/dependencies</a>, <a href="/health/history">/health/history</a>, <a href="/metrics">/metrics</a>.</footer>
</body></html>
`;
}
