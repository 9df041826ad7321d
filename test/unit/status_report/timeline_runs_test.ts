import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { hhmmss } from "../../../src/status_report/_html.ts";
import { timelineSvg } from "../../../src/status_report/history_svg.ts";
import { StatusHistory } from "../../../src/status_report/status_history.ts";
import { timelineRuns } from "../../../src/status_report/timeline_runs.ts";
import { FakeClock } from "../../_support/fake_clock.ts";
import { issues } from "../../_support/readiness_issues.ts";

const T0 = Date.UTC(2026, 0, 1, 6, 0, 0);
const S = 1000;

/** The runs as "HH:MM:SS-HH:MM:SS state" for reading. */
const spans = (h: StatusHistory) => timelineRuns(h.view()).map((r) => `${hhmmss(r.from)}-${hhmmss(r.to)} ${r.state}`);

/** The width of each band of the timeline, by its state, in SVG units (480 for the hour). */
const widths = (svg: string) => [...svg.matchAll(/<g class="stretch (\w+)"><title>[^<]*<\/title><rect x="([\d.]+)" y="8" width="([\d.]+)"/g)].map((m) => [m[1]!, Number(m[2]), Number(m[3])] as const);

describe("timelineRuns", () => {
  test("a 40 s low-balance spell across a minute boundary is 40 s wide, in its place: both minutes stay mostly green", async () => {
    const clock = new FakeClock(T0);
    const h = new StatusHistory({ clock });
    h.readiness({ state: "ready", issues: [] });
    await clock.advance(2 * 60 * S + 40 * S);
    h.readiness({ state: "not_ready", issues: issues("low_balance=$0.42") });
    await clock.advance(40 * S);
    h.readiness({ state: "ready", issues: [] });
    await clock.advance(100 * S);
    const runs = timelineRuns(h.view());
    assert.deepEqual(spans(h), ["05:06:00-06:00:00 gap", "06:00:00-06:02:40 ready", "06:02:40-06:03:20 not_ready", "06:03:20-06:05:00 ready"]);
    assert.deepEqual(runs[2]!.issues, issues("low_balance=$0.42"));
    assert.equal(runs.at(-1)!.ongoing, true);
    const bands = widths(timelineSvg(runs, h.view().minutes[0]!.start));
    // 8 units a minute: 40 s is 5.3 units, 56m40s into the hour shown (05:06 to 06:05).
    const spell = bands.find(([state]) => state === "not_ready")!;
    assert.deepEqual([spell[1], spell[2]], [Math.round(((54 * 60 + 160) / 60) * 8 * 10) / 10, 5.3]);
    const green = bands.filter(([state]) => state === "ready").reduce((n, [, , w]) => n + w, 0);
    assert.ok(Math.abs(green - (5 * 60 - 40) / 60 * 8) < 0.2, `green for 4m20s: ${green}`);
  });

  test("a spell within one minute is drawn in the middle of the minute's ready time (the history keeps no more of its place)", async () => {
    const clock = new FakeClock(T0);
    const h = new StatusHistory({ clock });
    h.readiness({ state: "ready", issues: [] });
    await clock.advance(75 * S);
    h.readiness({ state: "not_ready", issues: issues("circuit_open") });
    await clock.advance(10 * S);
    h.readiness({ state: "ready", issues: [] });
    await clock.advance(65 * S);
    // 06:01:15-06:01:25 in fact: its minute began and ended ready, so its 50 s of ready go 25 s each side.
    assert.deepEqual(spans(h).slice(1), ["06:00:00-06:01:25 ready", "06:01:25-06:01:35 not_ready", "06:01:35-06:02:30 ready"]);
  });

  test("a minute with one change is exact: the state it began in, then the one it ended in", async () => {
    const clock = new FakeClock(T0);
    const h = new StatusHistory({ clock });
    h.readiness({ state: "ready", issues: [] });
    await clock.advance(60 * S);
    h.readiness({ state: "not_ready", issues: issues("circuit_open") });
    await clock.advance(10 * S);
    h.readiness({ state: "ready", issues: [] });
    await clock.advance(50 * S);
    assert.deepEqual(spans(h).slice(1), ["06:00:00-06:01:00 ready", "06:01:00-06:01:10 not_ready", "06:01:10-06:02:00 ready"]);
  });

  test("a start mid-minute: nothing before it but a gap, and the current minute ends now", async () => {
    const clock = new FakeClock(T0 + 20 * S);
    const h = new StatusHistory({ clock });
    await clock.advance(5 * S);
    h.readiness({ state: "ready", issues: [] });
    await clock.advance(15 * S);
    assert.deepEqual(spans(h), ["05:01:00-06:00:20 gap", "06:00:20-06:00:25 starting", "06:00:25-06:00:40 ready"]);
  });

  test("a one-second blip is drawn at least one unit wide (about 7 s), over its neighbours, with its real time in the tooltip", async () => {
    const clock = new FakeClock(T0);
    const h = new StatusHistory({ clock });
    h.readiness({ state: "ready", issues: [] });
    await clock.advance(30 * S);
    h.readiness({ state: "not_ready", issues: issues("consecutive_failures=10") });
    await clock.advance(1 * S);
    h.readiness({ state: "ready", issues: [] });
    await clock.advance(120 * S);
    const svg = timelineSvg(timelineRuns(h.view()), h.view().minutes[0]!.start);
    const blip = widths(svg).find(([state]) => state === "not_ready")!;
    assert.equal(blip[2], 1);
    assert.match(svg, /<title>06:00–06:00 UTC, not ready for 1s: consecutive_failures=10<\/title>/);
    assert.ok(svg.lastIndexOf('class="stretch not_ready"') > svg.lastIndexOf('class="stretch ready"'), "drawn last, on top");
  });
});
