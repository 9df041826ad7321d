/**
 * What the createTask APIs answer, in each dialect's form: a solved task's `solution` object with the
 * names each service documents (anti-captcha's `gRecaptchaResponse`, `token`, GeeTest's `challenge`/
 * `validate`/`seccode`; CapSolver's `userAgent` beside a reCAPTCHA token and `cookies.cf_clearance`
 * for a Cloudflare Challenge), and a refusal: anti-captcha's `errorId` from its error list with HTTP
 * 200 (anti-captcha.com/apidoc/errors), CapSolver's `errorId` 1 with HTTP 400, 401 for a key it
 * refuses (docs.capsolver.com, api-error). The worker's client reads both (upstream/v2_classify.ts).
 */
import type { ServerResponse } from "node:http";
import { PROTOCOL_CODES, isProtocolCode } from "../base/error_registry.ts";
import type { TaskType } from "../tasks/task_catalogue.ts";
import type { Dialect } from "../tasks/task_dialects.ts";
import { DEFAULT_USER_AGENT, type SimAnswer } from "./sim_answers.ts";

/** The solution object of a solved task of `type` whose drawn answer is `answer` (sim_answers.ts), in `dialect`'s names. */
export function solutionObject(type: TaskType, answer: SimAnswer, userAgent: string | undefined, dialect: Dialect): Record<string, unknown> {
  const text = typeof answer === "string" ? answer : JSON.stringify(answer);
  const ua = userAgent === undefined ? {} : { userAgent };
  const obj = typeof answer === "object" ? answer : {};
  switch (type) {
    case "image":
      return { text };
    case "grid":
    case "bls":
      return { click: text.replace(/^click:/, "").replace(/[[\]\s]/g, "").split(/[/,]/).map(Number) };
    case "recaptcha_v2":
    case "recaptcha_v3":
      // CapSolver's getTaskResult page shows the user agent beside the token; anti-captcha's the token alone.
      return dialect === "capsolver" ? { gRecaptchaResponse: text, userAgent: userAgent ?? DEFAULT_USER_AGENT } : { gRecaptchaResponse: text, ...ua };
    case "cloudflare_challenge":
      return { cookies: { cf_clearance: text }, ...ua };
    case "geetest":
      return { challenge: obj.geetest_challenge, validate: obj.geetest_validate, seccode: obj.geetest_seccode };
    case "geetest_v4":
      return { ...obj };
    case "lemin":
      return { answer: obj.answer, challenge_id: obj.challenge_uuid };
    case "turnstile":
    case "captchafox":
    case "friendly_captcha":
      return { token: text, ...ua };
  }
}

/** Codes CapSolver answers with HTTP 401 rather than 400. */
const UNAUTHORIZED: ReadonlySet<string> = new Set(["ERROR_KEY_DENIED_ACCESS"]);

/** The `errorId` of `code` in a dialect: CapSolver's is always 1, anti-captcha's its error list's number (the registry's; 1 for a code not in it). */
export function errorIdOf(code: string, dialect: Dialect): number {
  if (dialect === "capsolver") return 1;
  return isProtocolCode(code) ? PROTOCOL_CODES[code].errorId : 1;
}

/** A refusal as the dialect sends it: `{errorId, errorCode, errorDescription}` with the dialect's HTTP status. */
export function sendRefusal(res: ServerResponse, dialect: Dialect, code: string, description?: string, extra: Record<string, unknown> = {}): void {
  const status = dialect === "capsolver" ? (UNAUTHORIZED.has(code) ? 401 : 400) : 200;
  const words = description ?? (isProtocolCode(code) ? PROTOCOL_CODES[code].meaning : code);
  sendJson(res, status, { errorId: errorIdOf(code, dialect), errorCode: code, errorDescription: words, ...extra });
}

export function sendJson(res: ServerResponse, status: number, value: Record<string, unknown>): void {
  if (res.destroyed) return;
  const body = JSON.stringify(value);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  res.end(body);
}
