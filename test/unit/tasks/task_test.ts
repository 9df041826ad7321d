import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { isEnded } from "../../../src/tasks/task.ts";
import { kindOf, TASK_TYPES } from "../../../src/tasks/task_catalogue.ts";
import { makeTask } from "../../_support/tasks.ts";

describe("task", () => {
  test("kindOf: image tasks are the image kind, every token task type the token kind", () => {
    assert.deepEqual(Object.fromEntries(TASK_TYPES.map((t) => [t, kindOf(t)])), {
      image: "image", grid: "image", bls: "image", recaptcha_v2: "token", recaptcha_v3: "token", turnstile: "token", cloudflare_challenge: "token",
      geetest: "token", geetest_v4: "token", captchafox: "token", friendly_captcha: "token", lemin: "token",
    });
  });

  test("isEnded: solved and failed are ends, queued and submitted are not", () => {
    assert.deepEqual((["queued", "submitted", "solved", "failed"] as const).map((status) => isEnded(makeTask("t", { status }))), [false, false, true, true]);
  });
});
