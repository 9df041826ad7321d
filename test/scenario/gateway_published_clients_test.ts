// The published npm clients `2captcha-ts` and `2captcha`, unchanged but for their host, solving
// through the worker's gateway on the simulator: the proof that existing clients need one host swap.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { after, before, describe, test } from "node:test";
import { advance, eventually, startHarness, type Harness } from "../_support/harness.ts";
import { CLIENT_KEY, gatewayHarness, OTHER_KEY, PNG } from "../_support/gateway.ts";

const require = createRequire(import.meta.url);
const TsSolver = (require("2captcha-ts") as typeof import("2captcha-ts")).Solver;
const tsConstants = require("2captcha-ts/dist/structs/constants/constants.js") as { supportedProviders: { twoCaptcha: { in: string; res: string } } };
const JsSolver = (require("2captcha") as { Solver: new (key: string, pollMs?: number) => Record<string, (...a: unknown[]) => Promise<unknown>> }).Solver;

interface ApiError { err?: string; code?: number }

/** Runs the fake clock while the worker holds open tasks, then lets the client's (real, 5ms) poll find the answer. */
async function through<T>(h: Harness, work: Promise<T>): Promise<T> {
  let settled = false;
  const p = work.finally(() => void (settled = true));
  p.catch(() => {});
  await eventually(() => settled || h.worker.pool.stored.open > 0, "a task or an answer");
  for (let i = 0; i < 200 && h.worker.pool.stored.open > 0 && !settled; i++) await advance(h.clock, 500);
  return p;
}

const PAGE = "https://example.com/login";
const SITEKEY = "6Le-published-sitekey";

let h: Harness;
before(async () => {
  h = await startHarness(gatewayHarness());
  tsConstants.supportedProviders.twoCaptcha.in = `${h.base}/in.php`;
  tsConstants.supportedProviders.twoCaptcha.res = `${h.base}/res.php`;
  Object.defineProperty(JsSolver.prototype, "in", { get: () => `${h.base}/in.php` });
  Object.defineProperty(JsSolver.prototype, "res", { get: () => `${h.base}/res.php` });
});
after(() => h.close());

describe("2captcha-ts through the gateway", () => {
  test("2captcha-ts solves an image (posted as JSON), a reCAPTCHA v2 and a Turnstile", async () => {
    const solver = new TsSolver(CLIENT_KEY, 5);
    const image = await through(h, solver.imageCaptcha({ body: PNG, numeric: 1 } as never));
    assert.match(image.data, /^[a-z0-9]{6}$/);
    assert.match(String(image.id), /^[1-9]\d*$/);
    const re = await through(h, solver.recaptcha({ googlekey: SITEKEY, pageurl: PAGE } as never));
    assert.ok(re.data.length > 100);
    const ts = await through(h, solver.cloudflareTurnstile({ sitekey: "0x4AAAAAAAexample", pageurl: PAGE } as never));
    assert.ok(ts.data.length > 20);
  });

  test("2captcha-ts reads the balance and reports good and bad", async () => {
    const solver = new TsSolver(CLIENT_KEY, 5);
    assert.equal(await solver.balance(), 10);
    const a = await through(h, solver.imageCaptcha({ body: PNG } as never));
    const b = await through(h, solver.imageCaptcha({ body: PNG } as never));
    assert.equal(await solver.goodReport(a.id), "OK_REPORT_RECORDED");
    assert.equal(await solver.badReport(b.id), "OK_REPORT_RECORDED");
  });

  test("2captcha-ts: a wrong key is refused with ERROR_KEY_DOES_NOT_EXIST", async () => {
    await assert.rejects(new TsSolver("not-a-client-key-000", 5).imageCaptcha({ body: PNG } as never), (e: ApiError) => e.err === "ERROR_KEY_DOES_NOT_EXIST");
  });

  test("2captcha-ts raises ERROR_NO_SLOT_AVAILABLE to its caller (code 11), with no retry of its own", async () => {
    const solver = new TsSolver(OTHER_KEY, 5); // max_in_flight=1
    const first = through(h, solver.imageCaptcha({ body: PNG } as never));
    await eventually(() => h.worker.pool.stored.open > 0, "bravo's first task");
    await assert.rejects(solver.imageCaptcha({ body: PNG } as never), (e: ApiError) => e.err === "ERROR_NO_SLOT_AVAILABLE" && e.code === 11);
    await first;
  });
});

describe("2captcha (furry/2captcha) through the gateway", () => {
  test("2captcha solves an image (JSON body without a content type), a reCAPTCHA v2 and a Turnstile", async () => {
    const solver = new JsSolver(CLIENT_KEY, 5);
    const image = (await through(h, solver.imageCaptcha!(PNG, { numeric: 1 }))) as { data: string; id: string };
    assert.match(image.data, /^[a-z0-9]{6}$/);
    const re = (await through(h, solver.recaptcha!(SITEKEY, PAGE))) as { data: string };
    assert.ok(re.data.length > 100);
    const ts = (await through(h, solver.turnstile!("0x4AAAAAAAexample", PAGE))) as { data: string };
    assert.ok(ts.data.length > 20);
  });

  test("2captcha reads the balance and reports good and bad", async () => {
    const solver = new JsSolver(CLIENT_KEY, 5);
    assert.equal(await solver.balance!(), 10);
    const a = (await through(h, solver.imageCaptcha!(PNG))) as { id: string };
    const b = (await through(h, solver.imageCaptcha!(PNG))) as { id: string };
    await solver.goodReport!(a.id);
    await solver.report!(b.id);
    assert.equal(h.worker.pool.find(a.id)?.reported, "good");
    assert.equal(h.worker.pool.find(b.id)?.reported, "bad");
  });

  test("2captcha: a wrong key is refused with ERROR_KEY_DOES_NOT_EXIST", async () => {
    await assert.rejects(new JsSolver("not-a-client-key-000", 5).imageCaptcha!(PNG), (e: ApiError) => e.err === "ERROR_KEY_DOES_NOT_EXIST");
  });

  test("2captcha raises ERROR_NO_SLOT_AVAILABLE to its caller (code 11), with no retry of its own", async () => {
    const solver = new JsSolver(OTHER_KEY, 5);
    const first = through(h, solver.imageCaptcha!(PNG));
    await eventually(() => h.worker.pool.stored.open > 0, "bravo's first task");
    await assert.rejects(solver.imageCaptcha!(PNG), (e: ApiError) => e.err === "ERROR_NO_SLOT_AVAILABLE" && e.code === 11);
    await first;
  });
});
