import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ERROR_CODES, WorkerError, type WorkerErrorCode } from "../../../src/base/errors.ts";
import { HTTP_FORMS, problemFromError, rawProblemResponse } from "../../../src/http/problem.ts";

/** Every code's expected HTTP answer, written out here rather than read from the table under test. */
const EXPECTED: Record<WorkerErrorCode, { status: number; headers: Record<string, string> }> = {
  ERR_USAGE: { status: 500, headers: {} },
  ERR_CONFIG_INVALID: { status: 500, headers: {} },
  ERR_NO_API_KEY: { status: 500, headers: {} },
  ERR_CHECK_TIMEOUT: { status: 500, headers: {} },
  ERR_CHECK_FAILED: { status: 500, headers: {} },
  ERR_LISTEN: { status: 500, headers: {} },
  ERR_INTERNAL: { status: 500, headers: {} },
  ERR_BAD_REQUEST: { status: 400, headers: {} },
  ERR_UNAUTHORIZED: { status: 401, headers: { "www-authenticate": 'Bearer realm="captcha-worker"' } },
  ERR_NOT_FOUND: { status: 404, headers: {} },
  ERR_METHOD_NOT_ALLOWED: { status: 405, headers: { allow: "GET, HEAD" } },
  ERR_TIMEOUT: { status: 408, headers: {} },
  ERR_CONFLICT: { status: 409, headers: {} },
  ERR_BODY_TOO_LARGE: { status: 413, headers: { connection: "close" } },
  ERR_UNSUPPORTED_MEDIA_TYPE: { status: 415, headers: {} },
  ERR_EXPECTATION_FAILED: { status: 417, headers: { connection: "close" } },
  ERR_QUEUE_FULL: { status: 429, headers: { "retry-after": "5" } },
  ERR_CLIENT_LIMIT: { status: 429, headers: { "retry-after": "5" } },
  ERR_HEADERS_TOO_LARGE: { status: 431, headers: {} },
  // Retry-After from the error's data, none without (a type no provider takes is refused for good).
  ERR_TYPE_UNSUPPORTED: { status: 422, headers: {} },
  ERR_UPSTREAM_CODE: { status: 502, headers: {} },
  ERR_NOT_READY: { status: 503, headers: { "retry-after": "10" } },
  ERR_BUSY: { status: 503, headers: { "retry-after": "1", connection: "close" } },
  ERR_DRAINING: { status: 503, headers: { "retry-after": "10" } },
  ERR_OWNER_UNAVAILABLE: { status: 503, headers: {} },
  ERR_PEER_UNAUTHORIZED: { status: 403, headers: { connection: "close" } },
  ERR_PEER_MISADDRESSED: { status: 421, headers: {} },
  ERR_OWNER_MISADDRESSED: { status: 502, headers: {} },
  ERR_TOO_MANY_WAITS: { status: 429, headers: { "retry-after": "1" } },
  ERR_STATE_DIR: { status: 503, headers: { "retry-after": "10" } },
  ERR_STATE_DIR_BUSY: { status: 503, headers: { "retry-after": "10" } },
};

describe("problemFromError", () => {
  test("every registered code has one HTTP form: its status and headers", () => {
    assert.deepEqual(Object.keys(HTTP_FORMS).sort(), Object.keys(ERROR_CODES).sort());
    for (const code of Object.keys(ERROR_CODES) as WorkerErrorCode[]) {
      const p = problemFromError(new WorkerError(code, "why", { data: { allow: "GET, HEAD" } }));
      assert.equal(p.status, EXPECTED[code].status, code);
      assert.deepEqual(p.headers, EXPECTED[code].headers, code);
      assert.equal(p.code, code);
      assert.equal(p.detail, "why");
      assert.ok(p.title.length > 0, code);
    }
  });

  test("a Retry-After the registry leaves to the error comes from its data", () => {
    for (const code of ["ERR_TYPE_UNSUPPORTED", "ERR_OWNER_UNAVAILABLE"] as const) {
      assert.deepEqual(problemFromError(new WorkerError(code, "why", { data: { retryAfterS: 600 } })).headers, { "retry-after": "600" }, code);
    }
  });

  test("the 405's Allow comes from the error's data", () => {
    const p = problemFromError(new WorkerError("ERR_METHOD_NOT_ALLOWED", undefined, { data: { method: "PUT", allow: "POST" } }));
    assert.deepEqual(p.headers, { allow: "POST" });
    assert.equal(p.detail, "PUT is not allowed here; allowed: POST.");
    assert.equal(p.title, "Method Not Allowed");
  });

  test("carries the field of bad input", () => {
    const p = problemFromError(new WorkerError("ERR_BAD_REQUEST", "Invalid image: is empty.", { field: "image" }));
    assert.equal(p.field, "image");
    assert.equal(problemFromError(new WorkerError("ERR_NOT_FOUND")).field, undefined);
  });

  test("anything but a WorkerError is a 500 ERR_INTERNAL that tells nothing of its internals", () => {
    for (const thrown of [new Error("secret /etc/path"), "a string", undefined, { code: "ERR_BAD_REQUEST" }]) {
      const p = problemFromError(thrown);
      assert.equal(p.status, 500);
      assert.equal(p.code, "ERR_INTERNAL");
      assert.deepEqual(p.headers, {});
      assert.doesNotMatch(p.detail, /secret|string/);
    }
  });
});

describe("rawProblemResponse", () => {
  test("writes a whole HTTP/1.1 answer that closes the connection", () => {
    const raw = rawProblemResponse(new WorkerError("ERR_HEADERS_TOO_LARGE"));
    const [head, body] = raw.split("\r\n\r\n") as [string, string];
    const [statusLine, ...headerLines] = head.split("\r\n");
    assert.equal(statusLine, "HTTP/1.1 431 Request Header Fields Too Large");
    const headers = Object.fromEntries(headerLines.map((l) => l.split(": ") as [string, string]));
    assert.equal(headers["content-type"], "application/problem+json");
    assert.equal(headers["cache-control"], "no-store");
    assert.equal(headers.connection, "close");
    assert.equal(Number(headers["content-length"]), Buffer.byteLength(body));
    const problem = JSON.parse(body);
    assert.equal(problem.status, 431);
    assert.equal(problem.code, "ERR_HEADERS_TOO_LARGE");
    assert.equal(problem.type, "https://captcha-worker.invalid/problems/err-headers-too-large");
  });

  test("answers HEAD with the headers alone, content-length still the body's", () => {
    const raw = rawProblemResponse(new WorkerError("ERR_TIMEOUT"), true);
    assert.match(raw, /^HTTP\/1\.1 408 Request Timeout\r\n/);
    assert.ok(raw.endsWith("\r\n\r\n"));
    assert.match(raw, /content-length: [1-9]\d*\r\n/);
  });
});
