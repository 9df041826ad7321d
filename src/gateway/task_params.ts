/**
 * 2captcha's in.php parameters (strings, as any client sends them) into the worker's TaskParams,
 * each malformed or missing field refused with the code 2captcha gives for it. API v2 maps its task
 * objects onto these same names (v2.ts), so both APIs validate alike. Unknown fields are ignored, as
 * 2captcha ignores them (clients send soft_id, header_acao, proxy, userAgent...).
 */
import type { ImageParams, TaskParams } from "../tasks/task_params.ts";
import { GatewayError, type GatewayCode } from "./errors.ts";

/** Parameters by name, as read from the query and body. */
export type LegacyParams = ReadonlyMap<string, string>;

/** The /v1/tasks limit, so both APIs take the same images. */
export const MAX_IMAGE_BASE64 = 2 * 1024 * 1024;

const SITEKEY = /^[A-Za-z0-9_-]{8,100}$/;

/** The task `method` asks for; throws the code 2captcha gives for what is wrong. */
export function legacyTaskParams(p: LegacyParams): TaskParams {
  const method = p.get("method") ?? "";
  switch (method) {
    case "base64":
    case "post":
      return imageParams(p, method === "base64" ? p.get("body") : (p.get("file") ?? p.get("body")));
    case "userrecaptcha":
      return recaptchaParams(p);
    case "turnstile": {
      const sitekey = p.get("sitekey") ?? "";
      if (!SITEKEY.test(sitekey)) throw new GatewayError("ERROR_BAD_PARAMETERS");
      const out: TaskParams = { type: "turnstile", sitekey, pageurl: pageurl(p.get("pageurl")) };
      const action = optional(p, "action", text(1, 100));
      const data = optional(p, "data", text(1, 1024));
      if (action !== undefined) out.action = action;
      if (data !== undefined) out.data = data;
      return out;
    }
    case "":
      // 2captcha reads a request without a method as an upload without a file.
      throw new GatewayError("ERROR_ZERO_CAPTCHA_FILESIZE");
    default:
      throw new GatewayError("ERROR_NO_SUCH_METHOD");
  }
}

function imageParams(p: LegacyParams, raw: string | undefined): ImageParams {
  const out: ImageParams = { type: "image", image: base64Image(raw) };
  const numeric = optional(p, "numeric", int(0, 4));
  const minLen = optional(p, "min_len", int(0, 20));
  const maxLen = optional(p, "max_len", int(0, 20));
  const language = optional(p, "language", int(0, 2));
  const lang = optional(p, "lang", (v) => (/^[a-z]{2,3}$/i.test(v) ? v.toLowerCase() : undefined));
  const instructions = optional(p, "textinstructions", text(1, 140));
  for (const f of ["phrase", "regsense", "calc"] as const) {
    const b = optional(p, f, bool);
    if (b !== undefined) out[f] = b;
  }
  if (numeric !== undefined) out.numeric = numeric;
  if (minLen !== undefined) out.min_len = minLen;
  if (maxLen !== undefined) out.max_len = maxLen;
  if (minLen !== undefined && maxLen !== undefined && maxLen > 0 && minLen > maxLen) throw new GatewayError("ERROR_BAD_PARAMETERS");
  if (language !== undefined) out.language = language;
  if (lang !== undefined) out.lang = lang;
  if (instructions !== undefined) out.textinstructions = instructions;
  return out;
}

function recaptchaParams(p: LegacyParams): TaskParams {
  const sitekey = p.get("googlekey") ?? p.get("sitekey") ?? "";
  if (!SITEKEY.test(sitekey)) throw new GatewayError("ERROR_GOOGLEKEY");
  const url = pageurl(p.get("pageurl"));
  const enterprise = optional(p, "enterprise", bool);
  const version = (p.get("version") ?? "v2").toLowerCase();
  if (version === "v3") {
    const out: TaskParams = { type: "recaptcha_v3", sitekey, pageurl: url };
    const action = optional(p, "action", (v) => (/^[A-Za-z0-9_/]{1,100}$/.test(v) ? v : undefined));
    const minScore = optional(p, "min_score", (v) => (/^0?\.\d{1,3}$|^[01](?:\.0+)?$/.test(v) ? Math.min(0.9, Math.max(0.1, Number(v))) : undefined));
    if (action !== undefined) out.action = action;
    if (minScore !== undefined) out.min_score = minScore;
    if (enterprise) out.enterprise = true;
    return out;
  }
  if (version !== "v2" && version !== "") throw new GatewayError("ERROR_BAD_PARAMETERS");
  const out: TaskParams = { type: "recaptcha_v2", sitekey, pageurl: url };
  const invisible = optional(p, "invisible", bool);
  if (invisible !== undefined) out.invisible = invisible;
  if (enterprise) out.enterprise = true;
  return out;
}

/** Base64 (standard or URL-safe; a data: prefix, spaces from an unencoded `+`, and line breaks tolerated). */
export function base64Image(raw: string | undefined): string {
  let b64 = raw ?? "";
  if (b64.startsWith("data:")) b64 = b64.slice(b64.indexOf(",") + 1);
  b64 = b64.replace(/[\r\n\t]+/g, "").replaceAll(" ", "+").replaceAll("-", "+").replaceAll("_", "/");
  if (b64 === "" || /^=*$/.test(b64)) throw new GatewayError("ERROR_ZERO_CAPTCHA_FILESIZE");
  if (b64.length > MAX_IMAGE_BASE64) throw new GatewayError("ERROR_TOO_BIG_CAPTCHA_FILESIZE");
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || b64.length % 4 === 1) throw new GatewayError("ERROR_IMAGE_TYPE_NOT_SUPPORTED");
  return b64;
}

function pageurl(raw: string | undefined): string {
  if (raw === undefined || raw.length > 2048) throw new GatewayError("ERROR_PAGEURL");
  try {
    if (/^https?:$/.test(new URL(raw).protocol)) return raw;
  } catch {
    // not a URL
  }
  throw new GatewayError("ERROR_PAGEURL");
}

/** A field's value through `parse`; absent or empty: undefined; malformed: `code`. */
function optional<T>(p: LegacyParams, name: string, parse: (v: string) => T | undefined, code: GatewayCode = "ERROR_BAD_PARAMETERS"): T | undefined {
  const v = p.get(name);
  if (v === undefined || v === "") return undefined;
  const out = parse(v.trim());
  if (out === undefined) throw new GatewayError(code);
  return out;
}

/** 2captcha's flags: 1/0, true/false (the `2captcha` npm client sends `header_acao=true`). */
export function bool(v: string): boolean | undefined {
  const s = v.toLowerCase();
  return s === "1" || s === "true" ? true : s === "0" || s === "false" ? false : undefined;
}

function int(min: number, max: number): (v: string) => number | undefined {
  return (v) => (/^\d{1,6}$/.test(v) && Number(v) >= min && Number(v) <= max ? Number(v) : undefined);
}

function text(min: number, max: number): (v: string) => string | undefined {
  return (v) => (v.length >= min && v.length <= max && !/[\x00-\x08\x0b\x0c\x0e-\x1f]/.test(v) ? v : undefined);
}
