import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { HTML_PAGE, isSelector, parseFault, SELECTORS } from "../../../src/sim/faults.ts";

describe("parseFault", () => {
  test("reads every kind of fault, latency in snake_case or camelCase", () => {
    assert.deepEqual(parseFault({ latency_ms: 250, hang: false, html: true, garbage: false, drop: false, status: 502, error: "ERROR_NO_SLOT_AVAILABLE" }), {
      latencyMs: 250,
      hang: false,
      html: true,
      garbage: false,
      drop: false,
      status: 502,
      error: "ERROR_NO_SLOT_AVAILABLE",
    });
    assert.deepEqual(parseFault({ latencyMs: 0 }), { latencyMs: 0 });
    assert.deepEqual(parseFault({}), {});
  });

  test("accepts the protocol's spaced codes such as ERROR: 1001", () => {
    assert.equal(parseFault({ error: "ERROR: 1001" }).error, "ERROR: 1001");
  });

  test("refuses bad values with a message naming the field", () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ latency_ms: -1 }, /^latency_ms/],
      [{ latency_ms: 600_001 }, /^latency_ms/],
      [{ latency_ms: "5" }, /^latency_ms/],
      [{ hang: 1 }, /^hang/],
      [{ drop: "yes" }, /^drop/],
      [{ status: 199 }, /^status/],
      [{ status: 502.5 }, /^status/],
      [{ error: "lowercase" }, /^error/],
      [{ error: "E" }, /^error/],
    ];
    for (const [input, message] of cases) assert.throws(() => parseFault(input), { message }, JSON.stringify(input));
  });
});

describe("isSelector", () => {
  test("knows the endpoint selectors and nothing else", () => {
    for (const s of SELECTORS) assert.ok(isSelector(s));
    for (const s of ["res.php", "in.php ", "", 1, undefined]) assert.ok(!isSelector(s));
  });
});

describe("HTML_PAGE", () => {
  test("is an nginx-style error page carrying the status", () => {
    assert.match(HTML_PAGE(503), /<title>503 Bad Gateway<\/title>[\s\S]*nginx/);
  });
});
