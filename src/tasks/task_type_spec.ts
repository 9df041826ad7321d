/** The shape of one task catalogue entry (task_catalogue.ts): a type's fields, its names in each API, its upstream form and its solution's forms. */
import type { FieldSpec } from "./task_fields.ts";

export type TaskKind = "image" | "token";
export type Fields = Readonly<Record<string, FieldSpec>>;

/** A JSON-API task type name and the field values it implies (`RecaptchaV2EnterpriseTaskProxyless`: enterprise). */
export interface V2Name {
  readonly name: string;
  readonly fixed?: Readonly<Record<string, string | number | boolean>>;
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
  /**
   * 2captcha's legacy `method` names for it and, where one method serves several types, the values
   * other parameters must have (lower-cased; "" for absent): `userrecaptcha` with `version=v3`.
   */
  readonly legacy: { readonly methods: readonly string[]; readonly when?: Readonly<Record<string, readonly string[]>> };
  /** The JSON API's task type names (2captcha API v2, anti-captcha) and their aliases. */
  readonly v2: readonly V2Name[];
  /** The in.php `method` CaptchaAI receives, and fields always sent with it. */
  readonly upstream: { readonly method: string; readonly fixed?: Readonly<Record<string, string>> };
  /** The JSON API's `solution` object for a solution. */
  readonly solution: { readonly v2: (solution: string) => Record<string, unknown> };
}

