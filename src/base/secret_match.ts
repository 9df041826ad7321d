/**
 * Comparing a given value with a secret in constant time: both sides are SHA-256'd first, so the
 * comparison always runs over 32 bytes and neither the secret's length nor where a guess first
 * differs shows in the time taken (timingSafeEqual needs equal lengths). node:crypto is loaded at
 * the first matcher made, never at start (docs/sizing-and-performance.md, Performance).
 */
import { loadBuiltin } from "./builtin.ts";

/** The SHA-256 digest of `value` (UTF-8). */
export function sha256(value: string): Buffer {
  return loadBuiltin("node:crypto").createHash("sha256").update(value).digest();
}

/** Whether two digests made by sha256() are equal, in constant time. */
export function digestsMatch(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && loadBuiltin("node:crypto").timingSafeEqual(a, b);
}

/** A test of candidates against `secret`: true only for the secret itself, in constant time. */
export function secretMatcher(secret: string): (candidate: string) => boolean {
  const expected = sha256(secret);
  return (candidate) => digestsMatch(sha256(candidate), expected);
}
