import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { MAX_IMAGE_BASE64 } from "../../../src/tasks/task_fields.ts";
import { readLegacyTask, readV2Task, type TaskVerdict } from "../../../src/tasks/task_input.ts";
import { PNG_99_B64, PNG_B64, PNG_PLUS_SLASH_B64, pngOfSize } from "../../_support/images.ts";

const verdict = (o: Record<string, string>) => readLegacyTask(new Map(Object.entries(o)));
const p = (o: Record<string, string>) => {
  const v = verdict(o);
  if (!v.ok) assert.fail(`refused: ${JSON.stringify(v.refusal)}`);
  return v.params;
};
const codeOf = (v: TaskVerdict) => (v.ok ? "no error" : v.refusal.code);
const code = (o: Record<string, string>) => codeOf(verdict(o));
const image = (body: string) => verdict({ method: "base64", body });

describe("readLegacyTask", () => {
  test("readLegacyTask ignores what 2captcha ignores (soft_id, header_acao) and reads booleans as 1/0/true/false; a user agent is taken", () => {
    assert.deepEqual(p({ method: "userrecaptcha", googlekey: "6Le-sitekey-abc", pageurl: "https://a.example/", invisible: "false", soft_id: "3898", header_acao: "1", userAgent: "Mozilla/5.0" }),
      { type: "recaptcha_v2", sitekey: "6Le-sitekey-abc", pageurl: "https://a.example/", invisible: false, useragent: "Mozilla/5.0" });
    assert.equal(code({ method: "userrecaptcha", googlekey: "6Le-sitekey-abc", pageurl: "https://a.example/", invisible: "maybe" }), "ERROR_BAD_PARAMETERS");
  });

  test("readLegacyTask refuses each malformed field with 2captcha's code, naming the field", () => {
    const page = "https://a.example/";
    assert.equal(code({ method: "userrecaptcha", googlekey: "short", pageurl: page }), "ERROR_GOOGLEKEY");
    assert.equal(code({ method: "userrecaptcha", googlekey: "6Le-sitekey-abc", pageurl: "ftp://a.example/" }), "ERROR_PAGEURL");
    assert.equal(code({ method: "userrecaptcha", googlekey: "6Le-sitekey-abc", pageurl: page, version: "v9" }), "ERROR_BAD_PARAMETERS");
    assert.equal(code({ method: "userrecaptcha", version: "v3", googlekey: "6Le-sitekey-abc", pageurl: page, min_score: "high" }), "ERROR_BAD_PARAMETERS");
    assert.equal(code({ method: "base64", body: PNG_B64, min_len: "6", max_len: "4" }), "ERROR_BAD_PARAMETERS");
    assert.equal(code({ method: "base64", body: PNG_B64, textinstructions: "x".repeat(141) }), "ERROR_BAD_PARAMETERS");
    assert.equal(code({ method: "no_such_family" }), "ERROR_NO_SUCH_METHOD");
    assert.equal(code({}), "ERROR_ZERO_CAPTCHA_FILESIZE");
    const v = verdict({ method: "userrecaptcha", googlekey: "6Le-sitekey-abc", pageurl: page, version: "v9" });
    assert.ok(!v.ok && v.refusal.field === "version");
    const u = verdict({ method: "userrecaptcha", sitekey: "6Le-sitekey-abc", pageurl: "nope" });
    assert.ok(!u.ok && u.refusal.field === "pageurl" && u.refusal.name === "pageurl");
  });

  test("coordinatescaptcha=1 and canvas=1 (2captcha families the worker does not solve) are refused ERROR_NO_SUCH_METHOD naming the flag; 0 is a plain image or grid", () => {
    for (const [flag, extra] of [["coordinatescaptcha", {}], ["canvas", { recaptcha: "1", textinstructions: "outline the cat" }]] as const) {
      for (const method of ["base64", "post"]) {
        const v = verdict({ method, body: PNG_B64, file: PNG_B64, ...extra, [flag]: "1" });
        assert.ok(!v.ok && v.refusal.code === "ERROR_NO_SUCH_METHOD" && v.refusal.field === flag, `${method} ${flag}: ${JSON.stringify(v)}`);
      }
      assert.equal(p({ method: "base64", body: PNG_B64, ...extra, [flag]: "0" }).type, flag === "canvas" ? "grid" : "image");
    }
  });

  test("a base64 image takes data: prefixes, URL-safe letters and spaces from an unencoded +; refuses empty, too big and not base64", () => {
    // As a form leaves it: `+` unencoded reads as a space; URL-safe letters for `+` and `/`.
    const sent = PNG_PLUS_SLASH_B64.replace("+", " ").replaceAll("/", "_");
    const v = image(`data:image/png;base64,${sent}`);
    assert.ok(v.ok && v.params.type === "image" && v.params.image === PNG_PLUS_SLASH_B64);
    assert.equal(codeOf(image("")), "ERROR_ZERO_CAPTCHA_FILESIZE");
    assert.equal(codeOf(image("====")), "ERROR_ZERO_CAPTCHA_FILESIZE");
    assert.equal(codeOf(image("A".repeat(MAX_IMAGE_BASE64 + 4))), "ERROR_TOO_BIG_CAPTCHA_FILESIZE");
    assert.equal(codeOf(image("not*base64")), "ERROR_IMAGE_TYPE_NOT_SUPPORTED");
  });

  test("an image under 100 bytes is the client's mistake: ERROR_ZERO_CAPTCHA_FILESIZE naming the field; 100 bytes are taken", () => {
    const v = image(PNG_99_B64);
    assert.ok(!v.ok && v.refusal.code === "ERROR_ZERO_CAPTCHA_FILESIZE" && v.refusal.field === "image" && v.refusal.name === "body", JSON.stringify(v));
    assert.match(v.refusal.why, /99 bytes, under the 100-byte minimum/);
    assert.ok(image(pngOfSize(100).toString("base64")).ok);
  });

  test("method=post reads the image from a file part; a missing image is named as the API documents it (body)", () => {
    const v = verdict({ method: "post", file: PNG_B64 });
    assert.ok(v.ok && v.params.type === "image" && v.params.image === PNG_B64);
    const missing = verdict({ method: "post" });
    assert.ok(!missing.ok && missing.refusal.field === "image" && missing.refusal.name === "body" && missing.refusal.code === "ERROR_ZERO_CAPTCHA_FILESIZE");
  });
});

describe("readV2Task", () => {
  test("a JSON-API task maps its names onto the catalogue's fields, with the values its type name implies", () => {
    const v = readV2Task({ type: "RecaptchaV2EnterpriseTaskProxyless", websiteURL: "https://a.example/", websiteKey: "6Le-sitekey-abc", isInvisible: true });
    assert.ok(v.ok);
    assert.deepEqual(v.params, { type: "recaptcha_v2", sitekey: "6Le-sitekey-abc", pageurl: "https://a.example/", invisible: true, enterprise: true });
  });

  test("a missing, unknown or malformed task is refused with the JSON API's code", () => {
    assert.equal(codeOf(readV2Task(undefined)), "ERROR_TASK_ABSENT");
    assert.equal(codeOf(readV2Task({ type: "HCaptchaTaskProxyless" })), "ERROR_TASK_NOT_SUPPORTED");
    const v = readV2Task({ type: "RecaptchaV2TaskProxyless", websiteURL: "https://a.example/", websiteKey: { nested: 1 } });
    assert.ok(!v.ok && v.refusal.code === "ERROR_GOOGLEKEY" && v.refusal.name === "websiteKey" && v.refusal.field === "sitekey");
  });
});
