import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { ReadyDocument } from "../../../src/health/health_documents.ts";
import { formatIssue, type ReadinessIssue } from "../../../src/health/readiness_issue.ts";
import { MINUTE_MS } from "../../../src/status_report/history_rings.ts";
import { linesSvg, tasksSvg, timelineSvg } from "../../../src/status_report/history_svg.ts";
import { StatusHistory } from "../../../src/status_report/status_history.ts";
import { statusModel } from "../../../src/status_report/status_model.ts";
import { CHANGES_SHOWN, renderHtml, type StatusFacts } from "../../../src/status_report/status_page.ts";
import { FakeClock } from "../../_support/fake_clock.ts";
import { issues } from "../../_support/readiness_issues.ts";
import { READY_DOC } from "../../_support/ready_doc.ts";

const FACTS: StatusFacts = { upstreamHost: "127.0.0.1:4100", threads: 5, simulator: true, nodeId: 3, peers: 0 };
/** Every attribute value in the page. */
const attributes = (html: string) => [...html.matchAll(/\s[a-z-]+="([^"]*)"/g)].map((m) => m[1]!);

describe("status page", () => {
  test("renderHtml of an empty history: the charts, no NaN or Infinity anywhere, no change listed", () => {
    const h = new StatusHistory({ clock: new FakeClock() });
    const html = renderHtml(statusModel({ ready: READY_DOC, dependencies: {}, health: {} }, { tasks: h.view().totals }), 5, { history: h.view(), changes: [], facts: FACTS });
    for (const id of ["timeline", "tasks-chart", "balance-chart", "load-chart"]) assert.match(html, new RegExp(`<svg id="${id}" class="chart" viewBox="0 0 480 \\d+" width="100%"`));
    assert.ok(!/NaN|Infinity/.test(html));
    assert.match(html, /<p id="changes">No change since the start\.<\/p>/);
    assert.match(html, /<p id="stretches">Ready all the time recorded\.<\/p>|<ol id="stretches"/);
    assert.ok(!/<script|src=|href="http/.test(html), "no script, no external asset");
  });

  test("the SVG charts never write NaN or Infinity into an attribute, whatever values come in", () => {
    const starts = Array.from({ length: 60 }, (_, i) => i * MINUTE_MS);
    const weird = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1e308, -1e308, 0, undefined, 5];
    const values = starts.map((_, i) => weird[i % weird.length]);
    for (const svg of [
      linesSvg("x", "x", [{ cls: "a", name: "a", values }], String, starts, { value: Number.NaN, name: "t" }),
      linesSvg("y", "y", [{ cls: "a", name: "a", values: starts.map(() => 2) }], String, starts),
      linesSvg("z", "z", [], String, starts, { value: Number.POSITIVE_INFINITY, name: "t" }),
      timelineSvg([{ from: Number.NaN, to: Number.POSITIVE_INFINITY, state: "not_ready", issues: [{ kind: "circuit_open" }], ongoing: true }], Number.NaN),
      timelineSvg([{ from: 0, to: 1e308, state: "ready", issues: [], ongoing: false }], Number.NEGATIVE_INFINITY),
      tasksSvg({ now: 0, startedAt: 0, totals: { solved: 0, failed: 0, byOutcome: { failed: 0, timeout: 0, shutdown: 0 } }, minutes: [{ start: 0, stats: { solved: 1e308, failed: 1, msIn: { starting: 0, ready: 1, probation: 0, not_ready: 0, draining: 0 }, issues: [], balanceUsd: undefined, balanceMinUsd: undefined, queueMax: -1, inFlightMax: -1 } }] }),
    ]) {
      const bad = attributes(svg).filter((v) => /NaN|Infinity/.test(v));
      assert.deepEqual(bad, [], svg.slice(0, 300));
    }
  });

  test("renderHtml escapes issues, facts and changes, in text and in tooltips", async () => {
    const clock = new FakeClock();
    const h = new StatusHistory({ clock });
    const evilIssue: ReadinessIssue = { kind: "state_dir", reason: `<script>alert("x")</script>` };
    const evil = formatIssue(evilIssue);
    h.readiness({ state: "not_ready", issues: [evilIssue] });
    await clock.advance(20 * MINUTE_MS);
    const doc: ReadyDocument = { ...READY_DOC, issues: [evil], warnings: ["<b>w</b>"] };
    const html = renderHtml(statusModel({ ready: doc, dependencies: {}, health: { releaseId: "<i>1</i>" } }), 5, {
      history: h.view(),
      changes: [{ at: clock.now(), from: "ready", to: "not_ready", issues: [evilIssue] }],
      facts: { ...FACTS, upstreamHost: "<img src=x>" },
    });
    assert.ok(!html.includes("<script"));
    assert.ok(!html.includes("<img"));
    assert.ok(!html.includes("<b>w</b>") && !html.includes("<i>1</i>"));
    assert.ok(html.includes("&#60;script&#62;alert(&#34;x&#34;)"));
    assert.match(html, /<g class="stretch not_ready"><title>[^<]*state_dir=&#60;script&#62;/);
  });

  test("renderHtml's load caption gives the minute's highest queue and in-flight as such, not as the values now", () => {
    const clock = new FakeClock();
    const h = new StatusHistory({ clock });
    h.sample({ queueDepth: 7, inFlight: 5, balanceUsd: 1 });
    h.sample({ queueDepth: 0, inFlight: 1, balanceUsd: 1 });
    const html = renderHtml(statusModel({ ready: READY_DOC, dependencies: {}, health: {} }), 5, { history: h.view(), facts: FACTS });
    assert.match(html, /<b>Queue and in flight<\/b> \(highest each minute\): this minute up to 7 queued, 5 in flight of 5 threads/);
    assert.ok(!/now 7 queued/.test(html));
  });

  test("renderHtml shows each issue as its own item with what it means, apart from health and uptime", () => {
    const html = renderHtml(statusModel({ ready: { ...READY_DOC, issues: ["low_balance=$0.49"] }, dependencies: {}, health: { status: "fail" } }));
    assert.match(html, /<section id="why"><h2>Why not ready<\/h2><ul><li><code>low_balance=\$0\.49<\/code> <span class="meaning">[^<]*balance is below <span class="flag">--min-balance<\/span><\/span><\/li><\/ul><\/section>/);
    assert.match(html, /<dt>health<\/dt> <dd>fail<\/dd>/);
    assert.ok(!/Why: low_balance=\$0\.49 Health/.test(html));
  });

  test("renderHtml draws a not-ready stretch with its reason, lists it without hovering, and lists the last 20 changes", async () => {
    const clock = new FakeClock(Date.UTC(2026, 0, 1, 6, 0, 0));
    const h = new StatusHistory({ clock });
    h.readiness({ state: "ready", issues: [] });
    await clock.advance(30 * MINUTE_MS);
    h.readiness({ state: "not_ready", issues: issues("low_balance=$0.49") });
    await clock.advance(12 * MINUTE_MS);
    h.readiness({ state: "ready", issues: [] });
    h.taskEnded({ status: "solved" });
    h.taskEnded({ status: "failed", error: { code: "timeout" } });
    h.sample({ queueDepth: 4, inFlight: 2, balanceUsd: 5 });
    await clock.advance(MINUTE_MS);
    const changes = Array.from({ length: 30 }, (_, i) => ({ at: clock.now() - i * 1000, from: "ready", to: "not_ready", issues: [{ kind: "queue_full" as const, depth: i }] }));
    const html = renderHtml(statusModel({ ready: READY_DOC, dependencies: {}, health: {} }, { tasks: h.view().totals }), 5, { history: h.view(), changes, facts: FACTS });
    assert.match(html, /<g class="stretch not_ready"><title>06:30–06:42 UTC, not ready for 12m: low_balance=\$0\.49<\/title><rect [^>]*\/><text [^>]*>low_balance=\$0\.49<\/text><\/g>/, "43 minutes since the start are drawn: 12 of them hold the issue in full");
    assert.match(html, /<ol id="stretches"><li class="not_ready">06:30–06:42 UTC, not ready \(12m outside ready\): low_balance=\$0\.49<\/li><\/ol>/);
    assert.equal((html.match(/<rect class="solved"/g) ?? []).length, 1);
    assert.equal((html.match(/<rect class="failed"/g) ?? []).length, 1);
    assert.match(html, /<circle class="queue" [^>]*><title>06:42 UTC: queued 4<\/title>/);
    const listed = html.match(/<ol id="changes">([\s\S]*?)<\/ol>/)![1]!.match(/<li>/g)!.length;
    assert.equal(listed, CHANGES_SHOWN);
    assert.match(html, /<code>queue_full=0<\/code>[\s\S]*<code>queue_full=19<\/code>/);
    assert.ok(!html.includes("<code>queue_full=20</code>"));
    assert.match(html, /<dt>upstream<\/dt> <dd>127\.0\.0\.1:4100<\/dd>[\s\S]*<dt>simulator<\/dt> <dd>yes[^<]*<\/dd>[\s\S]*<dt>threads<\/dt> <dd>5<\/dd>[\s\S]*<dt>node<\/dt> <dd>3<\/dd>/);
  });
  test("a chart with a value below zero (an overdrawn balance) marks zero and labels its floor, so its baseline does not read as $0", () => {
    const starts = Array.from({ length: 60 }, (_, i) => i * MINUTE_MS);
    const usd = (v: number) => `$${v.toFixed(2)}`;
    const svg = linesSvg("b", "b", [{ cls: "balance", name: "balance", values: starts.map((_, i) => (i < 30 ? 10 : -5)) }], usd, starts);
    assert.match(svg, /<text class="scale"[^>]*>\$-5\.00<\/text>/, "the floor is labelled");
    const base = /<line class="base" x1="0" y1="([\d.]+)"/.exec(svg)!;
    const ten = /cy="([\d.]+)" r="2"><title>00:00 UTC: balance \$10\.00/.exec(svg)!;
    const minus = /cy="([\d.]+)" r="2"><title>00:30 UTC: balance \$-5\.00/.exec(svg)!;
    assert.ok(Number(ten[1]) < Number(base[1]) && Number(base[1]) < Number(minus[1]), `the base line is at zero, between $10 and $-5: ${ten[1]} ${base[1]} ${minus[1]}`);
    assert.doesNotMatch(linesSvg("c", "c", [{ cls: "q", name: "q", values: starts.map(() => 3) }], String, starts), /<text class="scale"[^>]*>0<\/text>/, "no floor label when it is zero");
  });
  test("the changes' heading counts every change since the start, not only the 100 that /health/history keeps", () => {
    const kept = Array.from({ length: 100 }, (_, i) => ({ at: i * 1000, from: i % 2 ? "ready" : "not_ready", to: i % 2 ? "not_ready" : "ready", issues: [] }));
    const model = statusModel({ ready: READY_DOC, dependencies: {}, health: {} });
    const flapped = renderHtml(model, 5, { changes: kept, changesTotal: 1673 });
    assert.match(flapped, /<h2>Readiness changes \(last 20 of 1673 since the start, newest first\)<\/h2>/);
    assert.match(flapped, /The last 100: <a href="\/health\/history">/, "not \"all of them\"");
    const few = renderHtml(model, 5, { changes: kept.slice(0, 3), changesTotal: 3 });
    assert.match(few, /<h2>Readiness changes \(last 3 of 3 since the start, newest first\)<\/h2>/);
    assert.match(few, /All of them: <a href="\/health\/history">/);
  });

  test("both lists are numbered the same way, newest first from 1: the stretches outside ready and the readiness changes", async () => {
    const clock = new FakeClock(Date.UTC(2026, 0, 1, 6, 0, 0));
    const h = new StatusHistory({ clock });
    h.readiness({ state: "ready", issues: [] });
    await clock.advance(5 * MINUTE_MS);
    h.readiness({ state: "not_ready", issues: issues("low_balance=$0.42") });
    await clock.advance(2 * MINUTE_MS);
    h.readiness({ state: "ready", issues: [] });
    await clock.advance(5 * MINUTE_MS);
    h.readiness({ state: "not_ready", issues: issues("circuit_open") });
    await clock.advance(2 * MINUTE_MS);
    h.readiness({ state: "ready", issues: [] });
    await clock.advance(2 * MINUTE_MS);
    const changes = [
      { at: clock.now() - 2 * MINUTE_MS, from: "not_ready", to: "ready", issues: [] },
      { at: clock.now() - 4 * MINUTE_MS, from: "ready", to: "not_ready", issues: issues("circuit_open") },
    ];
    const html = renderHtml(statusModel({ ready: READY_DOC, dependencies: {}, health: {} }), 5, { history: h.view(), changes, facts: FACTS });
    assert.doesNotMatch(html, /<ol[^>]* reversed/, "no list counts down");
    assert.match(html, /<h3>Outside ready in the last hour \(newest first\)<\/h3>\n<ol id="stretches"><li class="not_ready">06:12–06:14 UTC[^<]*circuit_open<\/li><li class="not_ready">06:05–06:07 UTC[^<]*low_balance=\$0\.42<\/li><\/ol>/);
    assert.match(html, /newest first\)<\/h2>\n<ol id="changes"><li><time[^>]*>06:14:00 UTC<\/time> not_ready → <b>ready<\/b><\/li><li><time[^>]*>06:12:00 UTC<\/time>/);
  });

  test("the charts are legible from the first minute: they span the minutes since the start (10 at least), one minute is a line, the load's scale reaches the threads", async () => {
    const clock = new FakeClock(Date.UTC(2026, 0, 1, 6, 0, 10));
    const h = new StatusHistory({ clock });
    h.readiness({ state: "ready", issues: [] });
    h.sample({ queueDepth: 0, inFlight: 1, balanceUsd: 5 });
    h.taskEnded({ status: "solved" });
    await clock.advance(40_000);
    const html = renderHtml(statusModel({ ready: READY_DOC, dependencies: {}, health: {} }), 5, { history: h.view(), facts: FACTS });
    assert.match(html, /<h2>The last 10 minutes<\/h2>/);
    for (const id of ["timeline", "tasks-chart", "balance-chart", "load-chart"]) {
      const svg = new RegExp(`<svg id="${id}"[\\s\\S]*?</svg>`).exec(html)![0];
      assert.match(svg, /<text x="0" y="\d+" text-anchor="start">-10m<\/text>/, id);
    }
    // 40 s of 10 minutes: 32 units of 480 green, not the 5 of an hour's scale.
    assert.match(html, /<g class="stretch ready"><title>[^<]*<\/title><rect x="440" y="8" width="32" height="30"\/>/);
    assert.match(html, /<rect class="solved" x="[\d.]+" y="[\d.]+" width="20\.4"/, "a bar as wide as a tenth of the chart allows");
    const load = /<svg id="load-chart"[\s\S]*?<\/svg>/.exec(html)![0];
    assert.match(load, /<text class="scale" x="2" y="10">5<\/text>/, "the scale reaches the 5 threads, not the 1 in flight");
    assert.match(load, /<polyline class="in_flight" points="432,[\d.]+ 480,[\d.]+"\/>/, "one minute is already a line across its minute");
    assert.match(load, /<polyline class="queue" points="432,100 480,100"\/>/, "an empty queue is a line on the base, over it");

    await clock.advance(2 * 60 * MINUTE_MS);
    const later = renderHtml(statusModel({ ready: READY_DOC, dependencies: {}, health: {} }), 5, { history: h.view(), facts: FACTS });
    assert.match(later, /<h2>The last hour<\/h2>/);
    assert.match(later, /text-anchor="start">-60m<\/text>/);
  });
});
