/**
 * The kinds of field a task type is made of (flags, whole numbers, scores, text, codes, URLs,
 * sitekeys, base64 images): how each reads a value in either form a client sends it (a JSON value,
 * or the text of a form or query), how it is sent on to the upstream, and how it describes itself
 * for GET /v1/types. A value that does not fit is a refusal naming why, never a throw.
 */
import type { ProtocolCode } from "../base/error_registry.ts";

/**
 * How a value arrived: a JSON value (the task API: strict), text (2captcha's forms), or loose JSON
 * (the JSON API: a value or its text, as 2captcha's and anti-captcha's clients send either).
 */
export type FieldForm = "json" | "text" | "loose";

/** Why a value was refused; each field says which protocol code a 2captcha client reads for each. */
export type RefusalReason = "missing" | "invalid" | "empty" | "too_large" | "not_base64" | "too_small";

/** A refused value: the reason and the words after "Invalid <field>: ". */
export interface Misfit {
  readonly misfit: RefusalReason;
  readonly why: string;
}

/** What GET /v1/types says of a field. */
export interface FieldDescription {
  kind: string;
  required: boolean;
  min?: number;
  max?: number;
  pattern?: string;
}

/** One field of a task type. `T`: its value; `R`: whether it is required. */
export interface FieldSpec<T = unknown, R extends boolean = boolean> {
  readonly required: R;
  /** Its names in 2captcha's legacy API, the first as the gateway documents it. @default [the native name] */
  readonly legacy: readonly string[] | undefined;
  /** Its names in a JSON-API task object. @default none: the JSON API cannot send it */
  readonly v2: readonly string[];
  /** The in.php field the upstream receives. @default the first legacy name; null: never sent */
  readonly upstream: string | null | undefined;
  /** The protocol code a 2captcha client reads for each reason (@default ERROR_BAD_PARAMETERS). */
  readonly codes: Partial<Record<RefusalReason, ProtocolCode>>;
  /** Dropped once the task ended (an image): results are kept for an hour, payloads need not be. */
  readonly payload: boolean;
  /** The legacy API sends it as several parameters (each legacy name one item of a list). */
  readonly many?: boolean;
  read(value: unknown, form: FieldForm): T | Misfit;
  /** Its in.php fields: `name` with the value as text, or several for a list. */
  write(value: T, name: string): Record<string, string>;
  describe(): FieldDescription;
}

/** Where a field is known and sent, beyond its kind. */
export interface FieldNames<R extends boolean> {
  required?: R;
  legacy?: string | readonly string[];
  v2?: string | readonly string[];
  upstream?: string | null;
  /** One code for every reason, or a code per reason. */
  code?: ProtocolCode | Partial<Record<RefusalReason, ProtocolCode>>;
}

export function isMisfit(v: unknown): v is Misfit {
  return typeof v === "object" && v !== null && Object.hasOwn(v, "misfit");
}

const misfit = (why: string, reason: RefusalReason = "invalid"): Misfit => ({ misfit: reason, why });
const list = (v: string | readonly string[] | undefined): readonly string[] | undefined => (v === undefined ? undefined : typeof v === "string" ? [v] : v);
/** C0 controls but tab, line feed and carriage return: no client has a reason to send them. */
const CONTROL = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/;

function spec<T, R extends boolean>(
  n: FieldNames<R>,
  read: FieldSpec<T, R>["read"],
  write: (v: T) => string,
  describe: Omit<FieldDescription, "required">,
  payload = false,
): FieldSpec<T, R> {
  return specWith(n, read, (v, name) => ({ [name]: write(v) }), describe, payload);
}

function specWith<T, R extends boolean>(
  n: FieldNames<R>,
  read: FieldSpec<T, R>["read"],
  write: FieldSpec<T, R>["write"],
  describe: Omit<FieldDescription, "required">,
  payload = false,
  many = false,
): FieldSpec<T, R> {
  const codes = typeof n.code === "string" ? { missing: n.code, invalid: n.code, empty: n.code, too_large: n.code, not_base64: n.code, too_small: n.code } : (n.code ?? {});
  return {
    required: (n.required ?? false) as R,
    legacy: list(n.legacy),
    v2: list(n.v2) ?? [],
    upstream: n.upstream,
    codes,
    payload,
    ...(many ? { many } : {}),
    read,
    write,
    describe: () => ({ ...describe, required: n.required ?? false }),
  };
}

/** 2captcha's flags as text: 1/0, true/false (the `2captcha` npm client sends `header_acao=true`); undefined for anything else. */
export function textFlag(v: string): boolean | undefined {
  const s = v.toLowerCase();
  return s === "1" || s === "true" ? true : s === "0" || s === "false" ? false : undefined;
}

/** A flag: true/false (and 0/1) as JSON; 1/0/true/false as text. Sent as 1 or 0. */
export function bool<R extends boolean = false>(n: FieldNames<R> = {}): FieldSpec<boolean, R> {
  return spec(n, (v, form) => {
    const flag = typeof v === "boolean" ? v : v === 0 || v === 1 ? v === 1 : form !== "json" && typeof v === "string" ? textFlag(v) : undefined;
    return flag ?? misfit("expected true or false");
  }, (v) => (v ? "1" : "0"), { kind: "boolean" });
}

/** A whole number from `min` to `max`: a JSON integer, or digits as text. */
export function int<R extends boolean = false>(min: number, max: number, n: FieldNames<R> = {}): FieldSpec<number, R> {
  const why = `expected a whole number from ${min} to ${max}`;
  return spec(n, (v, form) => {
    const x = typeof v === "string" && form !== "json" ? (/^\d{1,9}$/.test(v) ? Number(v) : Number.NaN) : form === "text" ? Number.NaN : v;
    return typeof x === "number" && Number.isInteger(x) && x >= min && x <= max ? x : misfit(why);
  }, String, { kind: "integer", min, max });
}

/** A number from `min` to `max`: a JSON number, or a decimal as text. */
export function decimal<R extends boolean = false>(min: number, max: number, n: FieldNames<R> = {}): FieldSpec<number, R> {
  const why = `expected a number from ${min} to ${max}`;
  return spec(n, (v, form) => {
    const x = typeof v === "string" && form !== "json" ? (/^\d{0,9}(?:\.\d{1,9})?$/.test(v) && v !== "" ? Number(v) : Number.NaN) : form === "text" ? Number.NaN : v;
    return typeof x === "number" && Number.isFinite(x) && x >= min && x <= max ? x : misfit(why);
  }, String, { kind: "number", min, max });
}

/** Free text of `min` to `max` characters, without control characters. */
export function text<R extends boolean = false>(min: number, max: number, n: FieldNames<R> = {}): FieldSpec<string, R> {
  const why = `expected a string of ${min} to ${max} characters`;
  return spec(n, (raw, form) => {
    const v = form === "loose" && typeof raw === "number" ? String(raw) : raw;
    return typeof v === "string" && v.length >= min && v.length <= max ? (CONTROL.test(v) ? misfit("must not hold control characters") : v) : misfit(why);
  }, (v) => v, {
    kind: "string",
    min,
    max,
  });
}

/** A string matching `re` (described as `what`); `lower`: kept lower-cased. */
export function pattern<R extends boolean = false>(re: RegExp, what: string, n: FieldNames<R> & { lower?: boolean } = {}): FieldSpec<string, R> {
  return spec(n, (raw, form) => {
    const v = form === "loose" && typeof raw === "number" ? String(raw) : raw;
    return typeof v === "string" && re.test(v) ? (n.lower ? v.toLowerCase() : v) : misfit(`expected ${what}`);
  }, (v) => v, {
    kind: "string",
    pattern: re.source,
  });
}

/** A site key: 8 to 100 letters, digits, _ or -. */
export function sitekey<R extends boolean = false>(n: FieldNames<R> = {}): FieldSpec<string, R> {
  return pattern(/^[A-Za-z0-9_-]{8,100}$/, "8 to 100 letters, digits, _ or -", n);
}

/** An http(s) URL of at most 2048 characters. */
export function url<R extends boolean = false>(n: FieldNames<R> = {}): FieldSpec<string, R> {
  return spec(n, (v) => {
    if (typeof v !== "string" || v.length > 2048) return misfit("expected an http(s) URL of at most 2048 characters");
    try {
      if (/^https?:$/.test(new URL(v).protocol)) return v;
    } catch {
      // not a URL
    }
    return misfit("expected an http(s) URL");
  }, (v) => v, { kind: "url", max: 2048 });
}

/** The largest image taken, in base64 characters (about 1.5 MiB of image). */
export const MAX_IMAGE_BASE64 = 2 * 1024 * 1024;
/** The smallest image taken, in bytes decoded: CaptchaAI and 2captcha refuse smaller ones ERROR_ZERO_CAPTCHA_FILESIZE, the client's mistake. */
export const MIN_IMAGE_BYTES = 100;

/**
 * A base64 image (standard or URL-safe, padding optional, a `data:image/...;base64,` prefix
 * stripped), kept as standard base64. Line breaks are dropped; as text, a space is a `+` a form
 * left unencoded, as JSON any whitespace is dropped. Under 100 bytes decoded it is refused
 * `too_small` (a 2captcha client reads ERROR_ZERO_CAPTCHA_FILESIZE unless the field says otherwise).
 */
export function image<R extends boolean = false>(n: FieldNames<R> = {}): FieldSpec<string, R> {
  return spec(tooSmallIsZeroSize(n), (v, form) => {
    if (typeof v !== "string") return misfit("expected a base64 string");
    let b64 = v.startsWith("data:") ? v.slice(v.indexOf(",") + 1) : v;
    b64 = form === "text" ? b64.replace(/[\r\n\t]+/g, "").replaceAll(" ", "+") : b64.replace(/\s+/g, "");
    if (/^=*$/.test(b64)) return misfit("is empty", "empty");
    if (b64.length > MAX_IMAGE_BASE64) return misfit(`is over ${MAX_IMAGE_BASE64} base64 characters`, "too_large");
    if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(b64) || b64.length % 4 === 1) return misfit("is not valid base64", "not_base64");
    const bytes = Math.floor((b64.replace(/=+$/, "").length * 3) / 4);
    if (bytes < MIN_IMAGE_BYTES) return misfit(`is ${bytes} bytes, under the ${MIN_IMAGE_BYTES}-byte minimum`, "too_small");
    return b64.replaceAll("-", "+").replaceAll("_", "/");
  }, (v) => v, { kind: "base64", max: MAX_IMAGE_BASE64 }, true);
}

/** An image's field names with ERROR_ZERO_CAPTCHA_FILESIZE for `too_small` unless they say otherwise (2captcha's and CaptchaAI's code). */
function tooSmallIsZeroSize<N extends FieldNames<boolean>>(n: N): N {
  return typeof n.code === "string" || n.code?.too_small !== undefined ? n : { ...n, code: { ...n.code, too_small: "ERROR_ZERO_CAPTCHA_FILESIZE" } };
}

/** A browser's User-Agent header: 1 to 512 characters (the upstream solves with it). */
export function userAgent(): FieldSpec<string, false> {
  return text(1, 512, { legacy: ["userAgent", "useragent", "user_agent"], v2: "userAgent", upstream: "userAgent" });
}

/**
 * `count` base64 images in order (BLS's nine cells): a JSON list, or in the legacy API one parameter
 * per image (its legacy names, in order); sent on as those parameters.
 */
export function imageList<R extends boolean = false>(count: number, n: FieldNames<R> & { legacy: readonly string[] }): FieldSpec<string[], R> {
  const one = image();
  return specWith(tooSmallIsZeroSize(n), (v, form) => {
    if (!Array.isArray(v) || v.length !== count) return misfit(`expected a list of ${count} base64 images`);
    const out: string[] = [];
    for (const item of v) {
      const r = one.read(item, form === "json" ? "json" : "text");
      if (isMisfit(r)) return misfit(`holds an image that ${r.why}`, r.misfit);
      out.push(r);
    }
    return out;
  }, (v) => Object.fromEntries(v.map((img, i) => [n.legacy[i]!, img])), { kind: "base64[]", min: count, max: count }, true, true);
}
