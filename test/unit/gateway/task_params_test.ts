import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { GatewayError } from "../../../src/gateway/errors.ts";
import { base64Image, legacyTaskParams, MAX_IMAGE_BASE64 } from "../../../src/gateway/task_params.ts";

const p = (o: Record<string, string>) => legacyTaskParams(new Map(Object.entries(o)));
const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return err instanceof GatewayError ? err.code : "not a GatewayError";
  }
  return "no error";
};

describe("legacyTaskParams", () => {
  test("legacyTaskParams ignores what 2captcha ignores (soft_id, header_acao, proxy, userAgent) and reads booleans as 1/0/true/false", () => {
    assert.deepEqual(p({ method: "userrecaptcha", googlekey: "6Le-sitekey-abc", pageurl: "https://a.example/", invisible: "false", soft_id: "3898", proxy: "x", userAgent: "y" }),
      { type: "recaptcha_v2", sitekey: "6Le-sitekey-abc", pageurl: "https://a.example/", invisible: false });
    assert.equal(code(() => p({ method: "userrecaptcha", googlekey: "6Le-sitekey-abc", pageurl: "https://a.example/", invisible: "maybe" })), "ERROR_BAD_PARAMETERS");
  });

  test("legacyTaskParams refuses each malformed field with 2captcha's code", () => {
    const page = "https://a.example/";
    assert.equal(code(() => p({ method: "userrecaptcha", googlekey: "short", pageurl: page })), "ERROR_GOOGLEKEY");
    assert.equal(code(() => p({ method: "userrecaptcha", googlekey: "6Le-sitekey-abc", pageurl: "ftp://a.example/" })), "ERROR_PAGEURL");
    assert.equal(code(() => p({ method: "userrecaptcha", googlekey: "6Le-sitekey-abc", pageurl: page, version: "v9" })), "ERROR_BAD_PARAMETERS");
    assert.equal(code(() => p({ method: "userrecaptcha", version: "v3", googlekey: "6Le-sitekey-abc", pageurl: page, min_score: "high" })), "ERROR_BAD_PARAMETERS");
    assert.equal(code(() => p({ method: "base64", body: "aGVsbG8=", min_len: "6", max_len: "4" })), "ERROR_BAD_PARAMETERS");
    assert.equal(code(() => p({ method: "base64", body: "aGVsbG8=", textinstructions: "x".repeat(141) })), "ERROR_BAD_PARAMETERS");
    assert.equal(code(() => p({ method: "geetest" })), "ERROR_NO_SUCH_METHOD");
    assert.equal(code(() => p({})), "ERROR_ZERO_CAPTCHA_FILESIZE");
  });

  test("base64Image takes data: prefixes, URL-safe letters and spaces from an unencoded +; refuses empty, too big and not base64", () => {
    assert.equal(base64Image("data:image/png;base64,aGVs bG8-_w"), "aGVs+bG8+/w");
    assert.equal(code(() => base64Image("")), "ERROR_ZERO_CAPTCHA_FILESIZE");
    assert.equal(code(() => base64Image("====")), "ERROR_ZERO_CAPTCHA_FILESIZE");
    assert.equal(code(() => base64Image("A".repeat(MAX_IMAGE_BASE64 + 4))), "ERROR_TOO_BIG_CAPTCHA_FILESIZE");
    assert.equal(code(() => base64Image("not*base64")), "ERROR_IMAGE_TYPE_NOT_SUPPORTED");
  });
});
