/**
 * The task a JSON-API provider receives (anti-captcha, CapSolver, CapMonster Cloud, api.2captcha.com),
 * built from a task's parameters and its catalogue entry's names in the provider's dialect, and a
 * provider's `solution` object read back as the family's solution. A type, or a type with a proxy,
 * that a dialect does not name is one it does not take: `v2TaskFor` answers undefined, and the
 * router sends such a task elsewhere. Field names are the entry's first JSON-API name for each field
 * unless the dialect says otherwise; a proxy is `proxyType`/`proxyAddress`/`proxyPort`/`proxyLogin`/
 * `proxyPassword` everywhere but CapSolver, which takes one `proxy` string.
 */
import { catalogueEntry, type TaskParams } from "./task_catalogue.ts";
import type { TaskProxy } from "./task_proxy.ts";
import type { Solution } from "./task_solution.ts";
import { DIALECTS, type Dialect, type DialectName, type JsonValue, type TaskTypeSpec } from "./task_type_spec.ts";

export { DIALECTS, type Dialect, type DialectName };

/** How each dialect takes a task's proxy. */
const PROXY_FORM: Readonly<Record<Dialect, (p: TaskProxy) => Record<string, string | number>>> = {
  // anti-captcha's task pages list http ("usual http/https proxy"), socks4 and socks5.
  anticaptcha: (p) => p.v2Fields({ httpsAsHttp: true }),
  "2captcha": (p) => p.v2Fields(),
  capmonster: (p) => p.v2Fields(),
  capsolver: (p) => ({ proxy: p.colonForm() }),
};

/** The name entry of `entry` in `dialect` for these parameters: the first whose `when` they match. */
function variantFor(entry: TaskTypeSpec, dialect: Dialect, params: Readonly<Record<string, unknown>>): DialectName | undefined {
  return entry.dialects[dialect]?.find((n) => Object.entries(n.when ?? {}).every(([k, v]) => params[k] === v));
}

/** Sets `value` at a dotted `path` of `target`, making the objects on the way. */
function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split(".");
  let at = target;
  for (const part of parts.slice(0, -1)) {
    const next = at[part];
    at = (at[part] = typeof next === "object" && next !== null && !Array.isArray(next) ? next : {}) as Record<string, unknown>;
  }
  at[parts.at(-1)!] = value;
}

/** Copies a JSON value, so a task object never shares the catalogue's fixed values. */
const copy = (v: JsonValue): JsonValue => (typeof v === "object" && v !== null ? (JSON.parse(JSON.stringify(v)) as JsonValue) : v);

/**
 * The JSON-API task object for `params` in `dialect` (`{type, websiteURL, websiteKey, ...}`, the
 * proxy's fields included), or undefined when the dialect does not take the type (with a proxy, or
 * without one). The catalogue's fixed values come first; a field's own value wins over one.
 */
export function v2TaskFor(params: TaskParams, dialect: Dialect): Record<string, unknown> | undefined {
  const entry = catalogueEntry(params.type);
  if (!entry) return undefined;
  const values = params as unknown as Record<string, unknown>;
  const variant = variantFor(entry, dialect, values);
  const typeName = params.proxy ? variant?.proxied : variant?.proxyless;
  if (variant === undefined || typeName === undefined) return undefined;
  if (params.proxy && variant.proxiedNeeds?.some((field) => values[field] === undefined)) return undefined;
  const task: Record<string, unknown> = { type: typeName };
  for (const [path, value] of Object.entries(variant.fixed ?? {})) setPath(task, path, copy(value));
  for (const [field, spec] of Object.entries(entry.fields)) {
    const value = values[field];
    if (value === undefined) continue;
    const named = variant.fields && Object.hasOwn(variant.fields, field) ? variant.fields[field] : spec.v2[0];
    if (named === null || named === undefined) continue;
    for (const path of typeof named === "string" ? [named] : named) setPath(task, path, Array.isArray(value) ? [...value] : value);
  }
  if (params.proxy) Object.assign(task, PROXY_FORM[dialect](params.proxy));
  return task;
}

/**
 * Whether `dialect` takes tasks of `type` with a proxy (`proxy` true) or without: some name of the
 * type does. The router's static table; the parameters may still pick a name the dialect lacks
 * (reCAPTCHA v3 Enterprise with a proxy on CapMonster), which `v2TaskFor` answers exactly.
 */
export function dialectTakes(type: string, dialect: Dialect, proxy: boolean): boolean {
  const names = catalogueEntry(type)?.dialects[dialect] ?? [];
  return names.some((n) => (proxy ? n.proxied : n.proxyless) !== undefined);
}

/** The dialects that take `type` with or without a proxy, in DIALECTS' order. */
export function dialectsFor(type: string, proxy: boolean): Dialect[] {
  return DIALECTS.filter((d) => dialectTakes(type, d, proxy));
}

/**
 * A JSON-API provider's `solution` object read as `type`'s solution (the text, token, GeeTest's
 * values, Lemin's answer and challenge_id, a grid's `click:1/5/9`, CapSolver's
 * `cookies.cf_clearance`, with the user agent it holds), or undefined when it is not one. The same
 * reader as the legacy answer's: the v2 client's poll hands the object to the solver as its
 * answer's `request`.
 */
export function solutionFromV2(type: string, solution: unknown, fields: Readonly<Record<string, unknown>> = {}): Solution | undefined {
  if (typeof solution !== "object" || solution === null || Array.isArray(solution)) return undefined;
  return catalogueEntry(type)?.solution.parse(solution, fields);
}
