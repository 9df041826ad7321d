/**
 * The catalogue described for clients and people (GET /v1/types, `captcha-worker types`, docs/task-api.md's
 * type table): every type, its fields with their bounds, and its names in each API, generated from
 * the entries themselves so the description cannot drift from what the intakes accept.
 */
import { CATALOGUE, type TaskTypeSpec } from "./task_catalogue.ts";
import { PROXY_TYPES } from "./task_proxy.ts";
import type { FieldDescription } from "./task_fields.ts";
import { DIALECTS, type ApiName, type DialectName, type DialectNames } from "./task_type_spec.ts";

export interface FieldDoc extends FieldDescription {
  /** Its names in the legacy API (2captcha's in.php) and in a JSON-API task; the in.php name the upstream receives. */
  names: { legacy: readonly string[]; v2: readonly string[]; upstream: string | null };
}

export interface TypeDoc {
  type: string;
  kind: "image" | "token";
  title: string;
  /** Whether a task may carry a proxy (`proxy` + `proxytype`), must, or cannot. */
  proxy: "none" | "optional" | "required";
  fields: Record<string, FieldDoc>;
  names: {
    legacy: readonly ApiName[];
    v2: readonly ApiName[];
    upstream: { method: string; fixed?: Readonly<Record<string, string>> };
    /** The task type each JSON-API dialect receives, without a proxy and with one (a dialect left out does not take the type). */
    dialects: DialectNames;
  };
}

const PROXY_FIELDS: Record<string, FieldDoc> = {
  proxy: { kind: "proxy", required: false, pattern: "login:password@host:port or host:port", names: { legacy: ["proxy"], v2: ["proxyAddress", "proxyPort", "proxyLogin", "proxyPassword"], upstream: "proxy" } },
  proxytype: { kind: "string", required: false, pattern: PROXY_TYPES.join("|"), names: { legacy: ["proxytype"], v2: ["proxyType"], upstream: "proxytype" } },
};

function describeType(e: TaskTypeSpec): TypeDoc {
  const fields: Record<string, FieldDoc> = {};
  for (const [name, spec] of Object.entries(e.fields)) {
    const legacy = spec.legacy ?? [name];
    fields[name] = { ...spec.describe(), names: { legacy, v2: spec.v2, upstream: spec.upstream === undefined ? legacy[0]! : spec.upstream } };
  }
  if (e.proxy !== "none") for (const [name, doc] of Object.entries(PROXY_FIELDS)) fields[name] = { ...doc, required: e.proxy === "required" };
  if (e.proxyTypes && fields.proxytype) fields.proxytype = { ...fields.proxytype, pattern: e.proxyTypes.join("|") };
  return { type: e.type, kind: e.kind, title: e.title, proxy: e.proxy, fields, names: { legacy: e.legacy, v2: e.v2, upstream: e.upstream, dialects: e.dialects } };
}

/** Every type, in the catalogue's order. */
export function describeTypes(): TypeDoc[] {
  return (CATALOGUE as readonly TaskTypeSpec[]).map(describeType);
}

const code = (s: string) => `\`${s}\``;

/** A name with the values that tell it apart: `method=base64 recaptcha=(absent)|0`, `GeeTestTaskProxyless version=4`. */
export function apiName(n: ApiName, prefix = ""): string {
  return `${prefix}${n.name}${Object.entries(n.when ?? {}).map(([k, v]) => ` ${k}=${v.map((x) => x || "(absent)").join("|")}`).join("")}`;
}

export const legacyName = (n: ApiName): string => apiName(n, "method=");

/** docs/task-api.md's type table (markdown): type, what it is, required and optional fields, legacy method, JSON-API names. */
export function typesTable(): string {
  const rows = describeTypes().map((t) => {
    const required = Object.entries(t.fields).filter(([, f]) => f.required).map(([n]) => code(n)).join(", ");
    const optional = Object.entries(t.fields).filter(([, f]) => !f.required).map(([n]) => code(n)).join(", ");
    // A table cell takes no bare `|`.
    const legacy = t.names.legacy.map((n) => code(legacyName(n)).replaceAll("|", "\\|")).join(", ");
    const v2 = t.names.v2.map((n) => code(apiName(n)).replaceAll("|", "\\|")).join(", ");
    return `| ${code(t.type)} | ${t.title} | ${required} | ${optional || "-"} | ${legacy} | ${v2} |`;
  });
  return ["| type | solves | required | optional | legacy (in.php) | JSON API task types |", "|---|---|---|---|---|---|", ...rows].join("\n");
}

/** One dialect's names for a type: `X`, `Y` (proxy); the parameters that pick a variant before it. */
function dialectCell(names: readonly DialectName[] | undefined): string {
  if (!names?.length) return "-";
  return names.map((n) => {
    const when = Object.entries(n.when ?? {}).map(([k, v]) => `${k}=${String(v)}: `).join("");
    const parts = n.proxied !== undefined && n.proxied === n.proxyless
      ? [`${code(n.proxied)} (with or without a proxy)`]
      : [n.proxyless && code(n.proxyless), n.proxied && `${code(n.proxied)} (proxy${n.proxiedNeeds?.length ? ` and ${n.proxiedNeeds.map(code).join(", ")}` : ""})`].filter((x): x is string => !!x);
    return when + parts.join(", ");
  }).join("; ");
}

/** docs/providers.md's table of the task type each JSON-API dialect receives (markdown). */
export function dialectsTable(): string {
  const rows = describeTypes().map((t) => `| ${code(t.type)} | ${DIALECTS.map((d) => dialectCell(t.names.dialects[d])).join(" | ")} |`);
  return [`| type | ${DIALECTS.map(code).join(" | ")} |`, `|---|${DIALECTS.map(() => "---").join("|")}|`, ...rows].join("\n");
}
