/** The shape of one task catalogue entry (task_catalogue.ts): a type's fields, its names in each API, its upstream form and its solution's forms. */
import type { FieldSpec } from "./task_fields.ts";
import type { SolutionSpec } from "./task_solution.ts";

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

export interface TaskTypeSpec<T extends string = string, F extends Fields = Fields> {
  readonly type: T;
  /** Image tasks are quick; token tasks take longer (first poll, bulkheads). */
  readonly kind: TaskKind;
  /** What it solves, for GET /v1/types and the README. */
  readonly title: string;
  readonly fields: F;
  /** A rule across fields: the field at fault and why, or undefined. */
  readonly check?: (params: Readonly<Record<string, unknown>>) => { field: string; why: string } | undefined;
  /** Whether its tasks may carry a proxy (`proxy`, `proxytype`) and a user agent. */
  readonly proxy: ProxyRule;
  /** 2captcha's legacy `method` names for it (in.php). */
  readonly legacy: readonly ApiName[];
  /** The JSON API's task type names (2captcha API v2, anti-captcha, CapSolver's spellings) and their aliases. */
  readonly v2: readonly ApiName[];
  /** The in.php `method` CaptchaAI receives, and fields always sent with it. */
  readonly upstream: { readonly method: string; readonly fixed?: Readonly<Record<string, string>> };
  /** How its solution reads from the upstream and shows in each API. */
  readonly solution: SolutionSpec;
}
