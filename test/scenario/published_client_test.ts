// A 2captcha client we did not write (2captcha-ts) against `captcha-worker simulate`'s protocol:
// the proof that the simulator speaks in.php/res.php as real clients expect.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { after, before, describe, test } from "node:test";
import { startSimulator, type Simulator } from "../../src/sim/simulator.ts";
import { pngOfSize } from "../_support/images.ts";

const require = createRequire(import.meta.url);
const { Solver } = require("2captcha-ts") as typeof import("2captcha-ts");
const constants = require("2captcha-ts/dist/structs/constants/constants.js") as {
  supportedProviders: { twoCaptcha: { in: string; res: string } };
};

const KEY = "published-client-key-01234567890";
const PNG = pngOfSize(300, 1).toString("base64");

describe("2captcha-ts against the simulator", () => {
  let sim: Simulator;
  before(async () => {
    // Solve time 0: the library's own poll (it sleeps pollingFrequency first) finds the answer at once.
    sim = await startSimulator({ host: "127.0.0.1", port: 0 }, { keys: [KEY], solveTimeMs: { image: 0, token: 0 }, balanceUsd: 3, seed: 1 });
    constants.supportedProviders.twoCaptcha.in = new URL("in.php", sim.url).href;
    constants.supportedProviders.twoCaptcha.res = new URL("res.php", sim.url).href;
  });
  after(() => sim.close());

  test("solves an image, sent as JSON the way the library posts it", async () => {
    const solver = new Solver(KEY, 1);
    const result = await solver.imageCaptcha({ body: PNG, numeric: 1 } as never);
    assert.match(result.data, /^[a-z0-9]{6}$/);
    assert.match(String(result.id), /^\d+$/);
  });

  test("solves a reCAPTCHA v2", async () => {
    const solver = new Solver(KEY, 1);
    const result = await solver.recaptcha({ googlekey: "6Le-published-sitekey", pageurl: "https://example.com/" } as never);
    assert.ok(result.data.length > 100);
  });

  test("reads the balance and reports good and bad", async () => {
    const solver = new Solver(KEY, 1);
    const balance = await solver.balance();
    assert.ok(balance > 2.99 && balance < 3, String(balance));
    const a = await solver.imageCaptcha({ body: PNG } as never);
    const b = await solver.imageCaptcha({ body: PNG } as never);
    assert.equal(await solver.goodReport(a.id), "OK_REPORT_RECORDED");
    assert.equal(await solver.badReport(b.id), "OK_REPORT_RECORDED");
  });

  test("a wrong key fails with ERROR_WRONG_USER_KEY", async () => {
    const solver = new Solver("not-the-key", 1);
    await assert.rejects(solver.balance(), (err: Error) => err.message.includes("ERROR_WRONG_USER_KEY") || String((err as { err?: string }).err).includes("ERROR_WRONG_USER_KEY"));
  });

  test("the simulator saw the library's query-string keys (it sends GETs), unlike our client", () => {
    assert.ok(sim.counts().keyInQuery > 0);
  });
});
