import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { readDialectTask } from "../../../src/sim/sim_v2_tasks.ts";
import type { TaskParams } from "../../../src/tasks/task_catalogue.ts";
import { v2TaskFor } from "../../../src/tasks/task_dialects.ts";
import { TaskProxy } from "../../../src/tasks/task_proxy.ts";
import { PNG_B64 } from "../../_support/images.ts";

const PAGE = "https://example.com/login";
const UA = "Mozilla/5.0 test";
const proxy = (type = "SOCKS5") => TaskProxy.parse("alice:pr0xy-pa55@10.1.2.3:8080", type) as TaskProxy;

/** Tasks of the types the simulated JSON dialects name, with the options their dialect tables rename. */
const TASKS: TaskParams[] = [
  { type: "image", image: PNG_B64, numeric: 1, min_len: 4, max_len: 6, regsense: true },
  { type: "recaptcha_v2", sitekey: "6Le-sitekey-abc", pageurl: PAGE, invisible: true },
  { type: "recaptcha_v2", sitekey: "6Le-sitekey-abc", pageurl: PAGE, enterprise: true, data_s: "s-value" },
  { type: "recaptcha_v2", sitekey: "6Le-sitekey-abc", pageurl: PAGE, proxy: proxy(), useragent: UA },
  { type: "recaptcha_v3", sitekey: "6Le-sitekey-abc", pageurl: PAGE, action: "login", min_score: 0.7 },
  { type: "recaptcha_v3", sitekey: "6Le-sitekey-abc", pageurl: PAGE, action: "login", enterprise: true },
  { type: "turnstile", sitekey: "0x4AAAAAAAexample", pageurl: PAGE, action: "a", data: "c-data", pagedata: "p" },
  { type: "turnstile", sitekey: "0x4AAAAAAAexample", pageurl: PAGE, proxy: proxy() },
  // A Cloudflare Challenge is solved through an HTTP(S) proxy only (its catalogue entry).
  { type: "cloudflare_challenge", pageurl: PAGE, proxy: proxy("HTTP"), useragent: UA },
  { type: "geetest", gt: "81388ea1fc187e0c335c0a8907ff2625", challenge: "12345678abc90123d45678ef90123a456b", pageurl: PAGE, api_server: "api.geetest.com" },
  { type: "geetest", gt: "81388ea1fc187e0c335c0a8907ff2625", challenge: "12345678abc90123d45678ef90123a456b", pageurl: PAGE, proxy: proxy(), useragent: UA },
  { type: "geetest_v4", captcha_id: "e392e1d7fd421dc63325744d5a2b9c73", pageurl: PAGE },
  { type: "friendly_captcha", sitekey: "FCMST5VUMCBOCGQ9", pageurl: PAGE },
];

/** The task as the dialect can carry it: what v2TaskFor sends, read back, loses only the fields the dialect has no name for. */
const comparable = (p: TaskParams) => JSON.parse(JSON.stringify({ ...p, proxy: (p as { proxy?: TaskProxy }).proxy?.toRecord() })) as Record<string, unknown>;

describe("readDialectTask", () => {
  for (const dialect of ["anticaptcha", "capsolver"] as const) {
    test(`${dialect}: every task the worker's client sends reads back as the same type, and its values as sent`, () => {
      let read = 0;
      for (const params of TASKS) {
        const sent = v2TaskFor(params, dialect);
        if (sent === undefined) continue;
        const r = readDialectTask(sent, dialect, "UA/default");
        assert.ok(r.ok, `${params.type}: ${JSON.stringify(r)}`);
        read++;
        assert.equal(r.type, params.type);
        // Read back and sent again, the task object is the same: nothing the client sent is lost or renamed.
        assert.deepEqual(v2TaskFor(r.params, dialect), sent, params.type);
        const back = comparable(r.params);
        for (const [k, v] of Object.entries(comparable(params))) if (k in back) assert.deepEqual(back[k], v, `${params.type}.${k}`);
      }
      assert.equal(read, dialect === "anticaptcha" ? 12 : 10);
    });
  }

  test("a name the dialect does not have is unsupported; a name it has with bad values is refused with the catalogue's code", () => {
    assert.deepEqual(readDialectTask({ type: "TurnstileTaskProxyLess", websiteURL: PAGE, websiteKey: "0x4AAAAAAAexample" }, "capsolver", "UA"), { ok: false, unsupported: true, typeName: "TurnstileTaskProxyLess" });
    assert.deepEqual(readDialectTask({ type: "GridTask" }, "anticaptcha", "UA"), { ok: false, unsupported: true, typeName: "GridTask" });
    const r = readDialectTask({ type: "RecaptchaV2TaskProxyless", websiteURL: "not a url", websiteKey: "6Le-sitekey-abc" }, "anticaptcha", "UA");
    assert.deepEqual([r.ok, !r.ok && !r.unsupported && r.code], [false, "ERROR_PAGEURL"]);
    const small = readDialectTask({ type: "ImageToTextTask", body: Buffer.alloc(50, 1).toString("base64") }, "anticaptcha", "UA");
    assert.deepEqual([small.ok, !small.ok && !small.unsupported && small.code], [false, "ERROR_ZERO_CAPTCHA_FILESIZE"]);
    const notImage = readDialectTask({ type: "ImageToTextTask", body: Buffer.alloc(300, 1).toString("base64") }, "anticaptcha", "UA");
    assert.deepEqual([notImage.ok, !notImage.ok && !notImage.unsupported && notImage.code], [false, "ERROR_IMAGE_TYPE_NOT_SUPPORTED"]);
    const noProxy = readDialectTask({ type: "AntiCloudflareTask", websiteURL: PAGE }, "capsolver", "UA");
    assert.deepEqual([noProxy.ok, !noProxy.ok && !noProxy.unsupported && noProxy.code], [false, "ERROR_BAD_PROXY"]);
    assert.equal(readDialectTask(undefined, "capsolver", "UA").ok, false);
    assert.equal(readDialectTask([1, 2], "anticaptcha", "UA").ok, false);
  });

  test("GeeTest v3 and v4 share a name: the values tell them apart; a token bound to its user agent answers the task's or the default", () => {
    const v4 = readDialectTask({ type: "GeeTestTaskProxyless", websiteURL: PAGE, gt: "e392e1d7fd421dc63325744d5a2b9c73", version: 4, initParameters: { captcha_id: "e392e1d7fd421dc63325744d5a2b9c73" } }, "anticaptcha", "UA");
    assert.deepEqual(v4.ok && [v4.type, v4.shape], ["geetest_v4", { kind: "geetest_v4", captchaId: "e392e1d7fd421dc63325744d5a2b9c73" }]);
    const v3 = readDialectTask({ type: "GeeTestTaskProxyLess", websiteURL: PAGE, gt: "81388ea1fc187e0c335c0a8907ff2625", challenge: "abc123" }, "capsolver", "UA");
    assert.deepEqual(v3.ok && [v3.type, v3.kind, v3.userAgent], ["geetest", "token", undefined]);
    const turnstile = readDialectTask({ type: "AntiTurnstileTaskProxyLess", websiteURL: PAGE, websiteKey: "0x4AAAAAAAexample" }, "capsolver", "UA/default");
    assert.deepEqual(turnstile.ok && turnstile.userAgent, "UA/default");
  });
});
