/**
 * Every JSON-API answer (anti-captcha's, CapSolver's, CapMonster Cloud's, api.2captcha.com's) becomes
 * one class, as in.php's do (classify.ts), through the same registry of codes. `{"errorId":0,...}`
 * is a result its caller reads; `{"errorId":N,"errorCode":"ERROR_...","errorDescription":"..."}` is
 * classified by its code whatever the HTTP status (CapSolver answers 400 and 401 with errorId 1,
 * docs.capsolver.com/guide/api-error). A coded refusal proves the service answered and created
 * nothing, so a transient one is not delivered: a submit it refused may go elsewhere. A description
 * saying the type is not taken ("unsupported captcha type", CapSolver's answer to a misnamed type in
 * capsolver-python#15, or "Not found X access") reads as ERROR_TASK_NOT_SUPPORTED, charged to nobody.
 * Pure and total: no input makes it throw; every quoted text is redacted.
 */
import { classifyCode, quote, redactDeep, safeCode, UNSUPPORTED_TEXT, type ClassifyOptions, type HttpAnswer } from "./classify.ts";
import type { Failure, Outcome } from "./outcome.ts";

/** CapSolver's answer for a type the account cannot use: "Not found HCaptchaTaskProxyLess access." */
const NO_ACCESS = /\bnot found \S+ access\b/i;
/** What some services answer while a task is being solved, in either spelling (CapMonster's error table: CAPTCHA_NOT_READY). */
const NOT_READY_CODES = new Set(["CAPCHA_NOT_READY", "CAPTCHA_NOT_READY"]);

/** An answer's object with `errorId` 0, every string in it redacted. */
export type V2Result = Readonly<Record<string, unknown>>;

/**
 * Classifies one JSON-API answer. `read` turns a success (`errorId` 0) into the call's outcome (an
 * id, a solution, not ready yet, a balance), or undefined when it is malformed.
 */
export function classifyV2<T>(answer: HttpAnswer, read: (result: V2Result) => Outcome<T> | undefined, options: ClassifyOptions = {}): Outcome<T> {
  const redact = options.redact ?? ((t: string) => t);
  try {
    const { status } = answer;
    const text = answer.body.trim();
    const obj = objectOf(text);
    const errorId = obj === undefined ? undefined : errorIdOf(obj.errorId);
    if (obj !== undefined && errorId === 0) {
      const result = read(redactDeep(obj, redact) as V2Result);
      return result ?? transient("BAD_BODY", `The upstream sent an unexpected result: ${quote(text, redact)}.`, true);
    }
    if (obj !== undefined && errorId !== undefined) return refusal(obj, errorId, redact);
    if (status === 429) return { kind: "back_off", code: "HTTP_429", message: "The upstream answered HTTP 429." };
    if (status === 503) return transient("HTTP_503", "The upstream answered HTTP 503.", false);
    if (status < 200 || status >= 300) return transient(`HTTP_${status}`, `The upstream answered HTTP ${status}.`, true);
    if (/^<|<html[\s>]/i.test(text.slice(0, 512))) return transient("HTML_BODY", `The upstream sent an HTML page: ${quote(text, redact)}.`, true);
    if (UNSUPPORTED_TEXT.test(text.slice(0, 512))) return classifyCode(text.slice(0, 512), redact) as Outcome<T>;
    return transient("BAD_BODY", `The upstream sent an unparseable body: ${quote(text, redact)}.`, true);
  } catch {
    return transient("BAD_BODY", "The upstream sent a body that could not be read.", true);
  }
}

/** A coded refusal: its code's class (the registry's), its description quoted in the message. */
function refusal(obj: Record<string, unknown>, errorId: number, redact: (t: string) => string): Failure | { kind: "not_ready" } {
  const rawCode = typeof obj.errorCode === "string" && obj.errorCode.trim() !== "" ? obj.errorCode.trim() : `ERROR_ID_${errorId}`;
  if (NOT_READY_CODES.has(rawCode)) return { kind: "not_ready" };
  const description = typeof obj.errorDescription === "string" ? obj.errorDescription : "";
  const classified = classifyCode(rawCode, redact);
  if (classified.kind === "not_ready") return classified;
  const code = classified.code;
  const message = `The upstream answered ${quote(code, redact)}${description === "" ? "" : `: ${quote(description, redact)}`}.`;
  if (classified.kind === "task_failed" && classified.blame !== "nobody" && (UNSUPPORTED_TEXT.test(description) || NO_ACCESS.test(description))) {
    return { kind: "task_failed", code: "ERROR_TASK_NOT_SUPPORTED", message, blame: "nobody" };
  }
  if (classified.kind === "transient") return { ...classified, message, maybeDelivered: false };
  return { ...classified, code: classified.kind === "task_failed" ? safeCode(code) : code, message };
}

/** `errorId` as a number (anti-captcha and 2captcha send a number; some send its text); undefined: not an errorId. */
function errorIdOf(v: unknown): number | undefined {
  const n = typeof v === "number" ? v : typeof v === "string" && /^\d{1,6}$/.test(v.trim()) ? Number(v) : Number.NaN;
  return Number.isInteger(n) && n >= 0 ? n : undefined;
}

function objectOf(text: string): Record<string, unknown> | undefined {
  if (!text.startsWith("{")) return undefined;
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function transient(code: string, message: string, maybeDelivered: boolean): Outcome<never> {
  return { kind: "transient", code, message, maybeDelivered };
}
