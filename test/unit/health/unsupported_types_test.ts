import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { isUnsupportedCode, UnsupportedTypes } from "../../../src/health/unsupported_types.ts";
import { FakeClock } from "../../_support/fake_clock.ts";
import { makeTask } from "../../_support/tasks.ts";
import type { Task } from "../../../src/tasks/task.ts";

const refused = (type: string, code = "ERROR_METHOD_CALL", over: Partial<Task> = {}) =>
  makeTask("r", { type: type as Task["type"], status: "failed", error: { code, message: "" }, ...over });
const solved = (type: string, submittedAt: number) => makeTask("s", { type: type as Task["type"], status: "solved", submittedAt, submissions: 1 });

describe("UnsupportedTypes", () => {
  test("the registry's unsupported codes, and only they, teach a type", () => {
    for (const code of ["ERROR_METHOD_CALL", "ERROR_TASK_NOT_SUPPORTED", "ERROR_TASK_TYPE_DEPRECATED", "ERROR_NO_SUCH_METHOD"]) assert.ok(isUnsupportedCode(code), code);
    for (const code of ["ERROR_CAPTCHA_UNSOLVABLE", "timeout", "ERROR_BAD_PARAMETERS", "Unsupported captcha type", undefined]) assert.ok(!isUnsupportedCode(code), String(code));
    const u = new UnsupportedTypes(new FakeClock());
    u.taskEnded(refused("turnstile", "ERROR_CAPTCHA_UNSOLVABLE"));
    u.taskEnded(makeTask("x", { type: "turnstile", status: "solved" }));
    assert.equal(u.refusal("turnstile"), undefined);
    assert.deepEqual(u.recent(), []);
  });

  test("refused for 10 minutes with the seconds left; then one probe at a time, another after a further window", async () => {
    const clock = new FakeClock();
    const learned: string[] = [];
    const u = new UnsupportedTypes(clock, { onLearned: (type, code, ms) => learned.push(`${type} ${code} ${ms}`) });
    u.taskEnded(refused("turnstile"));
    assert.deepEqual(learned, ["turnstile ERROR_METHOD_CALL 600000"]);
    assert.deepEqual(u.refusal("turnstile"), { code: "ERROR_METHOD_CALL", retryAfterS: 600 });
    assert.equal(u.refusal("image"), undefined, "other types go on");
    await clock.advance(599_500);
    assert.deepEqual(u.refusal("turnstile"), { code: "ERROR_METHOD_CALL", retryAfterS: 1 });
    await clock.advance(500);
    assert.equal(u.refusal("turnstile"), "probe");
    assert.deepEqual(u.refusal("turnstile"), { code: "ERROR_METHOD_CALL", retryAfterS: 600 }, "one probe at a time");
    await clock.advance(600_000);
    assert.equal(u.refusal("turnstile"), "probe", "a probe that never ended frees its slot after a window");
    u.probeNotTaken("turnstile");
    assert.equal(u.refusal("turnstile"), "probe", "given back");
    u.taskEnded(refused("turnstile", "ERROR_TASK_NOT_SUPPORTED"));
    assert.deepEqual(u.refusal("turnstile"), { code: "ERROR_TASK_NOT_SUPPORTED", retryAfterS: 600 }, "the probe refused again: another window, the newest code");
    assert.equal(learned.length, 1, "learned once while refused");
    assert.deepEqual(u.counts(), [{ type: "turnstile", code: "ERROR_METHOD_CALL", count: 1 }, { type: "turnstile", code: "ERROR_TASK_NOT_SUPPORTED", count: 1 }]);
  });

  test("a submit the upstream took after the last refusal ends it; one taken before does not", async () => {
    const clock = new FakeClock();
    const u = new UnsupportedTypes(clock);
    const earlier = clock.now();
    await clock.advance(1000);
    u.taskEnded(refused("lemin" as never));
    u.taskEnded(solved("lemin", earlier));
    assert.equal(typeof u.refusal("lemin"), "object", "accepted before the refusal: proves nothing");
    await clock.advance(1000);
    u.taskEnded(solved("lemin", clock.now()));
    assert.equal(u.refusal("lemin"), undefined);
    assert.deepEqual(u.recent().map((t) => [t.type, t.tasks, t.refusedUntil]), [["lemin", 1, undefined]]);
  });

  test("the status page's list: the last hour, most recent first", async () => {
    const clock = new FakeClock();
    const u = new UnsupportedTypes(clock, { refuseForMs: 60_000 });
    u.taskEnded(refused("turnstile"));
    await clock.advance(10_000);
    u.taskEnded(refused("recaptcha_v3", "ERROR_TASK_TYPE_DEPRECATED"));
    assert.deepEqual(u.recent().map((t) => t.type), ["recaptcha_v3", "turnstile"]);
    u.taskEnded(solved("turnstile", clock.now()));
    await clock.advance(3_590_001);
    assert.deepEqual(u.recent().map((t) => t.type), ["recaptcha_v3"], "turnstile's last refusal is over an hour old, and it is taken again");
    await clock.advance(3_600_000);
    assert.deepEqual(u.recent().map((t) => t.type), ["recaptcha_v3"], "refused until a task of it is taken");
    u.taskEnded(solved("recaptcha_v3", clock.now()));
    assert.deepEqual(u.recent(), [], "taken again, and its last refusal over an hour ago");
  });
});
