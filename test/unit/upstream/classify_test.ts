import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { classifyCode, classifyResponse, CODE_RULES } from "../../../src/upstream/classify.ts";
import { mulberry32, randomString } from "../../../src/sim/prng.ts";
import { TRANSPORT_CODES } from "../../../src/base/error_registry.ts";

const KINDS = new Set(["ok", "not_ready", "fatal_account", "back_off", "transient", "task_failed"]);
const id = (r: string) => (r.length > 0 ? r : undefined);
const answer = (body: string, status = 200) => ({ status, contentType: "application/json", body });

describe("classifyCode", () => {
  const table: Array<[string, string, string?]> = [
    ["ERROR_WRONG_USER_KEY", "fatal_account"],
    ["ERROR_KEY_DOES_NOT_EXIST", "fatal_account"],
    ["ERROR_IP_NOT_ALLOWED", "fatal_account"],
    ["IP_BANNED", "fatal_account"],
    ["ERROR_ZERO_BALANCE", "back_off"],
    ["ERROR_NO_SLOT_AVAILABLE", "back_off"],
    ["MAX_USER_TURN", "back_off"],
    ["ERROR: 1001", "back_off"],
    ["ERROR: 1005", "back_off"],
    ["ERROR:1003", "back_off"],
    ["ERROR_CAPTCHA_UNSOLVABLE", "task_failed", "worker"],
    ["ERROR_WRONG_CAPTCHA_ID", "task_failed", "worker"],
    ["ERROR_BAD_DUPLICATES", "task_failed", "worker"],
    ["ERROR_ZERO_CAPTCHA_FILESIZE", "task_failed", "client"],
    ["ERROR_TOO_BIG_CAPTCHA_FILESIZE", "task_failed", "client"],
    ["ERROR_WRONG_FILE_EXTENSION", "task_failed", "client"],
    ["ERROR_IMAGE_TYPE_NOT_SUPPORTED", "task_failed", "client"],
    ["ERROR_UPLOAD", "task_failed", "client"],
    ["ERROR_PAGEURL", "task_failed", "client"],
    ["ERROR_GOOGLEKEY", "task_failed", "client"],
    ["ERROR_BAD_PARAMETERS", "task_failed", "client"],
    ["ERROR_BAD_TOKEN_OR_PAGEURL", "task_failed", "client"],
    ["ERROR_SOMETHING_NEW", "task_failed", "worker"],
    // CaptchaAI's error page, its examples and the blog's decision tree (docs/upstream.md)
    ["ERROR_EMPTY_CAPTCHA", "task_failed", "client"],
    ["ERROR_TOO_MUCH_REQUESTS", "back_off"],
    ["ERROR_IP_BANNED", "fatal_account"],
    ["ERROR_DOMAIN_NOT_ALLOWED", "task_failed", "client"],
    ["ERROR_NO_SUCH_CAPCHA_ID", "task_failed", "worker"],
    // A type the upstream does not take: nobody's fault
    ["ERROR_METHOD_CALL", "task_failed", "nobody"],
    ["ERROR_TASK_NOT_SUPPORTED", "task_failed", "nobody"],
    ["ERROR_TASK_TYPE_DEPRECATED", "task_failed", "nobody"],
    ["ERROR_NO_SUCH_METHOD", "task_failed", "nobody"],
  ];
  for (const [code, kind, blame] of table) {
    test(`${code} is ${kind}${blame ? ` (${blame})` : ""}`, () => {
      const c = classifyCode(code);
      assert.equal(c.kind, kind);
      if (blame) assert.equal((c as { blame: string }).blame, blame);
      if (c.kind !== "not_ready") assert.ok(c.code.startsWith(code.slice(0, 6)), c.code);
    });
  }

  test("an answer in words saying the type is unsupported is ERROR_TASK_NOT_SUPPORTED, charged to nobody, quoted in the message", () => {
    for (const text of ["Unsupported captcha type", "ERROR_UNSUPPORTED_CAPTCHA_TYPE", "unsupported task type: TurnstileTaskProxyLess", "Captcha type is not supported"]) {
      const c = classifyCode(text);
      assert.deepEqual({ kind: c.kind, code: (c as { code: string }).code, blame: (c as { blame: string }).blame }, { kind: "task_failed", code: "ERROR_TASK_NOT_SUPPORTED", blame: "nobody" }, text);
      assert.ok((c as { message: string }).message.includes(JSON.stringify(text)), text);
    }
    assert.equal((classifyCode("ERROR_SUPPORT_TICKET") as { code: string }).code, "ERROR_SUPPORT_TICKET", "other words stay the worker's unknown code");
  });

  test("CAPCHA_NOT_READY is not_ready", () => assert.deepEqual(classifyCode("CAPCHA_NOT_READY"), { kind: "not_ready" }));

  test("every rule in the table classifies to its own kind and keeps its code", () => {
    for (const [code, rule] of Object.entries(CODE_RULES)) {
      const c = classifyCode(code);
      assert.equal(c.kind, rule.kind, code);
      assert.equal("code" in c ? c.code : undefined, code);
    }
  });
});

describe("classifyResponse", () => {
  test("json=1 success with a numeric id gives a string id", () => {
    assert.deepEqual(classifyResponse(answer('{"status":1,"request":71234567890}'), id), { kind: "ok", value: "71234567890" });
    assert.deepEqual(classifyResponse(answer('{"status":"1","request":"abc"}'), id), { kind: "ok", value: "abc" });
  });

  test("json=1 errors and plain-text answers", () => {
    assert.equal(classifyResponse(answer('{"status":0,"request":"ERROR_ZERO_BALANCE"}'), id).kind, "back_off");
    assert.deepEqual(classifyResponse(answer("OK|12345"), id), { kind: "ok", value: "12345" });
    assert.equal(classifyResponse(answer("CAPCHA_NOT_READY"), id).kind, "not_ready");
    assert.equal(classifyResponse(answer("ERROR_WRONG_USER_KEY"), id).kind, "fatal_account");
    assert.deepEqual(classifyResponse(answer("3.1415"), (r) => Number(r)), { kind: "ok", value: 3.1415 });
  });

  test("an unsupported-type answer in json=1 or as plain text fails the task, charged to nobody", () => {
    const json = classifyResponse(answer('{"status":0,"request":"Unsupported captcha type"}'), id);
    assert.deepEqual(pick(json), { kind: "task_failed", code: "ERROR_TASK_NOT_SUPPORTED" });
    assert.equal((json as { blame: string }).blame, "nobody");
    assert.deepEqual(pick(classifyResponse(answer("Unsupported captcha type", 200), id)), { kind: "task_failed", code: "ERROR_TASK_NOT_SUPPORTED" });
    assert.deepEqual(pick(classifyResponse(answer('{"status":0,"request":"ERROR_METHOD_CALL"}'), id)), { kind: "task_failed", code: "ERROR_METHOD_CALL" });
  });

  test("HTTP statuses: 429 backs off, 503 is transient and undelivered, other 5xx may have been delivered", () => {
    assert.equal(classifyResponse(answer("", 429), id).kind, "back_off");
    assert.deepEqual(pick(classifyResponse(answer("", 503), id)), { kind: "transient", code: "HTTP_503", maybeDelivered: false });
    assert.deepEqual(pick(classifyResponse(answer("oops", 500), id)), { kind: "transient", code: "HTTP_500", maybeDelivered: true });
    assert.deepEqual(pick(classifyResponse(answer("", 404), id)), { kind: "transient", code: "HTTP_404", maybeDelivered: true });
  });

  test("the registry says of each HTTP status code what the classification does with a submit: 429 and 503 were not processed (another provider may take the task), 5xx may have been", () => {
    const delivered = (code: string) => (TRANSPORT_CODES as Record<string, { delivered: string }>)[code]?.delivered;
    // A submit's 429 backs off and moves the task to the next provider at once (RFC 6585: a refusal, not processed).
    assert.equal(classifyResponse(answer("", 429), id).kind, "back_off");
    assert.equal(delivered("HTTP_429"), "no");
    assert.deepEqual([pick(classifyResponse(answer("", 503), id)).maybeDelivered, delivered("HTTP_503")], [false, "no"]);
  });

  test("HTML pages, garbage and truncated JSON are transient", () => {
    assert.equal(pick(classifyResponse(answer("<html><body>502 Bad Gateway</body></html>"), id)).code, "HTML_BODY");
    assert.equal(pick(classifyResponse(answer('{"status":1,"req'), id)).code, "BAD_BODY");
    assert.equal(pick(classifyResponse(answer("\u0000\u0001binary"), id)).code, "BAD_BODY");
    assert.equal(pick(classifyResponse(answer('{"status":1,"request":""}'), id)).code, "BAD_BODY", "an empty id is not an id");
    assert.equal(pick(classifyResponse(answer("[1,2]"), id)).code, "BAD_BODY");
  });

  test("quoted upstream text is truncated and has the key redacted", () => {
    const key = "K3Y-9f8e7d6c5b4a";
    const body = `<html>${"x".repeat(50)} key=${key} ${"y".repeat(5000)}</html>`;
    const c = classifyResponse(answer(body), id, { redact: (t) => t.replaceAll(key, "[REDACTED]") });
    assert.equal(c.kind, "transient");
    const message = (c as { message: string }).message;
    assert.ok(!message.includes(key));
    assert.ok(message.includes("[REDACTED]"));
    assert.ok(message.length < 300, String(message.length));
    const many = classifyResponse(answer(`<p>${(key + " ").repeat(400)}</p>`), id, { redact: (t) => t.replaceAll(key, "[REDACTED]") });
    assert.ok(!(many as { message: string }).message.includes(key.slice(0, 8)));
  });

  test("never throws and always gives a known kind on hostile bodies (seeded, 3000 cases)", () => {
    const random = mulberry32(42);
    const shapes: Array<() => string> = [
      () => randomString(random, Math.floor(random() * 200), "\u0000\u00ff{}[]\":,ERROR_OK|0123456789abc<>"),
      () => "[".repeat(10_000 + Math.floor(random() * 10_000)),
      () => '{"status":1,"request":' + "{".repeat(5000) + "}".repeat(5000) + "}",
      () => JSON.stringify({ status: random() < 0.5 ? 1 : 0, request: random() < 0.5 ? random() * 1e20 : null, __proto__: { polluted: true } }),
      () => '{"__proto__":{"status":1},"request":"x"}',
      () => `{"status":${random()},"request":${JSON.stringify(randomString(random, 20, "ERROR_AB:1 "))}}`,
      () => "x".repeat(100_000),
      () => Buffer.from(Array.from({ length: 256 }, () => Math.floor(random() * 256))).toString("latin1"),
    ];
    for (let i = 0; i < 3000; i++) {
      const body = shapes[i % shapes.length]!();
      const status = [200, 200, 200, 404, 429, 500, 502, 503][Math.floor(random() * 8)]!;
      const c = classifyResponse({ status, contentType: "", body }, id);
      assert.ok(KINDS.has(c.kind), c.kind);
      if (c.kind !== "ok" && c.kind !== "not_ready") assert.ok(c.code.length > 0 && c.code.length <= 64, c.code);
    }
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });
});

function pick(c: ReturnType<typeof classifyResponse>): { kind: string; code?: string; maybeDelivered?: boolean } {
  const out: { kind: string; code?: string; maybeDelivered?: boolean } = { kind: c.kind };
  if ("code" in c) out.code = c.code;
  if ("maybeDelivered" in c) out.maybeDelivered = c.maybeDelivered;
  return out;
}
