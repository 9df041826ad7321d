import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { digestsMatch, secretMatcher, sha256 } from "../../../src/base/secret_match.ts";

describe("secretMatcher", () => {
  test("secretMatcher takes the secret alone: not a prefix, an extension, another case or the empty string", () => {
    const matches = secretMatcher("peer-token-0123456789abcdef");
    assert.equal(matches("peer-token-0123456789abcdef"), true);
    for (const wrong of ["", "peer-token", "peer-token-0123456789abcdef ", "PEER-TOKEN-0123456789ABCDEF", "x".repeat(10_000)]) assert.equal(matches(wrong), false, wrong.slice(0, 20));
  });

  test("digestsMatch compares SHA-256 digests, and only digests of one length", () => {
    assert.equal(digestsMatch(sha256("a"), sha256("a")), true);
    assert.equal(digestsMatch(sha256("a"), sha256("b")), false);
    assert.equal(digestsMatch(sha256("a"), Buffer.alloc(3)), false);
    assert.equal(sha256("abc").toString("hex"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"); // FIPS 180-2's example
  });
});
