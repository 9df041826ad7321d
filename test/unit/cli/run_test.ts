import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { invocationOf } from "../../../src/cli/run.ts";
import { runMain } from "../../_support/cli.ts";

const KEY = "cli-run-unit-key-0123456789";

// Only the paths that end before anything listens: argument handling is all cli/run.ts does.
describe("runRunCommand", () => {
  test("an unreadable --api-token-file exits 78 naming the flag and the error, before anything starts", async () => {
    const r = await runMain(["run", "--api-token-file", "/missing"], { CAPTCHAAI_API_KEY: KEY });
    assert.equal(r.code, 78);
    assert.match(r.stderr, /--api-token-file/);
    assert.match(r.stderr, /ENOENT/);
    assert.ok(!r.stderr.includes("captcha-worker started"));
  });

  test("a token too short exits 78 without echoing it", async () => {
    const r = await runMain(["run", "--api-token-file", "/t"], { CAPTCHAAI_API_KEY: KEY }, { "/t": "short-token\n" });
    assert.equal(r.code, 78);
    assert.match(r.stderr, /--api-token-file/);
    assert.ok(!r.stderr.includes("short-token"));
  });

  test("a bad --connect-timeout exits 78 naming the flag and its variable", async () => {
    const r = await runMain(["run", "--connect-timeout", "forever"], { CAPTCHAAI_API_KEY: KEY });
    assert.equal(r.code, 78);
    assert.match(r.stderr, /--connect-timeout \(env CAPTCHA_WORKER_CONNECT_TIMEOUT\)/);
  });

  test("--demo-overflow without --demo exits 78 naming the flag", async () => {
    const r = await runMain(["run", "--demo-overflow"], { CAPTCHAAI_API_KEY: KEY });
    assert.equal(r.code, 78);
    assert.match(r.stderr, /--demo-overflow \(env CAPTCHA_WORKER_DEMO_OVERFLOW\): only with --demo/);
    assert.ok(!r.stderr.includes("captcha-worker started"));
  });
});

describe("invocationOf", () => {
  test("npm start passes flags after --; another npm script by its name; npx and a direct run: the command itself", () => {
    assert.equal(invocationOf({ npm_lifecycle_event: "start", npm_command: "start" }), "npm start --");
    assert.equal(invocationOf({ npm_lifecycle_event: "start", npm_command: "run-script" }), "npm start --");
    assert.equal(invocationOf({ npm_lifecycle_event: "worker", npm_command: "run-script" }), "npm run worker --");
    assert.equal(invocationOf({ npm_lifecycle_event: "npx", npm_command: "exec" }), "captcha-worker run");
    assert.equal(invocationOf({}), "captcha-worker run");
  });

  test("a demo's hint starts a demo again: --demo on the command (its pasted line exits 78 without it), --demo-overflow kept", () => {
    assert.equal(invocationOf({}, { demo: true, demoOverflow: false }), "captcha-worker run --demo");
    assert.equal(invocationOf({}, { demo: true, demoOverflow: true }), "captcha-worker run --demo --demo-overflow");
    assert.equal(invocationOf({ npm_lifecycle_event: "start", npm_command: "start" }, { demo: true, demoOverflow: false }), "npm start --");
    assert.equal(invocationOf({ npm_lifecycle_event: "start", npm_command: "start" }, { demo: true, demoOverflow: true }), "npm start -- --demo-overflow");
    assert.equal(invocationOf({}, { demo: false, demoOverflow: true }), "captcha-worker run");
  });
});
