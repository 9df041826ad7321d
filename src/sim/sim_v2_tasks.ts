/**
 * A createTask `task` object read as one dialect names it (anti-captcha's, CapSolver's): its `type`
 * picks the catalogue entry through the dialect's names (tasks/task_dialects.ts, the same table the
 * worker's client sends by), its fields are found under the dialect's names (CapSolver's
 * `metadata.cdata`, anti-captcha's `initParameters.captcha_id`), its proxy in the dialect's form
 * (five `proxy*` fields, or CapSolver's one `proxy` string), and the values are checked by the
 * catalogue's own field rules. The simulator takes exactly what the worker's client sends, and a
 * type the dialect does not name is one the service does not take.
 */
import type { ProtocolCode } from "../base/error_registry.ts";
import { CATALOGUE, type TaskParams, type TaskType } from "../tasks/task_catalogue.ts";
import type { Dialect } from "../tasks/task_dialects.ts";
import { describeRefusal, readNativeTask } from "../tasks/task_input.ts";
import { TaskProxy } from "../tasks/task_proxy.ts";
import type { DialectName, TaskTypeSpec } from "../tasks/task_type_spec.ts";
import type { AnswerShape } from "./sim_answers.ts";
import { imageRefusal } from "./sim_images.ts";

/** A task the simulator takes: its catalogue parameters, solve kind, answer shape and the user agent answered with it. */
export interface V2Taken {
  readonly ok: true;
  readonly type: TaskType;
  readonly params: TaskParams;
  readonly kind: "image" | "token";
  readonly shape: AnswerShape;
  readonly userAgent: string | undefined;
}

/** Why not: the dialect names no such type (`unsupported`), or the task's values are refused (a protocol code and words). */
export type V2Refused = { readonly ok: false; readonly unsupported: true; readonly typeName: string } | { readonly ok: false; readonly unsupported: false; readonly code: ProtocolCode; readonly description: string };

const ENTRIES = CATALOGUE as readonly TaskTypeSpec[];

/** What each type's answer looks like (sim_answers.ts), as the legacy methods answer it. */
const SHAPES: Readonly<Record<TaskType, (p: Readonly<Record<string, unknown>>) => AnswerShape>> = {
  image: () => ({ kind: "text" }),
  grid: (p) => ({ kind: "grid", cells: (Number(p.rows) || 3) * (Number(p.cols) || 3) }),
  bls: () => ({ kind: "bls" }),
  recaptcha_v2: () => ({ kind: "token", prefix: "03AFcWeA" }),
  recaptcha_v3: () => ({ kind: "token", prefix: "03AFcWeA" }),
  turnstile: () => ({ kind: "token", prefix: "0." }),
  cloudflare_challenge: () => ({ kind: "cf_clearance" }),
  geetest: (p) => ({ kind: "geetest", challenge: String(p.challenge) }),
  geetest_v4: (p) => ({ kind: "geetest_v4", captchaId: String(p.captcha_id) }),
  captchafox: () => ({ kind: "token", prefix: "fox_" }),
  friendly_captcha: () => ({ kind: "token", prefix: "" }),
  lemin: () => ({ kind: "lemin" }),
};

/** Types whose answer is good only with the user agent it was solved with: answered beside it (the task's own, or `defaultUserAgent`). */
const AGENT_BOUND: ReadonlySet<string> = new Set(["turnstile", "cloudflare_challenge", "captchafox"]);

/** The task `task` of a createTask in `dialect`, or why the service would refuse it. Never throws. */
export function readDialectTask(task: unknown, dialect: Dialect, defaultUserAgent: string): V2Taken | V2Refused {
  if (typeof task !== "object" || task === null || Array.isArray(task)) return refused("ERROR_TASK_ABSENT", "The task object is missing.");
  const t = task as Record<string, unknown>;
  const typeName = typeof t.type === "string" ? t.type : "";
  const candidates = ENTRIES.flatMap((entry) =>
    (entry.dialects[dialect] ?? []).flatMap((variant) => {
      const proxied = variant.proxied === typeName;
      return variant.proxyless === typeName || proxied ? [{ entry, variant, proxied: proxied && (variant.proxyless !== typeName || hasProxy(t, dialect)) }] : [];
    }),
  );
  // A name serving several types (GeeTest v3 and v4) tells them apart by the values it implies (version: 4).
  const fitting = candidates.filter((c) => Object.entries(c.variant.fixed ?? {}).every(([path, v]) => JSON.stringify(pathValue(t, path)) === JSON.stringify(v)));
  const ordered = [...fitting.filter((c) => c.variant.fixed !== undefined), ...fitting.filter((c) => c.variant.fixed === undefined)];
  if (ordered.length === 0) return { ok: false, unsupported: true, typeName: typeName.slice(0, 64) };
  let first: V2Refused | undefined;
  for (const c of ordered) {
    const read = readAs(t, c.entry, c.variant, c.proxied, dialect, defaultUserAgent);
    if (read.ok) return read;
    first ??= read;
  }
  return first!;
}

function readAs(t: Record<string, unknown>, entry: TaskTypeSpec, variant: DialectName, proxied: boolean, dialect: Dialect, defaultUserAgent: string): V2Taken | V2Refused {
  const native: Record<string, unknown> = { type: entry.type, ...variant.when };
  for (const [field, spec] of Object.entries(entry.fields)) {
    const named = variant.fields && Object.hasOwn(variant.fields, field) ? variant.fields[field] : spec.v2[0];
    if (named === null || named === undefined) continue;
    for (const path of typeof named === "string" ? [named] : named) {
      const v = pathValue(t, path);
      if (v !== undefined && v !== null && v !== "") {
        native[field] = v;
        break;
      }
    }
  }
  if (proxied) {
    const proxy = dialect === "capsolver" ? colonProxy(t.proxy) : fieldsProxy(t);
    if (typeof proxy === "string") return refused("ERROR_BAD_PROXY", `Invalid proxy: ${proxy}.`);
    Object.assign(native, proxy.upstreamFields());
    // anti-captcha's proxied tasks need the browser's user agent to emulate the visitor (its RecaptchaV2Task and GeeTestTask pages).
    const lacking = variant.proxiedNeeds?.find((f) => native[f] === undefined);
    if (lacking) return refused("ERROR_INCORRECT_SESSION_DATA", `The ${lacking === "useragent" ? "userAgent" : lacking} is required with a proxy.`);
  }
  const verdict = readNativeTask(native);
  if (!verdict.ok) return refused(verdict.refusal.code, describeRefusal(verdict.refusal));
  const params = verdict.params as unknown as Record<string, unknown>;
  if (typeof params.image === "string") {
    // The image limits and formats the in.php methods answer (sim_images.ts); a JSON API has one code for a file it cannot read.
    const bad = imageRefusal(params.image);
    if (bad) return refused(bad === "ERROR_ZERO_CAPTCHA_FILESIZE" || bad === "ERROR_TOO_BIG_CAPTCHA_FILESIZE" ? bad : "ERROR_IMAGE_TYPE_NOT_SUPPORTED", "The image is not one the service takes.");
  }
  const type = entry.type as TaskType;
  const userAgent = AGENT_BOUND.has(type) ? (typeof params.useragent === "string" ? params.useragent : defaultUserAgent) : undefined;
  return { ok: true, type, params: verdict.params, kind: entry.kind, shape: SHAPES[type](params), userAgent };
}

const refused = (code: ProtocolCode, description: string): V2Refused => ({ ok: false, unsupported: false, code, description });

/** Whether a task object carries a proxy in the dialect's form. */
function hasProxy(t: Record<string, unknown>, dialect: Dialect): boolean {
  return dialect === "capsolver" ? t.proxy !== undefined : t.proxyAddress !== undefined || t.proxyType !== undefined;
}

/** anti-captcha's (and 2captcha's, CapMonster's) five fields: proxyType, proxyAddress (an IPv6 one bare), proxyPort, proxyLogin, proxyPassword. */
function fieldsProxy(t: Record<string, unknown>): TaskProxy | string {
  const text = (k: string) => (typeof t[k] === "string" ? (t[k] as string) : typeof t[k] === "number" ? String(t[k]) : undefined);
  const [type, address, port] = [text("proxyType"), text("proxyAddress"), text("proxyPort")];
  if (type === undefined || address === undefined || port === undefined) return "proxyType, proxyAddress and proxyPort are required";
  return TaskProxy.of({ type, host: address.includes(":") ? `[${address}]` : address, port, login: text("proxyLogin"), password: text("proxyPassword") });
}

/** CapSolver's one string, `type:host:port:login:password` or `type:host:port` (docs.capsolver.com, Using proxies). */
function colonProxy(v: unknown): TaskProxy | string {
  const m = typeof v === "string" ? /^([A-Za-z0-9]+):(\[[0-9A-Fa-f:.]+\]|[^:]+):(\d{1,5})(?::([^:]+):(.+))?$/.exec(v) : null;
  if (!m) return "expected type:host:port:login:password or type:host:port";
  return TaskProxy.of({ type: m[1]!, host: m[2]!, port: m[3]!, login: m[4], password: m[5] });
}

/** A value by dotted name (`metadata.cdata`), or undefined. */
function pathValue(t: Record<string, unknown>, path: string): unknown {
  let v: unknown = t;
  for (const part of path.split(".")) {
    if (typeof v !== "object" || v === null || Array.isArray(v) || !Object.hasOwn(v, part)) return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}
