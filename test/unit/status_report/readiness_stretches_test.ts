import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { MINUTE_MS } from "../../../src/status_report/history_rings.ts";
import { describeStretch } from "../../../src/status_report/history_svg.ts";
import { readinessStretches } from "../../../src/status_report/readiness_stretches.ts";
import { StatusHistory } from "../../../src/status_report/status_history.ts";
import { formatIssue } from "../../../src/health/readiness_issue.ts";
import { FakeClock } from "../../_support/fake_clock.ts";
import { issues } from "../../_support/readiness_issues.ts";

describe("readinessStretches", () => {
  test("readinessStretches merges minutes of one worst state and issue kinds, says how long it was outside ready, and ends now", async () => {
    const clock = new FakeClock(Date.UTC(2026, 0, 1, 6, 0, 0));
    const h = new StatusHistory({ clock });
    h.readiness({ state: "ready", issues: [] });
    await clock.advance(2 * MINUTE_MS);
    h.readiness({ state: "not_ready", issues: issues("low_balance=$0.49") });
    await clock.advance(90_000);
    h.readiness({ state: "not_ready", issues: issues("low_balance=$0.20") });
    await clock.advance(30_000);
    h.readiness({ state: "probation", issues: [] });
    await clock.advance(MINUTE_MS);
    h.readiness({ state: "ready", issues: [] });
    await clock.advance(MINUTE_MS + 15_000);
    const s = readinessStretches(h.view());
    assert.deepEqual(s.map((x) => [x.state, x.minutes, x.issues.map(formatIssue)]), [
      ["gap", 53, []],
      ["ready", 2, []],
      ["not_ready", 2, ["low_balance=$0.20"]],
      ["probation", 1, []],
      ["ready", 2, []],
    ]);
    assert.equal(s[2]!.msNotReady, 120_000);
    assert.equal(s.at(-1)!.to, clock.now(), "the last stretch ends now");
    assert.equal(s.reduce((n, x) => n + x.minutes, 0), 60);
  });

  test("readinessStretches marks a minute by the worst state it held, even briefly", async () => {
    const clock = new FakeClock(Date.UTC(2026, 0, 1, 6, 0, 0));
    const h = new StatusHistory({ clock });
    h.readiness({ state: "ready", issues: [] });
    await clock.advance(55_000);
    h.readiness({ state: "not_ready", issues: issues("circuit_open") });
    await clock.advance(2_000);
    h.readiness({ state: "ready", issues: [] });
    await clock.advance(2_000);
    const last = readinessStretches(h.view()).at(-1)!;
    assert.deepEqual([last.state, last.issues.map(formatIssue), last.msNotReady], ["not_ready", ["circuit_open"], 2_000]);
    await clock.advance(1_000); // the next minute, at its first instant, goes on with the state before it
    const next = readinessStretches(h.view());
    assert.deepEqual([next.at(-1)!.state, next.at(-1)!.minutes, next.length], ["not_ready", 2, 2]);
  });
  test("readinessStretches says a stretch goes on (\"–now\") only while the worker is still in its state", async () => {
    const clock = new FakeClock(Date.UTC(2026, 0, 1, 6, 0, 0));
    const h = new StatusHistory({ clock });
    h.readiness({ state: "ready", issues: [] });
    await clock.advance(50_000);
    h.readiness({ state: "not_ready", issues: issues("upstream_unreachable") });
    await clock.advance(11_000); // 1 s into the next minute
    h.readiness({ state: "ready", issues: [] });
    await clock.advance(30_000);
    const last = readinessStretches(h.view()).at(-1)!;
    assert.equal(last.state, "not_ready", "the minutes are drawn in the worst state they held");
    assert.equal(last.ongoing, false, "but the worker is ready again: the stretch is over");
    assert.equal(describeStretch(last), "06:00–06:01 UTC, not ready (11s outside ready): upstream_unreachable");
    h.readiness({ state: "not_ready", issues: issues("circuit_open") });
    await clock.advance(1_000);
    assert.equal(readinessStretches(h.view()).at(-1)!.ongoing, true, "and goes on when the worker is in it now");
  });
});
