import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Readiness } from "../../../src/health/health_view.ts";
import { MINUTE_MS, RING_MINUTES } from "../../../src/status_report/history_rings.ts";
import { formatIssue, type ReadinessIssue } from "../../../src/health/readiness_issue.ts";
import { clipIssue, MAX_ISSUE_CHARS, MAX_ISSUES, noteIssue, StatusHistory } from "../../../src/status_report/status_history.ts";
import { FakeClock } from "../../_support/fake_clock.ts";
import { issues } from "../../_support/readiness_issues.ts";

/** A clock at the start of a minute, so tests can count minutes. */
const at0 = () => new FakeClock(Date.UTC(2026, 0, 1, 6, 0, 0));

describe("StatusHistory", () => {
  test("noteIssue keeps the latest value of each kind and at most MAX_ISSUES kinds", () => {
    const kept: ReadinessIssue[] = [];
    for (const i of issues("backlog=10s", "low_balance=$0.40", "backlog=20s", "circuit_open")) noteIssue(kept, i);
    assert.deepEqual(kept.map(formatIssue), ["backlog=20s", "low_balance=$0.40", "circuit_open"]);
    for (const i of issues("starting", "draining", "upstream_unreachable", "queue_full=3", "state_dir=EIO", "error_rate=0.600")) noteIssue(kept, i);
    assert.equal(kept.length, MAX_ISSUES);
    noteIssue(kept, { kind: "low_balance", balanceUsd: 0.1 });
    assert.equal(formatIssue(kept[1]!), "low_balance=$0.10", "a known kind is still updated when full");
  });

  test("clipIssue cuts an issue's free text so its text is MAX_ISSUE_CHARS long, ending in an ellipsis; short ones and numbers stay", () => {
    const text = `state_dir=${"E".repeat(200)}`;
    const clipped = formatIssue(clipIssue({ kind: "state_dir", reason: "E".repeat(200) }));
    assert.equal(clipped, text.slice(0, MAX_ISSUE_CHARS - 1) + "…");
    assert.equal(clipped.length, MAX_ISSUE_CHARS);
    assert.equal(formatIssue(clipIssue({ kind: "upstream_auth", code: "X".repeat(500) })).length, MAX_ISSUE_CHARS);
    const short: ReadinessIssue = { kind: "upstream_auth", code: "IP_BANNED" };
    assert.equal(clipIssue(short), short);
    assert.deepEqual(clipIssue({ kind: "queue_full", depth: 1000 }), { kind: "queue_full", depth: 1000 });
  });

  test("StatusHistory counts solves and failures in the minute they end, and failures by the outcome /metrics gives them", async () => {
    const clock = at0();
    const h = new StatusHistory({ clock });
    h.taskEnded({ status: "solved" });
    h.taskEnded({ status: "failed", error: { code: "ERROR_BAD_PARAMETERS" } });
    await clock.advance(MINUTE_MS);
    h.taskEnded({ status: "failed", error: { code: "timeout" } });
    h.taskEnded({ status: "failed", error: { code: "shutdown" } });
    h.taskEnded({ status: "solved" });
    const v = h.view();
    assert.deepEqual(v.minutes.slice(-2).map((m) => [m.stats?.solved, m.stats?.failed]), [[1, 1], [1, 2]]);
    assert.deepEqual(v.totals, { solved: 2, failed: 3, byOutcome: { failed: 1, timeout: 1, shutdown: 1 } });
  });

  test("StatusHistory charges time to the readiness state it was in, split at minute boundaries, with the issues that held", async () => {
    const clock = at0();
    const h = new StatusHistory({ clock });
    await clock.advance(10_000);
    h.readiness({ state: "ready", issues: [] });
    await clock.advance(40_000);
    h.readiness({ state: "not_ready", issues: issues("low_balance=$0.49") });
    await clock.advance(30_000); // 10 s in the first minute, 20 s in the second
    h.readiness({ state: "not_ready", issues: issues("low_balance=$0.30") });
    await clock.advance(5_000);
    h.readiness({ state: "ready", issues: [] });
    await clock.advance(5_000);
    const [first, second] = h.view().minutes.slice(-2).map((m) => m.stats!);
    assert.deepEqual([first!.msIn.starting, first!.msIn.ready, first!.msIn.not_ready], [10_000, 40_000, 10_000]);
    assert.deepEqual([second!.msIn.not_ready, second!.msIn.ready], [25_000, 5_000]);
    assert.deepEqual(first!.issues.map(formatIssue), ["low_balance=$0.49"]);
    assert.deepEqual(second!.issues.map(formatIssue), ["low_balance=$0.30"], "the latest value of a kind replaces the older");
  });

  test("StatusHistory shows the minutes before its start and unsampled gauges as gaps, and counts as zero where nothing ended", async () => {
    const clock = at0();
    const h = new StatusHistory({ clock });
    h.sample({ queueDepth: 2, inFlight: 1, balanceUsd: 5 });
    await clock.advance(10 * MINUTE_MS);
    const v = h.view();
    const started = v.minutes.findIndex((m) => m.stats !== undefined);
    assert.equal(started, RING_MINUTES - 11, "nothing before the start");
    assert.ok(v.minutes.slice(0, started).every((m) => m.stats === undefined));
    const quiet = v.minutes[started + 3]!.stats!;
    assert.deepEqual([quiet.solved, quiet.failed, quiet.balanceUsd, quiet.queueMax, quiet.inFlightMax], [0, 0, undefined, -1, -1]);
    assert.equal(quiet.msIn.starting, MINUTE_MS, "the state is known every minute");
    assert.deepEqual([v.minutes[started]!.stats!.queueMax, v.minutes[started]!.stats!.balanceUsd], [2, 5]);
  });

  test("StatusHistory wraps after 60 minutes: a minute from over an hour ago shows nowhere, the totals keep it", async () => {
    const clock = at0();
    const h = new StatusHistory({ clock });
    h.taskEnded({ status: "failed", error: { code: "ERROR_CAPTCHA_UNSOLVABLE" } });
    h.sample({ queueDepth: 9, inFlight: 9, balanceUsd: 1 });
    await clock.advance(RING_MINUTES * MINUTE_MS);
    h.taskEnded({ status: "solved" });
    const v = h.view();
    assert.equal(v.minutes.length, RING_MINUTES);
    assert.equal(v.minutes.reduce((n, m) => n + (m.stats?.failed ?? 0), 0), 0);
    assert.equal(v.minutes.reduce((n, m) => n + (m.stats?.solved ?? 0), 0), 1);
    assert.ok(v.minutes.every((m) => m.stats?.queueMax !== 9));
    assert.deepEqual([v.totals.solved, v.totals.failed], [1, 1]);
    assert.equal(v.minutes[0]!.start, v.minutes.at(-1)!.start - (RING_MINUTES - 1) * MINUTE_MS);
  });

  test("StatusHistory's memory is fixed: hours of flapping over many issue kinds keep 60 slots of a few short issues", async () => {
    const clock = at0();
    const h = new StatusHistory({ clock });
    const long = "x".repeat(10_000);
    const others = issues("starting", "draining", "upstream_unreachable", "circuit_open", "queue_full=3", "error_rate=0.600", "backlog=200s", "no_solve_for=700s");
    for (let i = 0; i < 3 * 60 * 12; i++) {
      const varied: ReadinessIssue[] = [{ kind: "state_dir", reason: `${i}${long}` }, { kind: "upstream_auth", code: long }, others[i % others.length]!, others[i % 5]!];
      h.readiness(i % 2 ? { state: "ready", issues: [] } : { state: "not_ready", issues: varied });
      h.taskEnded({ status: i % 3 ? "solved" : "failed" });
      h.sample({ queueDepth: i, inFlight: i % 5, balanceUsd: i });
      await clock.advance(5_000);
    }
    const v = h.view();
    assert.equal(h.slots, RING_MINUTES);
    assert.equal(v.minutes.length, RING_MINUTES);
    for (const m of v.minutes) {
      assert.ok(m.stats, "every minute of the last hour is recorded");
      assert.ok(m.stats.issues.length <= MAX_ISSUES);
      assert.ok(m.stats.issues.every((i) => formatIssue(i).length <= MAX_ISSUE_CHARS));
      assert.equal(Object.values(m.stats.msIn).reduce((a, b) => a + b, 0) <= MINUTE_MS, true);
    }
  });

  test("StatusHistory.start samples every 5 s (the highest queue and in-flight of the minute), follows the notifier, and stop() ends both", async () => {
    const clock = at0();
    const h = new StatusHistory({ clock });
    let queue = 0;
    let state: Readiness["state"] = "ready";
    const evaluate = () => ({ state, issues: state === "ready" ? [] : issues("circuit_open"), balanceUsd: 4.5, snapshot: { queueDepth: queue, inFlight: 1 } as Readiness["snapshot"] });
    let listener: ((r: ReturnType<typeof evaluate>) => void) | undefined;
    h.start(evaluate, (l) => {
      listener = l;
      return () => (listener = undefined);
    });
    queue = 7;
    await clock.advance(5_000);
    queue = 3;
    await clock.advance(5_000);
    state = "not_ready";
    queue = 9;
    listener!(evaluate()); // a published change is sampled at once
    await clock.advance(1_000);
    const now = h.view().minutes.at(-1)!.stats!;
    assert.deepEqual([now.queueMax, now.inFlightMax, now.balanceUsd], [9, 1, 4.5]);
    assert.deepEqual([now.msIn.ready, now.msIn.not_ready], [10_000, 1_000]);
    assert.deepEqual(now.issues.map(formatIssue), ["circuit_open"]);
    h.stop();
    assert.equal(clock.pendingCount, 0, "no timer left");
    assert.equal(listener, undefined, "unsubscribed");
  });

  test("StatusHistory records no impossible gauge: negative or non-finite samples are left out", () => {
    const h = new StatusHistory({ clock: at0() });
    h.sample({ queueDepth: -3, inFlight: Number.NaN, balanceUsd: Number.POSITIVE_INFINITY });
    const m = h.view().minutes.at(-1)!.stats!;
    assert.deepEqual([m.queueMax, m.inFlightMax, m.balanceUsd], [-1, -1, undefined]);
  });

  test("StatusHistory keeps the minute's last balance and its lowest, so a dip between samples shows", () => {
    const h = new StatusHistory({ clock: at0() });
    for (const usd of [5, 0.49, 10]) h.sample({ queueDepth: 0, inFlight: 0, balanceUsd: usd });
    const m = h.view().minutes.at(-1)!.stats!;
    assert.deepEqual([m.balanceUsd, m.balanceMinUsd], [10, 0.49]);
  });
});
