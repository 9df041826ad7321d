/**
 * Validates a task as a client sends it (SPEC §5) into typed parameters; every refusal names the
 * field. Unknown fields are refused too, so a typo (`min_lenght`) is not silently ignored.
 */
import { didYouMean } from "../base/did_you_mean.ts";
import { WorkerError } from "../base/errors.ts";
import { TASK_TYPES, type TaskType } from "../tasks/task.ts";
import type { TaskParams } from "../tasks/task_params.ts";

type Check = (value: unknown, field: string) => unknown;

const MAX_IMAGE_BASE64 = 2 * 1024 * 1024;

const FIELDS: Record<TaskType, Record<string, { required: boolean; check: Check }>> = {
  image: {
    image: { required: true, check: base64Image },
    phrase: { required: false, check: bool },
    regsense: { required: false, check: bool },
    numeric: { required: false, check: int(0, 4) },
    calc: { required: false, check: bool },
    min_len: { required: false, check: int(0, 20) },
    max_len: { required: false, check: int(0, 20) },
    lang: { required: false, check: pattern(/^[a-z]{2,3}$/i, "a 2 or 3 letter language code") },
    textinstructions: { required: false, check: text(1, 140) },
  },
  recaptcha_v2: {
    sitekey: { required: true, check: sitekey },
    pageurl: { required: true, check: pageurl },
    invisible: { required: false, check: bool },
  },
  recaptcha_v3: {
    sitekey: { required: true, check: sitekey },
    pageurl: { required: true, check: pageurl },
    action: { required: false, check: pattern(/^[A-Za-z0-9_/]{1,100}$/, "1 to 100 letters, digits, _ or /") },
    min_score: { required: false, check: range(0.1, 0.9) },
  },
  turnstile: {
    sitekey: { required: true, check: sitekey },
    pageurl: { required: true, check: pageurl },
  },
};

/** Returns typed parameters or throws ERR_BAD_REQUEST with `field` set. */
export function parseTaskInput(body: unknown): TaskParams {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw bad("body", "expected a JSON object");
  }
  const input = body as Record<string, unknown>;
  const type = Object.hasOwn(input, "type") ? input.type : undefined;
  if (typeof type !== "string" || !TASK_TYPES.includes(type as TaskType)) {
    throw bad("type", `expected one of ${TASK_TYPES.join(", ")}`);
  }
  const fields = FIELDS[type as TaskType];
  const out: Record<string, unknown> = { type };
  for (const key of Object.keys(input)) {
    if (key === "type") continue;
    const spec = Object.hasOwn(fields, key) ? fields[key] : undefined;
    if (!spec) {
      const article = /^[aeiou]/.test(type) ? "an" : "a";
      throw bad(key.slice(0, 64), `unknown field for ${article} ${type} task${didYouMean(key.slice(0, 64), Object.keys(fields), (f) => `\`${f}\``)}`);
    }
    if (input[key] === null || input[key] === undefined) continue;
    out[key] = spec.check(input[key], key);
  }
  for (const [key, spec] of Object.entries(fields)) {
    if (spec.required && out[key] === undefined) throw bad(key, "is required");
  }
  if (type === "image" && typeof out.min_len === "number" && typeof out.max_len === "number" && out.max_len > 0 && out.min_len > out.max_len) {
    throw bad("min_len", "must not exceed max_len");
  }
  return out as unknown as TaskParams;
}

function bad(field: string, why: string): WorkerError {
  return new WorkerError("ERR_BAD_REQUEST", `Invalid ${field}: ${why}.`, { field });
}

function bool(v: unknown, field: string): boolean {
  if (typeof v === "boolean") return v;
  if (v === 0 || v === 1) return v === 1;
  throw bad(field, "expected true or false");
}

function int(min: number, max: number): Check {
  return (v, field) => {
    if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) throw bad(field, `expected a whole number from ${min} to ${max}`);
    return v;
  };
}

function range(min: number, max: number): Check {
  return (v, field) => {
    if (typeof v !== "number" || !Number.isFinite(v) || v < min || v > max) throw bad(field, `expected a number from ${min} to ${max}`);
    return v;
  };
}

function text(min: number, max: number): Check {
  return (v, field) => {
    if (typeof v !== "string" || v.length < min || v.length > max) throw bad(field, `expected a string of ${min} to ${max} characters`);
    return v;
  };
}

function pattern(re: RegExp, what: string): Check {
  return (v, field) => {
    if (typeof v !== "string" || !re.test(v)) throw bad(field, `expected ${what}`);
    return v;
  };
}

function sitekey(v: unknown, field: string): string {
  if (typeof v !== "string" || !/^[A-Za-z0-9_-]{8,100}$/.test(v)) throw bad(field, "expected 8 to 100 letters, digits, _ or -");
  return v;
}

function pageurl(v: unknown, field: string): string {
  if (typeof v !== "string" || v.length > 2048) throw bad(field, "expected an http(s) URL of at most 2048 characters");
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    throw bad(field, "expected an http(s) URL");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw bad(field, "expected an http(s) URL");
  return v;
}

/** Base64 (standard or URL-safe, padding optional), a `data:image/...;base64,` prefix stripped. */
function base64Image(v: unknown, field: string): string {
  if (typeof v !== "string") throw bad(field, "expected a base64 string");
  let b64 = v.startsWith("data:") ? v.slice(v.indexOf(",") + 1) : v;
  b64 = b64.replace(/\s+/g, "");
  if (b64.length === 0) throw bad(field, "is empty");
  if (b64.length > MAX_IMAGE_BASE64) throw bad(field, `is over ${MAX_IMAGE_BASE64} base64 characters`);
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(b64) || b64.length % 4 === 1) throw bad(field, "is not valid base64");
  return b64.replaceAll("-", "+").replaceAll("_", "/");
}
