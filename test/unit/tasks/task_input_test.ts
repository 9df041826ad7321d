import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { readLegacyTask, readNativeTask, readV2Task, type TaskVerdict } from "../../../src/tasks/task_input.ts";
import type { TaskParams } from "../../../src/tasks/task_catalogue.ts";
import { PNG_B64, PNG_PLUS_SLASH_B64 } from "../../_support/images.ts";

const SITEKEY = "6Le-wvkSAAAAAPBMRTvw0Q4Muexq9bi0DJwx_mJ-";

/** The parameters of an accepted task; fails the test on a refusal. */
function parseTaskInput(body: unknown): TaskParams {
  const v = readNativeTask(body);
  if (!v.ok) assert.fail(`refused: ${JSON.stringify(v.refusal)}`);
  return v.params;
}

/** Asserts a refusal naming `field`. */
function refuses(body: unknown, field: string): void {
  const v: TaskVerdict = readNativeTask(body);
  assert.ok(!v.ok && v.refusal.field === field, `expected a refusal naming ${field} for ${JSON.stringify(body).slice(0, 80)}, got ${JSON.stringify(v)}`);
}

/** The refusal's sentence, as the task API's 400 says it. */
function refusalText(body: unknown): string {
  const v = readNativeTask(body);
  assert.ok(!v.ok);
  return `Invalid ${v.refusal.name}: ${v.refusal.why}.`;
}

describe("readNativeTask", () => {
  test("an image task with its options becomes typed parameters", () => {
    const params = parseTaskInput({ type: "image", image: PNG_B64, phrase: true, numeric: 1, min_len: 2, max_len: 6, lang: "en", textinstructions: "type it" });
    assert.deepEqual(params, { type: "image", image: PNG_B64, phrase: true, numeric: 1, min_len: 2, max_len: 6, lang: "en", textinstructions: "type it" });
  });

  test("an image given as a data: URL or URL-safe base64 is normalised to standard base64", () => {
    assert.equal((parseTaskInput({ type: "image", image: `data:image/png;base64,${PNG_B64.slice(0, 10)} ${PNG_B64.slice(10)}` }) as { image: string }).image, PNG_B64);
    assert.equal((parseTaskInput({ type: "image", image: PNG_PLUS_SLASH_B64.replaceAll("+", "-").replaceAll("/", "_") }) as { image: string }).image, PNG_PLUS_SLASH_B64);
  });

  test("0 and 1 are read as booleans; null fields are left out", () => {
    assert.deepEqual(parseTaskInput({ type: "image", image: PNG_B64, regsense: 1, calc: 0, lang: null }), { type: "image", image: PNG_B64, regsense: true, calc: false });
  });

  test("token tasks: reCAPTCHA v2, v3 and Turnstile", () => {
    assert.deepEqual(parseTaskInput({ type: "recaptcha_v2", sitekey: SITEKEY, pageurl: "https://example.com/login", invisible: true }), {
      type: "recaptcha_v2",
      sitekey: SITEKEY,
      pageurl: "https://example.com/login",
      invisible: true,
    });
    assert.equal((parseTaskInput({ type: "recaptcha_v3", sitekey: SITEKEY, pageurl: "http://a.example", action: "login/verify", min_score: 0.3 }) as { min_score: number }).min_score, 0.3);
    assert.equal(parseTaskInput({ type: "turnstile", sitekey: "0x4AAAAAAAC3DHQFLr1GavRN", pageurl: "https://a.example" }).type, "turnstile");
  });

  test("refuses anything but a JSON object, naming body", () => {
    for (const body of [null, [], "image", 42]) refuses(body, "body");
  });

  test("refuses an unknown or missing type, naming type", () => {
    refuses({}, "type");
    refuses({ type: "hcaptcha" }, "type");
    refuses({ type: "toString" }, "type");
  });

  test("refuses unknown fields by name, so a typo is not silently ignored", () => {
    refuses({ type: "image", image: PNG_B64, min_lenght: 2 }, "min_lenght");
    refuses({ type: "turnstile", sitekey: SITEKEY, pageurl: "https://a.example", invisible: true }, "invisible");
    refuses({ type: "image", image: PNG_B64, __proto__x: 1, constructor: 1 }, "__proto__x");
  });

  test("an unknown field suggests the known one it is closest to, with the right article", () => {
    refuses({ type: "image", image: PNG_B64, numberic: 1 }, "numberic");
    assert.match(refusalText({ type: "image", image: PNG_B64, numberic: 1 }), /for an image task \(did you mean `numeric`\?\)/);
    assert.match(refusalText({ type: "turnstile", sitekey: SITEKEY, pageurl: "https://a.example", zzzzz: 1 }), /for a turnstile task\.$/);
  });

  test("refuses missing required fields", () => {
    refuses({ type: "image" }, "image");
    refuses({ type: "recaptcha_v2", pageurl: "https://a.example" }, "sitekey");
    refuses({ type: "turnstile", sitekey: SITEKEY }, "pageurl");
  });

  test("refuses values out of range or of the wrong kind", () => {
    refuses({ type: "image", image: "" }, "image");
    refuses({ type: "image", image: "not base64!" }, "image");
    refuses({ type: "image", image: "a".repeat(2 * 1024 * 1024 + 4) }, "image");
    refuses({ type: "image", image: PNG_B64, numeric: 5 }, "numeric");
    refuses({ type: "image", image: PNG_B64, min_len: 1.5 }, "min_len");
    refuses({ type: "image", image: PNG_B64, phrase: "yes" }, "phrase");
    refuses({ type: "image", image: PNG_B64, lang: "english" }, "lang");
    refuses({ type: "image", image: PNG_B64, textinstructions: "x".repeat(141) }, "textinstructions");
    refuses({ type: "image", image: PNG_B64, min_len: 5, max_len: 3 }, "min_len");
    refuses({ type: "recaptcha_v3", sitekey: SITEKEY, pageurl: "https://a.example", min_score: 0.95 }, "min_score");
    refuses({ type: "recaptcha_v3", sitekey: SITEKEY, pageurl: "https://a.example", action: "a b" }, "action");
    refuses({ type: "recaptcha_v2", sitekey: "short", pageurl: "https://a.example" }, "sitekey");
    refuses({ type: "recaptcha_v2", sitekey: SITEKEY, pageurl: "javascript:alert(1)" }, "pageurl");
    refuses({ type: "recaptcha_v2", sitekey: SITEKEY, pageurl: "not a url" }, "pageurl");
  });

  test("max_len 0 means no maximum, so any min_len goes", () => {
    assert.equal((parseTaskInput({ type: "image", image: PNG_B64, min_len: 5, max_len: 0 }) as { min_len: number }).min_len, 5);
  });

  test("a Cloudflare Challenge takes an HTTP or HTTPS proxy only, refused at intake on every API naming the proxy type (the upstream would refuse it ERROR_BAD_PROXY)", () => {
    const page = "https://example.com/";
    for (const type of ["HTTP", "https"]) assert.ok(readNativeTask({ type: "cloudflare_challenge", pageurl: page, proxy: "a:b@10.0.0.1:3128", proxytype: type }).ok, type);
    for (const type of ["SOCKS4", "socks5"]) {
      const verdicts: [TaskVerdict, string][] = [
        [readNativeTask({ type: "cloudflare_challenge", pageurl: page, proxy: "a:b@10.0.0.1:1080", proxytype: type }), "proxytype"],
        [readLegacyTask(new Map([["method", "cloudflare_challenge"], ["pageurl", page], ["proxy", "a:b@10.0.0.1:1080"], ["proxytype", type]])), "proxytype"],
        [readV2Task({ type: "AntiCloudflareTask", websiteURL: page, proxyType: type, proxyAddress: "10.0.0.1", proxyPort: 1080, proxyLogin: "a", proxyPassword: "b" }), "proxyType"],
      ];
      for (const [v, name] of verdicts) {
        assert.ok(!v.ok, `${type}: ${JSON.stringify(v)}`);
        assert.deepEqual({ field: v.refusal.field, name: v.refusal.name, code: v.refusal.code }, { field: "proxytype", name, code: "ERROR_BAD_PROXY" });
      }
    }
    // Other token types take every proxy type.
    assert.ok(readNativeTask({ type: "captchafox", sitekey: "sk-captchafox-0123", pageurl: page, proxy: "a:b@10.0.0.1:1080", proxytype: "SOCKS5" }).ok);
  });
});
