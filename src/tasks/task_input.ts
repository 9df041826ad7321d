/**
 * A task as each API sends it, read through the catalogue into typed parameters: the task API's
 * JSON object, 2captcha's legacy parameters (text, from a query, form, multipart or JSON body) and
 * a JSON-API task object. One set of field rules for all three; what differs is only where a
 * field's value is found and what is done with names the API does not know (the task API refuses
 * them, so a typo is not silently ignored; the 2captcha APIs ignore them, as 2captcha does:
 * clients send soft_id, header_acao and more). A refusal names the field and the protocol code a
 * 2captcha client reads, and each API renders it in its own dialect.
 */
import type { ProtocolCode } from "../base/error_registry.ts";
import { didYouMean } from "../base/did_you_mean.ts";
import { CATALOGUE, catalogueEntry, TASK_TYPES, type TaskParams, type TaskTypeSpec } from "./task_catalogue.ts";
import { isMisfit, type FieldForm, type FieldSpec, type RefusalReason } from "./task_fields.ts";

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

/** A value as found, and the name it was found under. */
type Found = { value: unknown; name: string } | undefined;

type Api = "native" | "legacy" | "v2";

/** What `api` calls a field (the name a refusal of a missing one uses). */
function nameIn(api: Api, field: string, spec: FieldSpec | undefined): string {
  if (api === "legacy") return spec?.legacy?.[0] ?? field;
  if (api === "v2") return spec?.v2[0] ?? field;
  return field;
}

/**
 * Reads each field of `entry` with `find`, checks the rules and adds the values `fixed` implies.
 * `form`: how the values arrived.
 */
function readFields(entry: TaskTypeSpec, api: Api, find: (field: string, spec: FieldSpec) => Found, fixed?: Readonly<Record<string, unknown>>): TaskVerdict {
  const out: Record<string, unknown> = { type: entry.type };
  const form: FieldForm = api === "native" ? "json" : "text";
  for (const [field, spec] of Object.entries(entry.fields)) {
    const found = find(field, spec);
    if (found === undefined) {
      if (spec.required) return misfit(field, nameIn(api, field, spec), spec, "missing", "is required");
      continue;
    }
    const v = spec.read(found.value, form);
    if (isMisfit(v)) return misfit(field, found.name, spec, v.misfit, v.why);
    out[field] = v;
  }
  for (const [field, value] of Object.entries(fixed ?? {})) out[field] = value;
  const broken = entry.check?.(out);
  if (broken) return misfit(broken.field, nameIn(api, broken.field, entry.fields[broken.field]), entry.fields[broken.field], "invalid", broken.why);
  return { ok: true, params: out as unknown as TaskParams };
}

function misfit(field: string, name: string, spec: FieldSpec | undefined, reason: RefusalReason, why: string): TaskVerdict {
  return refuse(field, spec?.codes[reason] ?? "ERROR_BAD_PARAMETERS", why, name);
}

/** The task API's body (`{"type":"image","image":"..."}`): JSON values, unknown fields refused, null for absent. */
export function readNativeTask(body: unknown): TaskVerdict {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return refuse("body", "ERROR_BAD_PARAMETERS", "expected a JSON object");
  const input = body as Record<string, unknown>;
  const type = Object.hasOwn(input, "type") ? input.type : undefined;
  const entry = typeof type === "string" ? catalogueEntry(type) : undefined;
  if (!entry) return refuse("type", "ERROR_TASK_NOT_SUPPORTED", `expected one of ${TASK_TYPES.join(", ")}`);
  for (const key of Object.keys(input)) {
    if (key === "type" || Object.hasOwn(entry.fields, key)) continue;
    const name = key.slice(0, 64);
    const article = /^[aeiou]/.test(entry.type) ? "an" : "a";
    return refuse(name, "ERROR_BAD_PARAMETERS", `unknown field for ${article} ${entry.type} task${didYouMean(name, Object.keys(entry.fields), (f) => `\`${f}\``)}`);
  }
  return readFields(entry, "native", (field) => {
    const v = input[field];
    return v === null || v === undefined ? undefined : { value: v, name: field };
  });
}

/** Parameters by name, as a 2captcha client sends them (query, form, multipart or JSON, all text). */
export type LegacyParams = ReadonlyMap<string, string>;

/** A parameter's text, trimmed; an empty one counts as absent, as 2captcha reads it. */
function textOf(p: LegacyParams, name: string): string | undefined {
  const v = p.get(name)?.trim();
  return v === undefined || v === "" ? undefined : v;
}

/** 2captcha's legacy in.php parameters: the `method` (and, where one method serves several types, the parameters that tell them apart) picks the type. */
export function readLegacyTask(p: LegacyParams): TaskVerdict {
  const method = textOf(p, "method");
  // 2captcha reads a request without a method as an upload without a file.
  if (method === undefined) return refuse("method", "ERROR_ZERO_CAPTCHA_FILESIZE", "is required");
  const candidates: TaskTypeSpec[] = (CATALOGUE as readonly TaskTypeSpec[]).filter((e) => e.legacy.methods.includes(method));
  if (candidates.length === 0) return refuse("method", "ERROR_NO_SUCH_METHOD", `expected one of ${[...new Set((CATALOGUE as readonly TaskTypeSpec[]).flatMap((e) => e.legacy.methods))].join(", ")}`);
  const entry = candidates.find((e) => selects(e, p));
  if (!entry) {
    const [name, values] = Object.entries(candidates[0]!.legacy.when ?? {})[0] ?? ["method", []];
    const allowed = [...new Set(candidates.flatMap((e) => e.legacy.when?.[name] ?? values))].filter((v) => v !== "");
    return refuse(name, "ERROR_BAD_PARAMETERS", `expected one of ${allowed.join(", ")} with method=${method}`);
  }
  return readFields(entry, "legacy", (field, spec) => {
    for (const name of spec.legacy ?? [field]) {
      const v = name === "body" || name === "file" ? p.get(name) : textOf(p, name);
      if (v !== undefined && v !== "") return { value: v, name };
    }
    return undefined;
  });
}

function selects(entry: TaskTypeSpec, p: LegacyParams): boolean {
  return Object.entries(entry.legacy.when ?? {}).every(([name, values]) => values.includes((textOf(p, name) ?? "").toLowerCase()));
}

const V2_TYPES = new Map((CATALOGUE as readonly TaskTypeSpec[]).flatMap((e) => e.v2.map((n) => [n.name, { entry: e, fixed: n.fixed }] as const)));

/**
 * A JSON-API task object (`{"type":"RecaptchaV2TaskProxyless","websiteURL":...}`): the type name
 * picks the entry; values are read as text (true/false as 1/0), so both 2captcha APIs validate alike.
 */
export function readV2Task(task: unknown): TaskVerdict {
  if (typeof task !== "object" || task === null || Array.isArray(task)) return refuse("task", "ERROR_TASK_ABSENT", "expected a task object");
  const t = task as Record<string, unknown>;
  const named = typeof t.type === "string" ? V2_TYPES.get(t.type) : undefined;
  if (!named) return refuse("type", "ERROR_TASK_NOT_SUPPORTED", `expected one of ${[...V2_TYPES.keys()].join(", ")}`);
  let bad: TaskVerdict | undefined;
  const verdict = readFields(named.entry, "v2", (field, spec) => {
    for (const name of spec.v2) {
      const v = Object.hasOwn(t, name) ? t[name] : undefined;
      if (v === undefined || v === null) continue;
      if (typeof v === "boolean") return { value: v ? "1" : "0", name };
      if (typeof v === "string" || (typeof v === "number" && Number.isFinite(v))) return String(v) === "" ? undefined : { value: String(v), name };
      bad ??= refuse(field, "ERROR_BAD_PARAMETERS", "expected a string, a number or a boolean", name);
    }
    return undefined;
  }, named.fixed);
  return bad ?? verdict;
}
