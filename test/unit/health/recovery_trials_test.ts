import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { startRecoveryTrials, trialNeed } from "../../../src/health/recovery_trials.ts";
import type { ReadinessIssue } from "../../../src/health/readiness_issue.ts";
import { FakeClock } from "../../_support/fake_clock.ts";
import { issues as typed } from "../../_support/readiness_issues.ts";

function rig(issues: () => ReadinessIssue[], guarded = false) {
  const clock = new FakeClock();
  const at: number[] = [];
  const trials = startRecoveryTrials({ clock, evaluate: () => ({ issues: issues() }), trial: async () => void at.push(clock.now()), guarded });
  return { clock, at, trials };
}

describe("recovery trials", () => {
  test("trialNeed: transport issues first, IP_BANNED apart, a refused key, a low balance, else none", () => {
    assert.equal(trialNeed(typed("low_balance=$0.10", "circuit_open")), "transport");
    assert.equal(trialNeed(typed("upstream_unreachable")), "transport");
    assert.equal(trialNeed(typed("upstream_auth=IP_BANNED")), "banned");
    assert.equal(trialNeed(typed("upstream_auth=ERROR_WRONG_USER_KEY")), "key");
    assert.equal(trialNeed(typed("upstream_auth=ERROR_WRONG_USER_KEY", "low_balance=$0.10")), "key", "the more careful of the two");
    assert.equal(trialNeed(typed("low_balance=$0.10")), "account");
    assert.equal(trialNeed(typed("consecutive_failures=10", "no_solve_for=700s")), undefined, "only a task can tell these");
  });

  test("transport trouble is tried every second for as long as it lasts; nothing when ready", async () => {
    let issues = typed("upstream_unreachable");
    const r = rig(() => issues);
    await r.clock.advance(300_000);
    assert.equal(r.at.length, 300);
    issues = typed();
    await r.clock.advance(60_000);
    assert.equal(r.at.length, 300);
    r.trials.stop();
  });

  test("a low balance: every second for a minute, then doubling pauses up to a minute; afresh after it clears", async () => {
    let issues = typed("low_balance=$0.20");
    const r = rig(() => issues);
    await r.clock.advance(60_000);
    assert.equal(r.at.length, 60, "eager for the first minute");
    await r.clock.advance(600_000);
    const gaps = r.at.slice(60).map((t, i) => t - r.at[59 + i]!);
    assert.deepEqual(gaps.slice(0, 7), [1000, 2000, 4000, 8000, 16_000, 32_000, 60_000]);
    assert.ok(gaps.every((g) => g <= 60_000));
    issues = typed();
    await r.clock.advance(5000);
    const before = r.at.length;
    issues = typed("low_balance=$0.20");
    await r.clock.advance(5000);
    assert.equal(r.at.length - before, 5, "a new spell of trouble is eager again");
    r.trials.stop();
  });

  test("a refused key is tried twice a second apart, then every 20 s doubling to a minute: never 5 bad keys in a minute (CaptchaAI bans the address 5 minutes)", async () => {
    let issues = typed("upstream_auth=ERROR_KEY_DOES_NOT_EXIST");
    const r = rig(() => issues);
    const t0 = r.clock.now();
    await r.clock.advance(300_000);
    assert.deepEqual(r.at.map((t) => t - t0), [1000, 2000, 22_000, 62_000, 122_000, 182_000, 242_000]);
    const perMinute = Math.max(...r.at.map((t) => r.at.filter((u) => u >= t && u < t + 60_000).length));
    assert.ok(perMinute <= 3, `${perMinute} trials in a minute, besides the refusal that began it`);
    issues = typed();
    await r.clock.advance(5000);
    const before = r.at.length;
    issues = typed("upstream_auth=ERROR_WRONG_USER_KEY");
    await r.clock.advance(2000);
    assert.equal(r.at.length - before, 2, "a new spell: two eager tries again");
    r.trials.stop();
  });

  test("a refused key with a transport blip between (a balance check lost on the way): the blip's one trial, and the key's pace goes on, not two eager tries afresh", async () => {
    let issues = typed("upstream_auth=ERROR_KEY_DOES_NOT_EXIST");
    const r = rig(() => issues);
    const t0 = r.clock.now();
    await r.clock.advance(10_000);
    issues = typed("upstream_auth=ERROR_KEY_DOES_NOT_EXIST", "upstream_unreachable");
    await r.clock.advance(1000);
    issues = typed("upstream_auth=ERROR_KEY_DOES_NOT_EXIST"); // that trial reached it: the key is refused still
    await r.clock.advance(50_000);
    assert.deepEqual(r.at.map((t) => t - t0), [1000, 2000, 11_000, 22_000], "four refused keys in the minute, not five (CaptchaAI bans at five)");
    r.trials.stop();
  });

  test("at a provider that bans an address asking on with a refused key, account trouble is never tried eagerly: 20 s, then doubling to a minute (2captcha bans at 5 a minute)", async () => {
    const r = rig(() => typed("upstream_auth=ERROR_KEY_DOES_NOT_EXIST"), true);
    const t0 = r.clock.now();
    await r.clock.advance(300_000);
    assert.deepEqual(r.at.map((t) => t - t0), [1000, 21_000, 61_000, 121_000, 181_000, 241_000]);
    const perMinute = Math.max(...r.at.map((t) => r.at.filter((u) => u >= t && u < t + 60_000).length));
    assert.ok(perMinute < 5, `${perMinute} trials in a minute`);
    r.trials.stop();
  });

  test("IP_BANNED is tried once a minute from the start: asking more keeps the ban going", async () => {
    const r = rig(() => typed("upstream_auth=IP_BANNED"));
    const t0 = r.clock.now();
    await r.clock.advance(300_000);
    assert.deepEqual(r.at.map((t) => t - t0), [1000, 61_000, 121_000, 181_000, 241_000]);
    r.trials.stop();
  });
});
