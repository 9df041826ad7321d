import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { keySpellings } from "../../_support/key_spellings.ts";
import { base64Needles, createRedactor, REDACTED } from "../../../src/base/redact.ts";

const KEYS = ["0123456789abcdef0123456789abcdef", "k!e'y(w)i~th spa*ce-._/+=&<>\"\\é"];
describe("createRedactor", () => {
  for (const key of KEYS) {
    for (const [name, spelled] of Object.entries(keySpellings(key))) {
      test(`redacts the ${name} spelling of ${JSON.stringify(key.slice(0, 8))}`, () => {
        const out = createRedactor([key])(`before ${spelled} after`);
        assert.ok(out.includes(REDACTED), out);
        assert.ok(!out.includes(key), out);
        for (const needle of base64Needles(key)) assert.ok(!out.includes(needle), `${needle} left in ${out}`);
      });
    }
  }

  test("the form encoding covers the characters URLSearchParams encodes and encodeURIComponent does not", () => {
    const key = "a!b'c(d)e~f";
    assert.equal(new URLSearchParams({ k: key }).toString(), "k=a%21b%27c%28d%29e%7Ef");
    assert.equal(createRedactor([key])("key=a%21b%27c%28d%29e%7ef&json=1"), `key=${REDACTED}&json=1`);
  });

  test("leaves text without the key alone, and short keys get no base64 needles", () => {
    assert.equal(createRedactor(KEYS)("nothing to see: MDEy abc%20def"), "nothing to see: MDEy abc%20def");
    assert.deepEqual(base64Needles("abc"), []);
  });
});

describe("SecretSet", () => {
  test("redacts every secret added so far, the old ones too, and ignores empty and repeated ones", async () => {
    const { SecretSet } = await import("../../../src/base/redact.ts");
    const set = new SecretSet(["first-secret-0123456789", undefined, ""]);
    assert.equal(set.redact("a first-secret-0123456789 b"), "a [REDACTED] b");
    set.add("second-secret-9876543210");
    set.add("second-secret-9876543210");
    assert.equal(set.redact("first-secret-0123456789 second-secret-9876543210"), "[REDACTED] [REDACTED]");
    assert.equal(new SecretSet().redact("nothing to hide"), "nothing to hide");
  });
});
