/**
 * Every CaptchaAI / 2captcha answer becomes one class (docs/upstream.md): ok, not_ready, fatal_account,
 * back_off, transient or task_failed, with the upstream's code kept. Pure and total: no input,
 * however hostile, makes it throw. Codes from the 2captcha API reference (in.php and res.php error
 * tables) and CaptchaAI's error-code page, which uses ERROR_ZERO_BALANCE also for "no free threads".
 */
import { PROTOCOL_CODES } from "../base/error_registry.ts";
import type { Blame, Failure, Outcome } from "./outcome.ts";

type Rule = { kind: "fatal_account" } | { kind: "back_off" } | { kind: "task_failed"; blame: Blame | "nobody" } | { kind: "transient" };

/**
 * The documented codes and what each does, from the registry (error_registry.ts). Unknown ERROR_*
 * codes fail only their task, charged to the worker; a type the upstream does not take
 * (`unsupported`) fails its task charged to nobody.
 */
export const CODE_RULES: Readonly<Record<string, Rule>> = Object.fromEntries(
  Object.entries(PROTOCOL_CODES).flatMap(([code, row]): [string, Rule][] => {
    if (row.upstream === undefined) return [];
    if (row.upstream === "task_failed") return [[code, { kind: "task_failed", blame: row.blame === "client" ? "client" : "worker" }]];
    if (row.upstream === "unsupported") return [[code, { kind: "task_failed", blame: "nobody" }]];
    return [[code, { kind: row.upstream }]];
  }),
);

/**
 * An answer in words saying the task's type is not taken ("Unsupported captcha type", as CapSolver
 * answers a misnamed task type; "captcha type not supported"): read as ERROR_TASK_NOT_SUPPORTED.
 */
export const UNSUPPORTED_TEXT = /unsupported[\s_-]+(?:captcha|task|method)(?:[\s_-]+type)?|(?:captcha|task)[\s_-]+type[\s_-]+(?:is[\s_-]+)?not[\s_-]+supported/i;
const UNSUPPORTED_CODE = "ERROR_TASK_NOT_SUPPORTED";

export const NOT_READY = "CAPCHA_NOT_READY";
const MAX_QUOTE = 200;

export interface HttpAnswer {
  status: number;
  contentType: string;
  body: string;
}

export interface ClassifyOptions {
  /** Makes quoted upstream text safe to show (redacts the key). */
  redact?: (text: string) => string;
}

/** Classifies an upstream code such as `ERROR_ZERO_BALANCE` (as `json=1` or plain text sends it). */
export function classifyCode(rawCode: string, redact: (t: string) => string = (t) => t): Failure | { kind: "not_ready" } {
  const code = normalizeCode(rawCode);
  if (code === NOT_READY) return { kind: "not_ready" };
  const rule = Object.hasOwn(CODE_RULES, code) ? CODE_RULES[code]! : undefined;
  const message = `The upstream answered ${quote(code, redact)}.`;
  if (!rule && UNSUPPORTED_TEXT.test(code)) return { kind: "task_failed", code: UNSUPPORTED_CODE, message, blame: "nobody" };
  // An unknown code is upstream text shown as the task's error.code: redacted like any quote.
  if (!rule) return { kind: "task_failed", code: safeCode(redact(code)), message, blame: "worker" };
  switch (rule.kind) {
    case "task_failed":
      return { kind: "task_failed", code, message, blame: rule.blame };
    case "transient":
      return { kind: "transient", code, message, maybeDelivered: true };
    default:
      return { kind: rule.kind, code, message };
  }
}

/**
 * Classifies one HTTP answer of in.php or res.php. `value` turns the protocol's `request` text of a
 * success into the result (an id, a solution, a balance), or returns undefined when it is malformed.
 */
export function classifyResponse<T>(answer: HttpAnswer, value: (request: string) => T | undefined, options: ClassifyOptions = {}): Outcome<T> {
  return classifyAnswer(answer, (a) => (typeof a.request === "string" ? value(a.request) : undefined), options);
}

/**
 * A successful answer as it came: `request` a text or, in json=1, whatever JSON value the upstream
 * sent (GeeTest's answer is an object), and the answer's other top-level fields (`user_agent`).
 * Every string in both is redacted.
 */
export interface RawAnswer {
  request: unknown;
  fields: Readonly<Record<string, unknown>>;
}

/** classifyResponse for answers whose `request` may be more than text (a poll's solution). */
export function classifyAnswer<T>(answer: HttpAnswer, value: (a: RawAnswer) => T | undefined, options: ClassifyOptions = {}): Outcome<T> {
  const redact = options.redact ?? ((t: string) => t);
  try {
    const { status, body } = answer;
    if (status === 429) return { kind: "back_off", code: "HTTP_429", message: "The upstream answered HTTP 429." };
    if (status === 503) return transient("HTTP_503", "The upstream answered HTTP 503.", false);
    if (status >= 500) return transient(`HTTP_${status}`, `The upstream answered HTTP ${status}.`, true);
    if (status < 200 || status >= 300) return transient(`HTTP_${status}`, `The upstream answered HTTP ${status}.`, true);
    const text = body.trim();
    if (/^<|<html[\s>]/i.test(text.slice(0, 512))) {
      return transient("HTML_BODY", `The upstream sent an HTML page: ${quote(text, redact)}.`, true);
    }
    const parsed = parseAnswer(text);
    if (!parsed && UNSUPPORTED_TEXT.test(text.slice(0, 512))) return classifyCode(text.slice(0, 512), redact);
    if (!parsed) return transient("BAD_BODY", `The upstream sent an unparseable body: ${quote(text, redact)}.`, true);
    if (parsed.ok) {
      // A result (a solution above all) is upstream text the client reads back: never with the key in it.
      const v = value({ request: redactDeep(parsed.request, redact), fields: redactDeep(parsed.fields, redact) as Record<string, unknown> });
      if (v === undefined) return transient("BAD_BODY", `The upstream sent an unexpected result: ${quote(textOf(parsed.request), redact)}.`, true);
      return { kind: "ok", value: v };
    }
    if (typeof parsed.request !== "string") return transient("BAD_BODY", `The upstream sent an unparseable error: ${quote(textOf(parsed.request), redact)}.`, true);
    return classifyCode(parsed.request, redact);
  } catch {
    return transient("BAD_BODY", "The upstream sent a body that could not be read.", true);
  }
}

/** Every string in a JSON value redacted (a depth-bounded copy; deeper values are dropped). */
export function redactDeep(v: unknown, redact: (t: string) => string, depth = 0): unknown {
  if (typeof v === "string") return redact(v);
  if (typeof v !== "object" || v === null || depth > 4) return typeof v === "object" ? undefined : v;
  if (Array.isArray(v)) return v.map((x) => redactDeep(x, redact, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) if (k !== "__proto__") out[k] = redactDeep(x, redact, depth + 1);
  return out;
}

const textOf = (v: unknown): string => (typeof v === "string" ? v : JSON.stringify(v) ?? String(v));

/** The `json=1` shape `{"status":1,"request":...}` (its other fields kept), or the plain `OK|...` / bare code form. */
function parseAnswer(text: string): { ok: boolean; request: unknown; fields: Record<string, unknown> } | undefined {
  if (text.startsWith("{")) {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return undefined;
    }
    if (typeof json !== "object" || json === null || Array.isArray(json)) return undefined;
    const o = json as Record<string, unknown>;
    const request = Object.hasOwn(o, "request") ? o.request : undefined;
    const status = Object.hasOwn(o, "status") ? o.status : undefined;
    const ok = status === 1 || status === "1";
    if (!ok && status !== 0 && status !== "0") return undefined;
    const fields = Object.fromEntries(Object.entries(o).filter(([k]) => k !== "request" && k !== "status"));
    if (typeof request === "string" || typeof request === "number") return { ok, request: String(request), fields };
    // GeeTest's and Lemin's solutions are objects (2captcha's reference: "always JSON").
    if (ok && typeof request === "object" && request !== null) return { ok, request, fields };
    return undefined;
  }
  if (text.startsWith("OK|")) return { ok: true, request: text.slice(3), fields: {} };
  if (text === "OK_REPORT_RECORDED") return { ok: true, request: text, fields: {} };
  if (/^(?:ERROR[_: A-Z0-9]*|[A-Z_]{4,64}|-?[0-9]+(?:\.[0-9]+)?)$/.test(text)) {
    // A bare number is getbalance's plain answer (an overdrawn account may show a negative one);
    // a bare code is an error or CAPCHA_NOT_READY.
    return /^-?[0-9]/.test(text) ? { ok: true, request: text, fields: {} } : { ok: false, request: text, fields: {} };
  }
  return undefined;
}

function normalizeCode(code: string): string {
  const c = code.trim();
  return /^ERROR:\s*100[1-5]$/.test(c) ? `ERROR: ${c.slice(-4)}` : c;
}

/** A code fit for a label or a JSON field: printable, bounded. */
export function safeCode(code: string): string {
  const clean = code.replace(/[^\x20-\x7e]/g, "?").slice(0, 64);
  return clean || "UNKNOWN";
}

function transient(code: string, message: string, maybeDelivered: boolean): Outcome<never> {
  return { kind: "transient", code, message, maybeDelivered };
}

/** Upstream text for a message: control characters dropped, truncated, the key redacted. */
export function quote(text: string, redact: (t: string) => string): string {
  // Redact the whole text first: cutting before redacting could leave part of a key behind.
  // Lone surrogates (a JSON "\ud800") become U+FFFD: JSON.stringify would spell each in 6 characters.
  const clean = redact(text).slice(0, MAX_QUOTE + 1).replace(/[\x00-\x1f\x7f]+/g, " ").replace(/[\ud800-\udfff]/gu, "\ufffd");
  return JSON.stringify(clean.length > MAX_QUOTE ? clean.slice(0, MAX_QUOTE) + "..." : clean);
}
