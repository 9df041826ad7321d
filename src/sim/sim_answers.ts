/**
 * The simulator's answers, each in the shape CaptchaAI documents for its method: text for an image,
 * `click:1/5/9` for a grid (cells from 1, left to right, top to bottom: 2captcha's API, grid
 * images), a JSON array of cells for BLS (CaptchaAI, BLS captcha), a token, a cf_clearance value,
 * GeeTest's three (v3) or five (v4) values and Lemin's answer/challenge_uuid (CaptchaAI's MCP
 * server) as objects. Drawn from the seeded PRNG, so a seed repeats them.
 */
import { randomString, type Random } from "./prng.ts";

export type AnswerShape =
  | { kind: "text" }
  | { kind: "grid"; cells: number }
  | { kind: "bls" }
  | { kind: "token"; prefix: string }
  | { kind: "cf_clearance" }
  | { kind: "geetest"; challenge: string }
  | { kind: "geetest_v4"; captchaId: string }
  | { kind: "lemin" };

/** A solution: text, or an object (json=1 sends it as `request` as it is; json=0 as JSON text after `OK|`). */
export type SimAnswer = string | Readonly<Record<string, string>>;

const TEXT = "abcdefghjkmnpqrstuvwxyz23456789";
const TOKEN = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const HEX = "0123456789abcdef";

/** The user agent answered beside a token when the task named none: a current desktop Chrome. */
export const DEFAULT_USER_AGENT = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

/** An answer of `shape`; `length` (memory benchmarks) makes a text answer that many characters long. */
export function drawAnswer(random: Random, shape: AnswerShape, nowMs: number, length?: number): SimAnswer {
  if (length !== undefined && (shape.kind === "text" || shape.kind === "token")) {
    const head = randomString(random, Math.min(length, 12), TEXT);
    return head + "x".repeat(length - head.length);
  }
  switch (shape.kind) {
    case "text":
      return randomString(random, 6, TEXT);
    case "grid":
      return `click:${cells(random, shape.cells).join("/")}`;
    case "bls":
      return JSON.stringify(cells(random, 9));
    case "token":
      return shape.prefix + randomString(random, 400, TOKEN);
    case "cf_clearance":
      return `${randomString(random, 43, TOKEN)}-${Math.floor(nowMs / 1000)}-1.2.1.1-${randomString(random, 120, TOKEN)}`;
    case "geetest": {
      const validate = randomString(random, 32, HEX);
      return { geetest_challenge: shape.challenge + randomString(random, 2, HEX), geetest_validate: validate, geetest_seccode: `${validate}|jordan` };
    }
    case "geetest_v4":
      return {
        captcha_id: shape.captchaId,
        lot_number: randomString(random, 32, HEX),
        pass_token: randomString(random, 64, HEX),
        gen_time: String(Math.floor(nowMs / 1000)),
        captcha_output: randomString(random, 120, TOKEN),
      };
    case "lemin":
      return { answer: `0x${randomString(random, 64, HEX)}`, challenge_uuid: uuid(random) };
  }
}

/** One to four distinct cells of 1..n, in order. */
function cells(random: Random, n: number): number[] {
  const picked = new Set<number>();
  const want = 1 + Math.floor(random() * Math.min(4, n));
  while (picked.size < want) picked.add(1 + Math.floor(random() * n));
  return [...picked].sort((a, b) => a - b);
}

function uuid(random: Random): string {
  const h = randomString(random, 32, HEX);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
