import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { runMain } from "../../_support/cli.ts";

// Only the paths that end before the simulator listens.
describe("runSimulateCommand", () => {
  test("--solve-time uses the strict per-kind grammar of --first-poll: a kind twice or a stray = is exit 78", async () => {
    for (const bad of ["image=1s,image=2s", "image=1s=2s", "captcha=1s", "2h"]) {
      const r = await runMain(["simulate", "--solve-time", bad]);
      assert.equal(r.code, 78, bad);
      assert.match(r.stderr, /Invalid --solve-time: expected one duration, or image=DUR,token=DUR/);
    }
  });

  test("a bad --key is exit 78 without echoing it; an unknown flag is exit 2", async () => {
    const r = await runMain(["simulate", "--key", "has spaces in it"]);
    assert.equal(r.code, 78);
    assert.match(r.stderr, /--key/);
    assert.ok(!r.stderr.includes("has spaces in it"));
    assert.equal((await runMain(["simulate", "--frob"])).code, 2);
  });

  test("--dialect takes captchaai, 2captcha, anticaptcha or capsolver; anything else is exit 78 naming it", async () => {
    const r = await runMain(["simulate", "--dialect", "2Captcha"]);
    assert.equal(r.code, 78);
    assert.match(r.stderr, /Invalid --dialect: expected captchaai, 2captcha, anticaptcha or capsolver/);
  });

  test("--help prints simulate's own page", async () => {
    const r = await runMain(["simulate", "--help"]);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^Usage: captcha-worker simulate \[flags\]$/m);
    assert.match(r.stdout, /^ {2}--solve-time DUR$/m);
    assert.match(r.stdout, /--dialect/);
  });
});
