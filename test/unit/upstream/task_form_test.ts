import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { taskToForm } from "../../../src/upstream/task_form.ts";
import { PNG_B64 } from "../../_support/images.ts";

describe("taskToForm", () => {
  test("taskToForm sends enterprise, language and Turnstile's action and data, and never the task's origin", () => {
    assert.deepEqual(taskToForm({ type: "recaptcha_v2", sitekey: "k", pageurl: "https://a/", enterprise: true, client: "alpha", callback: { url: "https://h/", format: "v2" } }),
      { method: "userrecaptcha", googlekey: "k", pageurl: "https://a/", enterprise: "1" });
    assert.deepEqual(taskToForm({ type: "image", image: PNG_B64, language: 2 }), { method: "base64", body: PNG_B64, language: "2" });
    assert.deepEqual(taskToForm({ type: "turnstile", sitekey: "k", pageurl: "https://a/", action: "login", data: "cd" }),
      { method: "turnstile", sitekey: "k", pageurl: "https://a/", action: "login", data: "cd" });
  });
});
