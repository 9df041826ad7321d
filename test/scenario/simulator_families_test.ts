/**
 * Every task type of the catalogue, posted on /v1/tasks, reaches the simulator in the form CaptchaAI
 * documents (the simulator checks each method's required parameters as CaptchaAI does,
 * docs/simulator.md) and is solved with the answer's shape: the worker's upstream forms and the
 * simulator's fidelity agree.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { advance, eventually, withHarness, type Harness } from "../_support/harness.ts";
import { PNG_B64 } from "../_support/images.ts";

const PAGE = "https://example.com/login";
const PROXY = { proxy: "user:secret@10.0.0.1:3128", proxytype: "HTTP" };
type Json = Record<string, unknown>;

/** Each type with what the simulator must have received (the in.php form's telling fields). */
const CASES: { task: Json; form: Record<string, string> }[] = [
  { task: { type: "image", image: PNG_B64 }, form: { method: "base64" } },
  { task: { type: "grid", image: PNG_B64, textinstructions: "buses", rows: 4, cols: 4 }, form: { method: "base64", recaptcha: "1", recaptcharows: "4", recaptchacols: "4" } },
  { task: { type: "bls", instructions: "664", images: Array(9).fill(PNG_B64) }, form: { method: "bls", instructions: "664" } },
  { task: { type: "recaptcha_v2", sitekey: "6Le-sitekey-abc", pageurl: PAGE, data_s: "s-value", useragent: "UA/1.0", ...PROXY }, form: { method: "userrecaptcha", "data-s": "s-value", ...PROXY } },
  { task: { type: "recaptcha_v3", sitekey: "6Le-sitekey-abc", pageurl: PAGE, action: "login", min_score: 0.3 }, form: { method: "userrecaptcha", version: "v3", min_score: "0.3" } },
  { task: { type: "turnstile", sitekey: "0x4AAAAAAAexample", pageurl: PAGE, action: "a", data: "d", pagedata: "p", useragent: "UA/1.0" }, form: { method: "turnstile", pagedata: "p", userAgent: "UA/1.0" } },
  { task: { type: "cloudflare_challenge", pageurl: PAGE, ...PROXY }, form: { method: "cloudflare_challenge", ...PROXY } },
  { task: { type: "geetest", gt: "81388ea1fc187e0c335c0a8907ff2625", challenge: "12345678abc90123d45678ef90123a456b", pageurl: PAGE }, form: { method: "geetest" } },
  { task: { type: "geetest_v4", captcha_id: "e392e1d7fd421dc63325744d5a2b9c73", pageurl: PAGE }, form: { method: "geetest", version: "4", gt: "e392e1d7fd421dc63325744d5a2b9c73" } },
  { task: { type: "captchafox", sitekey: "sk-captchafox-1", pageurl: PAGE, ...PROXY }, form: { method: "captchafox", ...PROXY } },
  { task: { type: "friendly_captcha", sitekey: "FCMST5VUMCBOCGQ9", pageurl: PAGE }, form: { method: "friendly_captcha" } },
  { task: { type: "lemin", captcha_id: "CROPPED_3dfdd5c_d1872b526b794d83ba3b365eb15a200b", div_id: "lemin-cropped-captcha", pageurl: PAGE }, form: { method: "lemin", div_id: "lemin-cropped-captcha" } },
];

async function solve(h: Harness, task: Json): Promise<Json> {
  const res = await fetch(`${h.base}/v1/tasks`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(task) });
  const created = (await res.json()) as Json;
  assert.equal(res.status, 202, JSON.stringify(created));
  const ended = () => ["solved", "failed"].includes(h.worker.pool.find(created.id as string)?.status ?? "");
  for (let s = 0; s < 60 && !ended(); s++) await advance(h.clock, 1000);
  await eventually(ended, `${task.type as string} ended`);
  return (await (await fetch(`${h.base}/v1/tasks/${created.id as string}`)).json()) as Json;
}

describe("every task type on the simulator", () => {
  test("each reaches in.php in CaptchaAI's form, the simulator takes it, and it is solved", () =>
    withHarness(async (h) => {
      for (const { task, form } of CASES) {
        const got = await solve(h, task);
        assert.equal(got.status, "solved", `${task.type as string}: ${JSON.stringify(got.error)}`);
        assert.ok(got.solution !== undefined && got.solution !== "", `${task.type as string}: a solution`);
        const sent = h.sim.submits().at(-1)!;
        for (const [k, v] of Object.entries(form)) assert.equal(sent[k], v, `${task.type as string}: ${k}`);
      }
      assert.equal(h.sim.counts().submitted, CASES.length, "each taken at the first submit");
    }));
});
