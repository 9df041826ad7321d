/**
 * Solutions: what a solved task answers, read from the upstream's answer as each family's sources
 * give it, and shown in each API's own shape. A family answers one text (an image's letters, a
 * token, a grid's `click:1/5/9`) or several named values (GeeTest's challenge/validate/seccode,
 * Lemin's answer/challenge_id, Cloudflare's cf_clearance); either may come with the user agent the
 * upstream solved it with. Reading is tolerant, since sources disagree on the envelope (CaptchaAI's
 * examples, its MCP server and 2captcha's reference): a `request` object, the same object as JSON
 * text, `key:value` pairs, keys with or without a `geetest_` prefix, the user agent beside the
 * `request` as `user_agent`, `useragent` or `userAgent`. A JSON-API provider's answer reads the same
 * way: its `solution` object is the request (`{"gRecaptchaResponse":...,"userAgent":...}`), read by
 * the names the family's JSON-API solution has (task_dialects.ts solutionFromV2).
 */

/** One text, or named values (JSON values: a grid's cells may be a list). */
export type SolutionValue = string | Readonly<Record<string, unknown>>;

/** A solution as the worker keeps it. */
export interface Solution {
  readonly value: SolutionValue;
  /** The user agent the upstream solved with, when it said (the client must browse with it). */
  readonly useragent?: string | undefined;
}

/** How a family's solution reads and shows. */
export interface SolutionSpec {
  /** Reads the upstream's answer: `request` as it came (text, number or object) and the answer's other top-level fields; undefined: not a solution. */
  parse(request: unknown, fields: Readonly<Record<string, unknown>>): Solution | undefined;
  /** The JSON API's `solution` object (2captcha API v2, anti-captcha). */
  v2(s: Solution): Record<string, unknown>;
  /** 2captcha's legacy `request`: text, or for several values the object json=1 carries (json=0 carries it as JSON text). */
  legacy(s: Solution): SolutionValue;
  /** The task API's `solution`: text for one value (the user agent then beside it), an object for several (the user agent inside). */
  native(s: Solution): SolutionValue;
}

const UA_NAMES = ["user_agent", "useragent", "userAgent", "userAgentString"];

/** The user agent an answer carries, in any of its spellings, at its top level or inside `inner`. */
export function userAgentOf(fields: Readonly<Record<string, unknown>>, inner?: Readonly<Record<string, unknown>>): string | undefined {
  for (const source of [inner, fields]) {
    if (!source) continue;
    for (const name of UA_NAMES) {
      const v = Object.hasOwn(source, name) ? source[name] : undefined;
      if (typeof v === "string" && v !== "") return v;
    }
  }
  return undefined;
}

/** The request as a plain object, or undefined (text, a list, nothing). */
const plainObject = (v: unknown): Record<string, unknown> | undefined =>
  typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;

/** The first of `names` in `obj` holding a non-empty text. */
function firstText(obj: Readonly<Record<string, unknown>>, names: readonly string[]): string | undefined {
  for (const name of names) {
    const v = Object.hasOwn(obj, name) ? obj[name] : undefined;
    if (typeof v === "string" && v !== "") return v;
  }
  return undefined;
}

/**
 * One text: the request (a number as text), or in a solution object the first of `v2Names` (the
 * JSON API's names for it: `gRecaptchaResponse`, `token`, `text`); the user agent from beside it or
 * inside it. `v2`: the solution object's field names for the text.
 */
export function textSolution(v2Names: readonly string[], o: { userAgentInV2?: boolean } = {}): SolutionSpec {
  return {
    parse: (request, fields) => {
      const obj = plainObject(request);
      if (obj) {
        const text = firstText(obj, v2Names);
        return text === undefined ? undefined : { value: text, useragent: userAgentOf(fields, obj) };
      }
      const text = typeof request === "number" ? String(request) : request;
      if (typeof text !== "string" || text === "") return undefined;
      return { value: text, useragent: userAgentOf(fields) };
    },
    v2: (s) => {
      const out: Record<string, unknown> = {};
      for (const n of v2Names) out[n] = s.value;
      if (s.useragent !== undefined && o.userAgentInV2 !== false) out.userAgent = s.useragent;
      return out;
    },
    legacy: (s) => s.value,
    native: (s) => s.value,
  };
}

/** The request as an object: itself, JSON text of one, or `k:v,k:v` / `k=v;k=v` pairs. */
function objectOf(request: unknown): Record<string, unknown> | undefined {
  if (typeof request === "object" && request !== null && !Array.isArray(request)) return request as Record<string, unknown>;
  if (typeof request !== "string") return undefined;
  const text = request.trim();
  if (text.startsWith("{")) {
    try {
      const v: unknown = JSON.parse(text);
      return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
    } catch {
      return undefined;
    }
  }
  const pairs = text.split(/[;,]/).map((p) => /^\s*([A-Za-z_]+)\s*[:=]\s*(.*?)\s*$/.exec(p));
  if (pairs.length < 2 || pairs.some((m) => m === null)) return undefined;
  return Object.fromEntries(pairs.map((m) => [m![1]!, m![2]!]));
}

/**
 * Several named values: `keys` as the worker names them, each found under its name, a `prefix`ed
 * name (GeeTest's `geetest_`) or an alias; all must be present. `legacyPrefix`: 2captcha's legacy
 * answer names them with it. `v2Names`: the JSON API's names where they differ. `derive`: a value
 * some answers leave out, made from the others (GeeTest's seccode).
 */
export function fieldsSolution(
  keys: readonly string[],
  o: {
    prefix?: string;
    aliases?: Readonly<Record<string, readonly string[]>>;
    legacyPrefix?: string;
    v2Names?: Readonly<Record<string, string>>;
    derive?: Readonly<Record<string, (found: Readonly<Record<string, string>>) => string | undefined>>;
  } = {},
): SolutionSpec {
  const find = (obj: Record<string, unknown>, key: string): string | undefined => {
    for (const name of [key, `${o.prefix ?? ""}${key}`, ...(o.aliases?.[key] ?? [])]) {
      const v = Object.hasOwn(obj, name) ? obj[name] : undefined;
      if (typeof v === "string" && v !== "") return v;
      if (typeof v === "number") return String(v);
    }
    return undefined;
  };
  const named = (s: Solution, rename: (k: string) => string) => {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(s.value as Record<string, unknown>)) out[rename(k)] = v;
    return out;
  };
  return {
    parse: (request, fields) => {
      const obj = objectOf(request) ?? (typeof request === "string" || request === undefined ? objectOf(fields) : undefined);
      if (!obj) return undefined;
      const value: Record<string, string> = {};
      for (const key of keys) {
        const v = find(obj, key) ?? o.derive?.[key]?.(value);
        if (v === undefined) return undefined;
        value[key] = v;
      }
      return { value, useragent: userAgentOf(fields, obj) };
    },
    v2: (s) => ({ ...named(s, (k) => o.v2Names?.[k] ?? k), ...(s.useragent !== undefined ? { userAgent: s.useragent } : {}) }),
    legacy: (s) => named(s, (k) => `${o.legacyPrefix ?? ""}${k}`),
    native: (s) => ({ ...(s.value as Record<string, unknown>), ...(s.useragent !== undefined ? { useragent: s.useragent } : {}) }),
  };
}

/**
 * One text that is only good with the user agent it was solved with (CaptchaFox's token, Cloudflare's
 * cf_clearance): kept as `{ [name]: text }` beside the user agent; the task API shows both in one
 * object, 2captcha's legacy answer the text (the user agent beside it), the JSON API `{ [v2Name], userAgent }`.
 * `read` finds the text in a request that is not plain text (a cookie list, an object); by default
 * the text itself, or in a solution object its `v2Name` (CaptchaFox's `token`).
 */
export function agentBoundSolution(name: string, v2Name: string, read?: (request: unknown) => string | undefined): SolutionSpec {
  const readText = read ?? ((r: unknown) => (typeof r === "string" && r !== "" ? r : firstText(plainObject(r) ?? {}, [v2Name])));
  return {
    parse: (request, fields) => {
      const text = readText(request);
      if (text === undefined) return undefined;
      const inner = objectOf(request);
      return { value: { [name]: text }, useragent: userAgentOf(fields, inner) };
    },
    v2: (s) => ({ [v2Name]: (s.value as Record<string, unknown>)[name], ...(s.useragent !== undefined ? { userAgent: s.useragent } : {}) }),
    legacy: (s) => String((s.value as Record<string, unknown>)[name]),
    native: (s) => ({ ...(s.value as Record<string, unknown>), ...(s.useragent !== undefined ? { useragent: s.useragent } : {}) }),
  };
}

/** The request as an object, for family-specific readers (JSON text, or `k:v` / `k=v` pairs). */
export function answerObject(request: unknown): Record<string, unknown> | undefined {
  return objectOf(request);
}
