import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { isProtocolCode, PROTOCOL_CODES } from "../../../src/base/error_registry.ts";
import { createRedactor } from "../../../src/base/redact.ts";
import type { Outcome } from "../../../src/upstream/outcome.ts";
import { classifyV2 } from "../../../src/upstream/v2_classify.ts";

const ok = (body: string, status = 200) => ({ status, contentType: "application/json", body });
const readTaskId = (r: Readonly<Record<string, unknown>>): Outcome<string> | undefined => (typeof r.taskId === "number" ? { kind: "ok", value: String(r.taskId) } : undefined);

describe("classifyV2", () => {
  test("errorId 0 is read by the caller, as a number or its text", () => {
    assert.deepEqual(classifyV2(ok('{"errorId":0,"taskId":7}'), readTaskId), { kind: "ok", value: "7" });
    assert.deepEqual(classifyV2(ok('{"errorId":"0","taskId":7}'), readTaskId), { kind: "ok", value: "7" });
  });

  test("an object without a usable errorId is no answer of the protocol", () => {
    for (const body of ['{"taskId":7}', '{"errorId":-1,"taskId":7}', '{"errorId":"zero"}', '{"errorId":1.5}', "[1,2]", '{"errorId":0']) {
      assert.equal(classifyV2(ok(body), readTaskId).kind, "transient", body);
    }
  });

  test("a refusal is classified by its code whatever the HTTP status, not delivered when transient", () => {
    const r = classifyV2(ok('{"errorId":1,"errorCode":"ERROR_SERVICE_UNAVALIABLE","errorDescription":"Service is temporarily unavailable"}', 400), readTaskId);
    assert.deepEqual(r, { kind: "transient", code: "ERROR_SERVICE_UNAVALIABLE", message: 'The upstream answered "ERROR_SERVICE_UNAVALIABLE": "Service is temporarily unavailable".', maybeDelivered: false });
    assert.equal(classifyV2(ok('{"errorId":1,"errorCode":"ERROR_KEY_DENIED_ACCESS"}', 401), readTaskId).kind, "fatal_account");
  });

  test("the key is redacted from the code, the description and the result", () => {
    const key = "abcdefabcdefabcdefabcdefabcdef12";
    const redact = createRedactor([key]);
    const refused = classifyV2(ok(`{"errorId":1,"errorCode":"ERROR_${key}","errorDescription":"key ${key} unknown"}`), readTaskId, { redact });
    assert.ok(!JSON.stringify(refused).includes(key), JSON.stringify(refused));
    const read = classifyV2(ok(`{"errorId":0,"solution":{"text":"${key}"}}`), (r) => ({ kind: "ok", value: r }), { redact });
    assert.ok(!JSON.stringify(read).includes(key));
  });

  test("every code the JSON APIs' pages list is registered, with an upstream class", () => {
    const codes = [
      "ERROR_KEY_DOES_NOT_EXIST", "ERROR_NO_SLOT_AVAILABLE", "ERROR_ZERO_CAPTCHA_FILESIZE", "ERROR_TOO_BIG_CAPTCHA_FILESIZE", "ERROR_ZERO_BALANCE",
      "ERROR_IP_NOT_ALLOWED", "ERROR_CAPTCHA_UNSOLVABLE", "ERROR_BAD_DUPLICATES", "ERROR_NO_SUCH_METHOD", "ERROR_IMAGE_TYPE_NOT_SUPPORTED",
      "ERROR_NO_SUCH_CAPCHA_ID", "ERROR_EMPTY_COMMENT", "ERROR_IP_BLOCKED", "ERROR_TASK_NOT_SUPPORTED", "ERROR_INCORRECT_SESSION_DATA",
      "ERROR_PROXY_CONNECT_REFUSED", "ERROR_PROXY_CONNECT_TIMEOUT", "ERROR_PROXY_READ_TIMEOUT", "ERROR_PROXY_BANNED", "ERROR_PROXY_TRANSPARENT",
      "ERROR_RECAPTCHA_TIMEOUT", "ERROR_RECAPTCHA_INVALID_SITEKEY", "ERROR_RECAPTCHA_INVALID_DOMAIN", "ERROR_RECAPTCHA_OLD_BROWSER",
      "ERROR_TOKEN_EXPIRED", "ERROR_PROXY_HAS_NO_IMAGE_SUPPORT", "ERROR_PROXY_INCOMPATIBLE_HTTP_VERSION", "ERROR_PROXY_NOT_AUTHORISED",
      "ERROR_INVISIBLE_RECAPTCHA", "ERROR_FAILED_LOADING_WIDGET", "ERROR_ACCOUNT_SUSPENDED", "ERROR_TASK_TYPE_DEPRECATED",
      "ERROR_BAD_PARAMETERS", "ERROR_BAD_IMGINSTRUCTIONS", "ERROR_BAD_PROXY",
      "ERROR_SERVICE_UNAVALIABLE", "ERROR_RATE_LIMIT", "ERROR_INVALID_TASK_DATA", "ERROR_BAD_REQUEST", "ERROR_TASKID_INVALID", "ERROR_TASK_TIMEOUT",
      "ERROR_SETTLEMENT_FAILED", "ERROR_KEY_DENIED_ACCESS", "ERROR_UNKNOWN_QUESTION",
      "ERROR_IP_BANNED", "ERROR_TOO_MUCH_REQUESTS", "ERROR_DOMAIN_NOT_ALLOWED", "WRONG_CAPTCHA_ID",
    ];
    const missing = codes.filter((c) => !isProtocolCode(c) || PROTOCOL_CODES[c].upstream === undefined);
    assert.deepEqual(missing, []);
  });

  test("no input makes it throw", () => {
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const pieces = ['{"errorId":', "0", "1", '"ERROR_X"', ',"errorCode":', '"errorDescription":', "null", "{", "}", "[", "]", '"', ",", "\\u0000", "\ud800", "<html>"];
    for (let i = 0; i < 2000; i++) {
      const body = Array.from({ length: 1 + Math.floor(rnd() * 12) }, () => pieces[Math.floor(rnd() * pieces.length)]).join("");
      const status = [200, 400, 401, 429, 500, 503][Math.floor(rnd() * 6)]!;
      const r = classifyV2({ status, contentType: "", body }, (x) => ({ kind: "ok", value: x }));
      assert.ok(["ok", "not_ready", "fatal_account", "back_off", "transient", "task_failed"].includes(r.kind), body);
    }
  });
});
