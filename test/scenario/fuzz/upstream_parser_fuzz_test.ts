/**
 * Seeded fuzzing of the upstream answer classification (docs/upstream.md): hostile bodies, statuses and
 * content types straight into `classifyResponse`/`classifyCode`, then a smaller end-to-end part
 * where a scripted upstream on port 0 answers the real client with the same kind of garbage.
 * FUZZ_SEED and FUZZ_CASES repeat or widen a run; a failure names its seed and case.
 */
import assert from "node:assert/strict";
import type { ServerResponse } from "node:http";
import { describe, test } from "node:test";
import { PROTOCOL_CODES } from "../../../src/base/error_registry.ts";
import { createRedactor } from "../../../src/base/log.ts";
import { mulberry32, type Random } from "../../../src/sim/prng.ts";
import { classifyCode, classifyResponse, CODE_RULES } from "../../../src/upstream/classify.ts";
import { createCaptchaAiClient } from "../../../src/upstream/captchaai_client.ts";
import type { Outcome } from "../../../src/upstream/outcome.ts";
import type { TaskParams } from "../../../src/tasks/task_catalogue.ts";
import { FakeClock } from "../../_support/fake_clock.ts";
import { startScriptedUpstream } from "../../_support/scripted_upstream.ts";
import { PNG_B64 } from "../../_support/images.ts";

const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed_c0de) >>> 0;
const CASES = Math.max(1, Number(process.env.FUZZ_CASES ?? 6000));
const E2E_CASES = Math.max(1, Math.ceil(CASES / 12));
/** A CaptchaAI key looks like this: 32 hex digits. */
const KEY = "f3a9c1e07b2d4e6f8a0b1c2d3e4f5a6b";
const redact = createRedactor([KEY]);
const KINDS = new Set(["ok", "not_ready", "fatal_account", "back_off", "transient", "task_failed"]);
/** A quote is at most 200 characters of upstream text; JSON escaping may double `"` and `\`. */
const MAX_MESSAGE = 500;

const CODES = [...Object.keys(CODE_RULES), "CAPCHA_NOT_READY", "ERROR_SOMETHING_NEW", "ERROR:1004", "ERROR: 1003 ", "OK_REPORT_RECORDED"];
const REAL_ANSWERS = [
  '{"status":1,"request":"123"}',
  '{"status":1,"request":71234567890}',
  '{"status":"1","request":"2122988149"}',
  '{"status":1,"request":"03AGdBq24PBCbwiDRaS_MJ7Z...x9"}',
  '{"status":1,"request":"9.4213"}',
  '{"status":0,"request":"CAPCHA_NOT_READY"}',
  ...CODES.map((c) => JSON.stringify({ status: 0, request: c })),
  ...CODES.map((c) => JSON.stringify({ status: 0, request: c, error_text: `The key ${KEY} is wrong` })),
  "OK|123456",
  "OK|3.50",
  "CAPCHA_NOT_READY",
  "ERROR_WRONG_USER_KEY",
  "12.75",
];
const HTML = [
  "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>",
  "<!DOCTYPE html><html lang=en><title>Just a moment...</title><script>window._cf_chl_opt={}</script></html>",
  `<html><body>Error for key=${KEY}&action=get</body></html>`,
  "\n\n   <HTML><BODY>maintenance</BODY></HTML>",
  '<?xml version="1.0"?><error>nope</error>',
];
const CONTENT_TYPES = ["", "application/json", "text/plain", "text/html; charset=utf-8", "application/json; charset=latin1", "multipart/form-data; boundary=x", "\u0000", "x".repeat(300)];

const pick = <T>(r: Random, items: readonly T[]): T => items[Math.floor(r() * items.length)]!;
const int = (r: Random, min: number, max: number) => min + Math.floor(r() * (max - min + 1));

function randomBytes(r: Random, n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(r() * 256);
  return b;
}

/** `text` with the key spliced in at a random place (sometimes right at the 200-character quote cut). */
function withKey(r: Random, text: string): string {
  const at = r() < 0.3 ? Math.max(0, Math.min(text.length, 190 + int(r, -20, 20))) : int(r, 0, text.length);
  return text.slice(0, at) + KEY + text.slice(at);
}

/** Truncates, drops or flips a byte of a real answer. */
function mangle(r: Random, text: string): string {
  switch (int(r, 0, 4)) {
    case 0:
      return text.slice(0, int(r, 0, text.length - 1));
    case 1: {
      const i = int(r, 0, text.length - 1);
      return text.slice(0, i) + text.slice(i + 1);
    }
    case 2: {
      const i = int(r, 0, text.length - 1);
      return text.slice(0, i) + String.fromCharCode(int(r, 0, 0xffff)) + text.slice(i + 1);
    }
    case 3:
      return " \r\n\t".repeat(int(r, 0, 3)) + text + "\u0000".repeat(int(r, 0, 2));
    default:
      return text + text;
  }
}

/** One hostile body: garbage, a real answer mangled, HTML, huge, deeply nested, or carrying the key. */
function randomBody(r: Random): string {
  if (r() < 0.2) return pick(r, REAL_ANSWERS);
  switch (int(r, 0, 13)) {
    case 0:
      return randomBytes(r, int(r, 0, 300)).toString("utf8");
    case 1:
      return randomBytes(r, int(r, 0, 300)).toString("latin1");
    case 2:
      return mangle(r, pick(r, REAL_ANSWERS));
    case 3:
      return pick(r, REAL_ANSWERS);
    case 4:
      return pick(r, HTML) + (r() < 0.5 ? "x".repeat(int(r, 0, 3000)) : "");
    case 5:
      return withKey(r, "x".repeat(int(r, 0, 400)));
    case 6:
      // A huge body, the key somewhere in it.
      return withKey(r, pick(r, ["a", "<", "{", "\\", '"', "\u00e9", "\ud83d\ude00"]).repeat(int(r, 50_000, 400_000)));
    case 7:
      return JSON.stringify({ status: pick(r, [0, 1, "0", "1", 2, -1, null, true, 1.5]), request: pick<unknown>(r, [KEY, `ERROR_${KEY}`, int(r, 0, 1e9), 1e309, -0, null, [], {}, "", " ", "\u0000", "x".repeat(5000)]) });
    case 8:
      // The key escaped inside JSON: it appears only once the body is parsed.
      return `{"status":0,"request":"${[...`ERROR_${KEY}`].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`).join("")}"}`;
    case 9:
      return pick(r, ["[", "{", '{"status":1,"request":'])
        .concat("[".repeat(int(r, 1, 20_000)));
    case 10:
      return `{"__proto__":{"status":1,"request":"1"},"constructor":{"prototype":{"polluted":1}},"status":0,"request":${JSON.stringify(pick(r, CODES))}}`;
    case 11:
      return `{"status":1,"status":0,"request":"1","request":${JSON.stringify(pick(r, CODES))}}`;
    case 12:
      // Lone surrogates and escaped quotes, which JSON escaping makes longer.
      return JSON.stringify({ status: 0, request: pick(r, ["\ud800", '"', "\\", "\u2028", "\u0007"]).repeat(int(r, 1, 500)) });
    default:
      return pick(r, CODES) + (r() < 0.5 ? "" : pick(r, [" ", "\n", "|x", KEY]));
  }
}

function randomStatus(r: Random): number {
  return r() < 0.6 ? pick(r, [200, 200, 200, 200, 201, 204, 429, 500, 502, 503]) : int(r, 0, 999);
}

/** The value functions the real client passes (id, poll answer, balance, report), and a hostile one. */
const VALUE_FNS: Array<(request: string) => unknown> = [
  (r) => (/^[A-Za-z0-9_-]{1,64}$/.test(r.trim()) ? r.trim() : undefined),
  (r) => (r.length > 0 ? r : undefined),
  (r) => (r.trim() !== "" && Number.isFinite(Number(r.trim())) ? Number(r.trim()) : undefined),
  (r) => r,
  (r) => {
    if (r.length % 3 === 0) throw new Error(`value function failed on ${r}`);
    return r;
  },
];

/** Checks every invariant of one outcome; `where` names the case for a failure. */
function assertOutcome(c: Outcome<unknown> | ReturnType<typeof classifyCode>, where: string): void {
  assert.ok(KINDS.has(c.kind), `${where}: kind ${c.kind}`);
  if (c.kind === "ok") {
    assert.notEqual(c.value, undefined, `${where}: ok without a value`);
    return;
  }
  if (c.kind === "not_ready") return;
  assert.equal(typeof c.code, "string", where);
  assert.match(c.code, /^[\x20-\x7e]{1,64}$/, `${where}: code ${JSON.stringify(c.code)}`);
  assert.equal(typeof c.message, "string", where);
  assert.ok(c.message.length <= MAX_MESSAGE, `${where}: message of ${c.message.length} characters: ${c.message.slice(0, 120)}...`);
  assert.ok(!/[\x00-\x1f\x7f]/.test(c.message), `${where}: raw control characters in the message`);
  for (const text of [c.code, c.message]) assert.ok(!text.includes(KEY), `${where}: the key leaked: ${text.slice(0, 300)}`);
  if (c.kind === "transient") assert.equal(typeof c.maybeDelivered, "boolean", where);
  // "nobody": the upstream does not take the task's type (ERROR_METHOD_CALL, ...), neither health's fault nor the client's.
  if (c.kind === "task_failed") assert.ok(c.blame === "client" || c.blame === "worker" || (c.blame === "nobody" && UNSUPPORTED_CODES.has(c.code)), `${where}: blame ${c.blame} for ${c.code}`);
}

/** The codes of the registry's `unsupported` class, the only ones charged to nobody. */
const UNSUPPORTED_CODES = new Set(Object.entries(PROTOCOL_CODES).filter(([, row]) => row.upstream === "unsupported").map(([code]) => code));

describe("upstream answer classification, fuzzed", () => {
  test("classifyResponse never throws, always gives one of six kinds, bounded messages without the key", (t) => {
    const started = performance.now();
    const seen = new Map<string, number>();
    let longest = 0;
    let keyed = 0;
    for (let i = 0; i < CASES; i++) {
      const r = mulberry32((SEED ^ Math.imul(i + 1, 0x9e3779b1)) >>> 0);
      const answer = { status: randomStatus(r), contentType: pick(r, CONTENT_TYPES), body: randomBody(r) };
      const valueFn = pick(r, VALUE_FNS);
      if (answer.body.includes(KEY) || answer.body.includes("\\u0066\\u0033")) keyed++;
      const where = `FUZZ_SEED=${SEED} case ${i} (status ${answer.status}, body ${JSON.stringify(answer.body.slice(0, 80))}${answer.body.length > 80 ? "..." : ""})`;
      let c: Outcome<unknown>;
      try {
        c = classifyResponse(answer, valueFn, { redact });
      } catch (err) {
        assert.fail(`${where}: threw ${String(err)}`);
      }
      assertOutcome(c, where);
      seen.set(c.kind, (seen.get(c.kind) ?? 0) + 1);
      if ("message" in c) longest = Math.max(longest, c.message.length);
      // The status decides before the body does.
      if (answer.status === 429) assert.equal(c.kind, "back_off", where);
      else if (answer.status < 200 || answer.status >= 300) {
        assert.equal(c.kind, "transient", where);
        assert.equal((c as { code: string }).code, `HTTP_${answer.status}`, where);
      }
    }
    assert.equal(({} as Record<string, unknown>).polluted, undefined, "Object.prototype is not polluted");
    // Every kind was reached, so the generators cover the classifier's branches.
    assert.deepEqual([...seen.keys()].sort(), [...KINDS].sort(), JSON.stringify(Object.fromEntries(seen)));
    t.diagnostic(`FUZZ_SEED=${SEED} FUZZ_CASES=${CASES}: ${JSON.stringify(Object.fromEntries(seen))}; longest message ${longest} characters; ${keyed} bodies carried the key; ${Math.round(performance.now() - started)}ms`);
  });

  test("well-formed answers on HTTP 200 classify as the protocol says", () => {
    const id = (req: string) => (/^[A-Za-z0-9_-]{1,64}$/.test(req) ? req : undefined);
    for (const [code, rule] of Object.entries(CODE_RULES)) {
      for (const body of [JSON.stringify({ status: 0, request: code }), code, ` ${code}\n`]) {
        const c = classifyResponse({ status: 200, contentType: "text/plain", body }, id, { redact });
        assert.equal(c.kind, rule.kind, body);
        assert.equal((c as { code: string }).code, code.trim().replace(/^ERROR:\s*/, "ERROR: "), body);
      }
    }
    assert.equal(classifyResponse({ status: 200, contentType: "", body: '{"status":0,"request":"CAPCHA_NOT_READY"}' }, id).kind, "not_ready");
    assert.deepEqual(classifyResponse({ status: 200, contentType: "", body: '{"status":1,"request":123}' }, id), { kind: "ok", value: "123" });
  });

  test("classifyCode on random strings never throws and never quotes the key", () => {
    for (let i = 0; i < CASES; i++) {
      const r = mulberry32((SEED + i * 7919) >>> 0);
      const raw = r() < 0.3 ? withKey(r, randomBytes(r, int(r, 0, 100)).toString("latin1")) : r() < 0.5 ? mangle(r, pick(r, CODES)) : randomBytes(r, int(r, 0, 400)).toString("utf8");
      let c: ReturnType<typeof classifyCode>;
      try {
        c = classifyCode(raw, redact);
      } catch (err) {
        assert.fail(`FUZZ_SEED=${SEED} case ${i}: classifyCode threw ${String(err)} on ${JSON.stringify(raw.slice(0, 80))}`);
      }
      assertOutcome(c, `FUZZ_SEED=${SEED} case ${i} ${JSON.stringify(raw.slice(0, 80))}`);
      assert.notEqual(c.kind, "ok");
    }
  });

  test("the real client over a scripted upstream answering garbage: every call resolves to an outcome", async (t) => {
    const started = performance.now();
    const upstream = await startScriptedUpstream();
    // The fake clock moves only for 1xx answers (below): any other call must end without its
    // timeout, so a transport that hung on a broken answer fails here instead of hiding behind it.
    const clock = new FakeClock();
    const client = createCaptchaAiClient({ baseUrl: upstream.url, apiKey: KEY, clock, timeoutMs: 5000, maxBodyBytes: 65_536 });
    const seen = new Map<string, number>();
    let timedOut = 0;
    try {
      for (let i = 0; i < E2E_CASES; i++) {
        const r = mulberry32((SEED ^ Math.imul(i + 1, 0x85ebca6b)) >>> 0);
        const status = r() < 0.7 ? 200 : int(r, 100, 999);
        const contentType = pick(r, CONTENT_TYPES.slice(0, 6));
        const body = r() < 0.05 ? "y".repeat(int(r, 65_000, 200_000)) : randomBody(r);
        const misbehave = int(r, 0, 9);
        upstream.answer((_req, res: ServerResponse) => answerBadly(res, status, contentType, body, misbehave));
        const where = `FUZZ_SEED=${SEED} e2e case ${i} (status ${status}, misbehaviour ${misbehave}, body ${JSON.stringify(body.slice(0, 60))})`;
        const call = pick(r, ["submit", "poll", "balance", "report"] as const);
        const pending: Promise<Outcome<unknown>> =
          call === "submit" ? client.submit(pick(r, TASKS)) : call === "poll" ? client.poll(String(int(r, 1, 1e9))) : call === "balance" ? client.balance() : client.report("42", r() < 0.5);
        // A 1xx status is informational: the client rightly waits for a final answer that never
        // comes, and only its timeout ends the call.
        const informational = status < 200 && !(await settledWithin(pending, 100));
        if (informational) await clock.advance(5000);
        let c: Outcome<unknown>;
        try {
          c = await withDeadline(pending, 5000, where);
        } catch (err) {
          assert.fail(`${where}: ${call} rejected: ${String(err)}`);
        }
        assertOutcome(c, where);
        if (informational) {
          // Its timeout ends it, or, on a loaded machine, the bytes sent after the 1xx head arriving
          // past the 100 ms look: the parser refuses them (NETWORK). Either is a transient, never a hang.
          assert.equal(c.kind, "transient", where);
          assert.ok(["TIMEOUT", "NETWORK"].includes((c as { code: string }).code), `${where}: ${(c as { code: string }).code}`);
          timedOut++;
        }
        if (c.kind === "ok" && call === "submit") assert.match(c.value as string, /^[A-Za-z0-9_-]{1,64}$/, where);
        if (c.kind === "ok" && call === "balance") assert.ok(Number.isFinite(c.value), where);
        if (c.kind === "ok" && call === "poll") {
          // A poll's request is the solution as it came: text (never empty) or an object, the key redacted from both.
          const request = (c.value as { request: unknown }).request;
          assert.ok(typeof request === "object" ? request !== null : String(request).length > 0, where);
          assert.ok(!JSON.stringify(c.value).includes(KEY), `${where}: the key never reaches a solution`);
        }
        seen.set(c.kind, (seen.get(c.kind) ?? 0) + 1);
      }
      for (const req of upstream.requests) assert.ok(!req.url.includes(KEY), "the key never rides in a URL");
    } finally {
      client.close();
      await upstream.close();
    }
    assert.ok((seen.get("ok") ?? 0) > 0 && (seen.get("transient") ?? 0) > 0, JSON.stringify(Object.fromEntries(seen)));
    t.diagnostic(`FUZZ_SEED=${SEED} e2e cases ${E2E_CASES}: ${JSON.stringify(Object.fromEntries(seen))}, ${timedOut} ended by their timeout (1xx); ${Math.round(performance.now() - started)}ms`);
  });
});

const TASKS: TaskParams[] = [
  { type: "image", image: PNG_B64 },
  { type: "recaptcha_v2", sitekey: "6Le-sitekey-abc", pageurl: "https://example.com/" },
  { type: "turnstile", sitekey: "0x4AAAAAAA", pageurl: "https://example.com/" },
];

/** Answers as a broken upstream might: plainly, chunked, cut short, lying about its length, or not at all. */
function answerBadly(res: ServerResponse, status: number, contentType: string, body: string, misbehave: number): void {
  const headers: Record<string, string> = contentType ? { "content-type": contentType } : {};
  switch (misbehave) {
    case 0:
      // Cut the connection before any answer.
      return void res.socket?.destroy();
    case 1: {
      // Headers and part of the body, then the connection goes.
      res.writeHead(status, { ...headers, "content-length": String(Buffer.byteLength(body) + 10) });
      res.write(body.slice(0, Math.floor(body.length / 2)));
      return void setImmediate(() => res.socket?.destroy());
    }
    case 2:
      // Chunked, in pieces.
      res.writeHead(status, headers);
      for (let i = 0; i < body.length; i += 7) res.write(body.slice(i, i + 7));
      return void res.end();
    case 3:
      // A status line only, raw on the socket, then close.
      return void res.socket?.end(`HTTP/1.1 ${status} X\r\n\r\n${body.slice(0, 100)}`);
    case 4:
      // Not HTTP at all.
      return void res.socket?.end(`${body.slice(0, 200)}\r\n\r\n`);
    default:
      res.writeHead(status, headers);
      return void res.end(body);
  }
}

/** True when `p` settles within `ms` of real time (loopback answers take well under that). */
async function settledWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  const done = p.then(() => true, () => true);
  return Promise.race([done, late]).finally(() => clearTimeout(timer));
}

function withDeadline<T>(p: Promise<T>, ms: number, where: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${where}: no outcome within ${ms}ms (hung)`)), ms);
  });
  return Promise.race([p, deadline]).finally(() => clearTimeout(timer));
}
