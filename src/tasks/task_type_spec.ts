/** The shape of one task catalogue entry (task_catalogue.ts): a type's fields, its names in each API, its upstream forms (in.php, and each JSON-API dialect's task) and its solution's forms. */
import type { FieldSpec } from "./task_fields.ts";
import type { SolutionSpec } from "./task_solution.ts";
import type { ProxyType } from "./task_proxy.ts";

export type TaskKind = "image" | "token";
export type Fields = Readonly<Record<string, FieldSpec>>;

/** Whether a task of the type may carry a proxy (and a user agent), must, or cannot. */
export type ProxyRule = "none" | "optional" | "required";

/**
 * A name of the type in one API and what tells it apart where the name serves several types: the
 * values other parameters must have (lower-cased; "" for absent), e.g. `userrecaptcha` with
 * `version=v3`. `fixed`: field values the name implies (`RecaptchaV2EnterpriseTaskProxyless`:
 * enterprise). `proxy`: a JSON-API name that requires a proxy (`TurnstileTask`) or takes none
 * (`TurnstileTaskProxyless`); undefined: as the type says.
 */
export interface ApiName {
  readonly name: string;
  readonly when?: Readonly<Record<string, readonly string[]>>;
  readonly fixed?: Readonly<Record<string, string | number | boolean>>;
  readonly proxy?: "required" | "none";
}

/**
 * The JSON-API dialects the worker sends tasks in: anti-captcha.com's, CapSolver's, CapMonster
 * Cloud's and api.2captcha.com's. Each names task types its own way (CapSolver's Turnstile is
 * `AntiTurnstileTaskProxyLess`) and some name fields their own way (its `metadata.cdata`).
 */
export const DIALECTS = ["anticaptcha", "capsolver", "capmonster", "2captcha"] as const;
export type Dialect = (typeof DIALECTS)[number];

/** A JSON value a dialect sends as it is (`version: 4`). */
export type JsonValue = string | number | boolean | null | readonly JsonValue[] | { readonly [k: string]: JsonValue };

/**
 * How one dialect names a type: the task type to send without a proxy and with one (either
 * undefined: the dialect does not take the type that way), the task parameters that pick this name
 * among several (`{ enterprise: true }`: the first that matches wins), values always sent
 * (`version: 4`; a dotted name nests: `initParameters.riskType`), and fields sent under another
 * name than the field's first JSON-API name: one or several names (dotted ones nest), or null for
 * a field the dialect does not take. `proxiedNeeds`: fields a task must have to go with a proxy
 * under this name (anti-captcha's proxied GeeTest and reCAPTCHA tasks require a userAgent).
 */
export interface DialectName {
  readonly proxyless?: string;
  readonly proxied?: string;
  readonly proxiedNeeds?: readonly string[];
  readonly when?: Readonly<Record<string, string | number | boolean>>;
  readonly fixed?: Readonly<Record<string, JsonValue>>;
  readonly fields?: Readonly<Record<string, string | readonly string[] | null>>;
}

/** A type's names in each dialect; a dialect it leaves out does not take the type (the router skips it). */
export type DialectNames = Readonly<Partial<Record<Dialect, readonly DialectName[]>>>;

export interface TaskTypeSpec<T extends string = string, F extends Fields = Fields> {
  readonly type: T;
  /** Image tasks are quick; token tasks take longer (first poll, bulkheads). */
  readonly kind: TaskKind;
  /** What it solves, for GET /v1/types and docs/task-api.md. */
  readonly title: string;
  readonly fields: F;
  /** A rule across fields: the field at fault and why, or undefined. */
  readonly check?: (params: Readonly<Record<string, unknown>>) => { field: string; why: string } | undefined;
  /** Whether its tasks may carry a proxy (`proxy`, `proxytype`) and a user agent. */
  readonly proxy: ProxyRule;
  /** The proxy types the upstream takes for it, where not all of them. @default every one of PROXY_TYPES */
  readonly proxyTypes?: readonly ProxyType[];
  /** 2captcha's legacy `method` names for it (in.php). */
  readonly legacy: readonly ApiName[];
  /** The JSON API's task type names (2captcha API v2, anti-captcha, CapSolver's spellings) and their aliases. */
  readonly v2: readonly ApiName[];
  /** The in.php `method` CaptchaAI receives, and fields always sent with it. */
  readonly upstream: { readonly method: string; readonly fixed?: Readonly<Record<string, string>> };
  /** The task a JSON-API provider receives, per dialect (task_dialects.ts builds it). */
  readonly dialects: DialectNames;
  /** How its solution reads from the upstream and shows in each API. */
  readonly solution: SolutionSpec;
}
