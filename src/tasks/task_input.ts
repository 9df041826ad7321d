/**
 * A task as each API sends it, read through the catalogue into typed parameters: the task API's
 * JSON object, 2captcha's legacy parameters (text, from a query, form, multipart or JSON body) and
 * a JSON-API task object. One set of field rules for all three; what differs is only where a
 * field's value is found and what is done with names the API does not know (the task API refuses
 * them, so a typo is not silently ignored; the 2captcha APIs ignore them, as 2captcha does:
 * clients send soft_id, header_acao and more). A refusal names the field and the protocol code a
 * 2captcha client reads, and each API renders it in its own dialect; it never quotes a value.
 */
import type { ProtocolCode } from "../base/error_registry.ts";
import { didYouMean } from "../base/did_you_mean.ts";
import { CATALOGUE, catalogueEntry, TASK_TYPES, type TaskParams } from "./task_catalogue.ts";
import { isMisfit, textFlag, type FieldForm, type FieldSpec, type RefusalReason } from "./task_fields.ts";
import { TaskProxy } from "./task_proxy.ts";
import type { ApiName, ProxyRule, TaskTypeSpec } from "./task_type_spec.ts";

/** Why a task was refused: the field at fault (its task API name), the name the client used, the 2captcha code, and the words after "Invalid <name>: ". */
export interface TaskRefusal {
  readonly field: string;
  readonly name: string;
  readonly code: ProtocolCode;
  readonly why: string;
}

export type TaskVerdict = { ok: true; params: TaskParams } | { ok: false; refusal: TaskRefusal };

/** The refusal as one sentence: `Invalid pageurl: expected an http(s) URL.` */
export function describeRefusal(r: TaskRefusal): string {
  return `Invalid ${r.name}: ${r.why}.`;
}

const refuse = (field: string, code: ProtocolCode, why: string, name = field): TaskVerdict => ({ ok: false, refusal: { field, name, code, why } });
const ENTRIES = CATALOGUE as readonly TaskTypeSpec[];

/** A value as found, and the name it was found under. */
type Found = { value: unknown; name: string } | undefined;
type Api = "native" | "legacy" | "v2";

/** Where one API keeps a task's values. */
interface Source {
  api: Api;
  form: FieldForm;
  find(field: string, spec: FieldSpec): Found;
  /** The proxy in this API's names: undefined when none is given, else a proxy or the refusal of one. */
  proxy(): TaskProxy | TaskVerdict | undefined;
}

/** What `api` calls a field (the name a refusal of a missing one uses). */
function nameIn(api: Api, field: string, spec: FieldSpec | undefined): string {
  if (api === "legacy") return spec?.legacy?.[0] ?? field;
  if (api === "v2") return spec?.v2[0] ?? field;
  return field;
}

/** Reads each field of `entry` from `source`, its proxy as `rule` says, checks the rules and adds the values `fixed` implies. */
function readFields(entry: TaskTypeSpec, source: Source, rule: ProxyRule, fixed?: Readonly<Record<string, unknown>>): TaskVerdict {
  const out: Record<string, unknown> = { type: entry.type };
  for (const [field, spec] of Object.entries(entry.fields)) {
    const found = source.find(field, spec);
    if (found === undefined) {
      if (spec.required) return misfit(field, nameIn(source.api, field, spec), spec, "missing", "is required");
      continue;
    }
    const v = spec.read(found.value, source.form);
    if (isMisfit(v)) return misfit(field, found.name, spec, v.misfit, v.why);
    out[field] = v;
  }
  for (const [field, value] of Object.entries(fixed ?? {})) out[field] = value;
  if (rule !== "none") {
    const proxy = source.proxy();
    if (proxy !== undefined && !(proxy instanceof TaskProxy)) return proxy;
    if (proxy === undefined && rule === "required") return refuse("proxy", "ERROR_BAD_PROXY", `is required for a ${entry.type} task`, source.api === "v2" ? "proxyAddress" : "proxy");
    if (proxy !== undefined && entry.proxyTypes && !entry.proxyTypes.includes(proxy.type)) {
      return refuse("proxytype", "ERROR_BAD_PROXY", `expected ${entry.proxyTypes.join(" or ")} for a ${entry.type} task`, source.api === "v2" ? "proxyType" : "proxytype");
    }
    if (proxy !== undefined) out.proxy = proxy;
  }
  const broken = entry.check?.(out);
  if (broken) return misfit(broken.field, nameIn(source.api, broken.field, entry.fields[broken.field]), entry.fields[broken.field], "invalid", broken.why);
  return { ok: true, params: out as unknown as TaskParams };
}

function misfit(field: string, name: string, spec: FieldSpec | undefined, reason: RefusalReason, why: string): TaskVerdict {
  return refuse(field, spec?.codes[reason] ?? "ERROR_BAD_PARAMETERS", why, name);
}

/** `proxy` (login:password@host:port or host:port) with `proxytype`, as the task API and 2captcha's legacy API name them. */
function proxyFrom(proxy: string | undefined, type: string | undefined): TaskProxy | TaskVerdict | undefined {
  if (proxy === undefined && type === undefined) return undefined;
  if (proxy === undefined) return refuse("proxy", "ERROR_BAD_PROXY", "is required with proxytype");
  if (type === undefined) return refuse("proxytype", "ERROR_BAD_PROXY", "is required with proxy (HTTP, HTTPS, SOCKS4 or SOCKS5)");
  const p = TaskProxy.parse(proxy, type);
  return typeof p === "string" ? (p.startsWith("proxytype: ") ? refuse("proxytype", "ERROR_BAD_PROXY", p.slice(11)) : refuse("proxy", "ERROR_BAD_PROXY", p)) : p;
}

/** The task API's body (`{"type":"image","image":"..."}`): JSON values, unknown fields refused, null for absent. */
export function readNativeTask(body: unknown): TaskVerdict {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return refuse("body", "ERROR_BAD_PARAMETERS", "expected a JSON object");
  const input = body as Record<string, unknown>;
  const type = Object.hasOwn(input, "type") ? input.type : undefined;
  const entry = typeof type === "string" ? catalogueEntry(type) : undefined;
  if (!entry) return refuse("type", "ERROR_TASK_NOT_SUPPORTED", `expected one of ${TASK_TYPES.join(", ")}`);
  const known = [...Object.keys(entry.fields), ...(entry.proxy === "none" ? [] : ["proxy", "proxytype"])];
  for (const key of Object.keys(input)) {
    if (key === "type" || known.includes(key)) continue;
    const name = key.slice(0, 64);
    const article = /^[aeiou]/.test(entry.type) ? "an" : "a";
    return refuse(name, "ERROR_BAD_PARAMETERS", `unknown field for ${article} ${entry.type} task${didYouMean(name, known, (f) => `\`${f}\``)}`);
  }
  const present = (k: string) => (input[k] === null || input[k] === undefined ? undefined : input[k]);
  return readFields(entry, {
    api: "native",
    form: "json",
    find: (field) => (present(field) === undefined ? undefined : { value: input[field], name: field }),
    proxy: () => {
      const [p, t] = [present("proxy"), present("proxytype")];
      if (p !== undefined && typeof p !== "string") return refuse("proxy", "ERROR_BAD_PROXY", "expected login:password@host:port or host:port");
      if (t !== undefined && typeof t !== "string") return refuse("proxytype", "ERROR_BAD_PROXY", "expected HTTP, HTTPS, SOCKS4 or SOCKS5");
      return proxyFrom(p, t);
    },
  }, entry.proxy);
}

/** Parameters by name, as a 2captcha client sends them (query, form, multipart or JSON, all text). */
export type LegacyParams = ReadonlyMap<string, string>;

/** A parameter's text, trimmed; an empty one counts as absent, as 2captcha reads it. */
function textOf(p: LegacyParams, name: string): string | undefined {
  const v = p.get(name)?.trim();
  return v === undefined || v === "" ? undefined : v;
}

/** Whether `name`'s `when` values match, read by `valueOf` (lower-cased; "" for absent). */
function selects(name: ApiName, valueOf: (param: string) => string): boolean {
  return Object.entries(name.when ?? {}).every(([param, values]) => values.includes(valueOf(param)));
}

/**
 * The first entry, and its name, whose name is `wanted` and whose `when` matches; or the refusal
 * naming the parameter that told none apart.
 */
function pick(names: (e: TaskTypeSpec) => readonly ApiName[], wanted: string, valueOf: (param: string) => string): { entry: TaskTypeSpec; name: ApiName } | { param: string; allowed: string[] } | undefined {
  const candidates = ENTRIES.flatMap((entry) => names(entry).filter((n) => n.name === wanted).map((name) => ({ entry, name })));
  if (candidates.length === 0) return undefined;
  const hit = candidates.find((c) => selects(c.name, valueOf));
  if (hit) return hit;
  const param = Object.keys(candidates[0]!.name.when ?? {})[0] ?? "type";
  return { param, allowed: [...new Set(candidates.flatMap((c) => c.name.when?.[param] ?? []))].filter((v) => v !== "") };
}

/**
 * 2captcha's flags that make an image upload (`method=base64|post`) a family the worker does not
 * solve (2captcha API reference: `coordinatescaptcha=1` answers click coordinates, `canvas=1` an
 * outline): refused as a method not served, rather than solved as a text image or a grid whose
 * answer the client cannot read.
 */
const OTHER_IMAGE_FAMILIES: Readonly<Record<string, string>> = { coordinatescaptcha: "coordinates", canvas: "canvas" };

/** 2captcha's legacy in.php parameters: the `method` (and, where one method serves several types, the parameters that tell them apart) picks the type. */
export function readLegacyTask(p: LegacyParams): TaskVerdict {
  const method = textOf(p, "method");
  // 2captcha reads a request without a method as an upload without a file.
  if (method === undefined) return refuse("method", "ERROR_ZERO_CAPTCHA_FILESIZE", "is required");
  if (method === "base64" || method === "post") {
    for (const [flag, family] of Object.entries(OTHER_IMAGE_FAMILIES)) {
      if (textFlag(textOf(p, flag) ?? "") === true) return refuse(flag, "ERROR_NO_SUCH_METHOD", `asks for a ${family} captcha, which the worker does not solve`);
    }
  }
  const picked = pick((e) => e.legacy, method, (param) => (textOf(p, param) ?? "").toLowerCase());
  if (picked === undefined) return refuse("method", "ERROR_NO_SUCH_METHOD", `expected one of ${[...new Set(ENTRIES.flatMap((e) => e.legacy.map((n) => n.name)))].join(", ")}`);
  if ("param" in picked) return refuse(picked.param, "ERROR_BAD_PARAMETERS", `expected one of ${picked.allowed.join(", ")} with method=${method}`);
  return readFields(picked.entry, {
    api: "legacy",
    form: "text",
    find: (field, spec) => {
      const names = spec.legacy ?? [field];
      if (spec.many) {
        const items = names.map((n) => p.get(n));
        return items.every((i) => i === undefined || i === "") ? undefined : { value: items, name: names[0]! };
      }
      for (const name of names) {
        const v = name === "body" || name === "file" ? p.get(name) : textOf(p, name);
        if (v !== undefined && v !== "") return { value: v, name };
      }
      return undefined;
    },
    proxy: () => proxyFrom(textOf(p, "proxy"), textOf(p, "proxytype")),
  }, picked.name.proxy ?? picked.entry.proxy);
}

/** A JSON-API value by name, a dotted name reading inside an object (`initParameters.captcha_id`). */
function pathValue(t: Record<string, unknown>, name: string): unknown {
  let v: unknown = t;
  for (const part of name.split(".")) {
    if (typeof v !== "object" || v === null || Array.isArray(v) || !Object.hasOwn(v, part)) return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

/** The JSON API's proxy fields (2captcha API v2, anti-captcha): proxyType, proxyAddress, proxyPort, proxyLogin, proxyPassword. */
function v2Proxy(t: Record<string, unknown>): TaskProxy | TaskVerdict | undefined {
  const text = (k: string) => {
    const v = t[k];
    return typeof v === "string" && v !== "" ? v : typeof v === "number" ? String(v) : undefined;
  };
  const [type, address, port] = [text("proxyType"), text("proxyAddress"), text("proxyPort")];
  if (type === undefined && address === undefined && port === undefined) return undefined;
  if (type === undefined) return refuse("proxytype", "ERROR_BAD_PROXY", "is required with proxyAddress (http, https, socks4 or socks5)", "proxyType");
  if (address === undefined || port === undefined) return refuse("proxy", "ERROR_BAD_PROXY", "is required with proxyType (and proxyPort)", "proxyAddress");
  const p = TaskProxy.of({ type, host: address, port, login: text("proxyLogin"), password: text("proxyPassword") });
  if (typeof p !== "string") return p;
  return p.startsWith("proxytype: ") ? refuse("proxytype", "ERROR_BAD_PROXY", p.slice(11), "proxyType") : refuse("proxy", "ERROR_BAD_PROXY", p, "proxyAddress");
}

/**
 * A JSON-API task object (`{"type":"RecaptchaV2TaskProxyless","websiteURL":...}`): the type name
 * (and, where one name serves several types, `version`) picks the entry; values are read loosely (a
 * value or its text), as 2captcha's and anti-captcha's clients send either.
 */
export function readV2Task(task: unknown): TaskVerdict {
  if (typeof task !== "object" || task === null || Array.isArray(task)) return refuse("task", "ERROR_TASK_ABSENT", "expected a task object");
  const t = task as Record<string, unknown>;
  const typeName = typeof t.type === "string" ? t.type : "";
  const picked = pick((e) => e.v2, typeName, (param) => {
    const v = pathValue(t, param);
    return typeof v === "string" || typeof v === "number" ? String(v).toLowerCase() : "";
  });
  if (picked === undefined) return refuse("type", "ERROR_TASK_NOT_SUPPORTED", `expected one of ${[...new Set(ENTRIES.flatMap((e) => e.v2.map((n) => n.name)))].join(", ")}`);
  if ("param" in picked) return refuse(picked.param, "ERROR_TASK_NOT_SUPPORTED", `expected one of ${picked.allowed.join(", ")} with type ${typeName}`);
  return readFields(picked.entry, {
    api: "v2",
    form: "loose",
    find: (_field, spec) => {
      for (const name of spec.v2) {
        const v = pathValue(t, name);
        if (v !== undefined && v !== null && v !== "") return { value: v, name };
      }
      return undefined;
    },
    proxy: () => v2Proxy(t),
  }, picked.name.proxy ?? picked.entry.proxy, picked.name.fixed);
}
