/**
 * The task catalogue: every task type the worker solves, one entry each (catalogue/*.ts), and the
 * types derived from them. An entry says what a task of its type is made of (its fields and their
 * rules), how each API names it and its fields (the task API's `type`, 2captcha's legacy `method`,
 * the JSON API's task type names and aliases), the in.php form the upstream receives, and how its
 * solution reads in each API. Every intake validates through it (task_input.ts) and the upstream
 * form is built from it (upstream/task_form.ts): adding a type is one entry here.
 */
import type { FieldSpec } from "./task_fields.ts";
import type { TaskKind, TaskTypeSpec } from "./task_type_spec.ts";
import type { TaskProxy } from "./task_proxy.ts";
import type { SolutionValue } from "./task_solution.ts";
import { CLOUDFLARE_CHALLENGE, TURNSTILE } from "./catalogue/cloudflare.ts";
import { GEETEST, GEETEST_V4 } from "./catalogue/geetest.ts";
import { BLS, GRID, IMAGE } from "./catalogue/image.ts";
import { RECAPTCHA_V2, RECAPTCHA_V3 } from "./catalogue/recaptcha.ts";
import { CAPTCHAFOX, FRIENDLY_CAPTCHA, LEMIN } from "./catalogue/tokens.ts";

export type { ApiName, Fields, ProxyRule, TaskKind, TaskTypeSpec } from "./task_type_spec.ts";

/** Every type, in the order /v1/types lists them. */
export const CATALOGUE = [
  IMAGE, GRID, BLS, RECAPTCHA_V2, RECAPTCHA_V3, TURNSTILE, CLOUDFLARE_CHALLENGE, GEETEST, GEETEST_V4, CAPTCHAFOX, FRIENDLY_CAPTCHA, LEMIN,
] as const;

type Entry = (typeof CATALOGUE)[number];
export type TaskType = Entry["type"];

type ValueOf<S> = S extends FieldSpec<infer T, boolean> ? T : never;
type RequiredKeys<F> = { [K in keyof F]: F[K] extends FieldSpec<unknown, true> ? K : never }[keyof F];
type OptionalKeys<F> = Exclude<keyof F, RequiredKeys<F>>;
/** The parameters of one entry's task, as the compiler sees them. */
export type ParamsOf<E extends TaskTypeSpec> = { type: E["type"] } & { [K in RequiredKeys<E["fields"]>]: ValueOf<E["fields"][K]> } & {
  [K in OptionalKeys<E["fields"]>]?: ValueOf<E["fields"][K]>;
};

/**
 * Who asked and where to tell them (gateway tasks): kept with the parameters so the journal's
 * accept record carries both across a restart. Never sent upstream. And the proxy the task is
 * solved through (token types), which is.
 */
export interface TaskOrigin {
  /** The proxy the upstream solves through; its password never serialises (task_proxy.ts). */
  proxy?: TaskProxy;
  /** The client's name from --client-keys-file. */
  client?: string;
  /** Where the result is POSTed when the task ends, in the form of the API it came in by. */
  callback?: { url: string; format: "pingback" | "v2" };
}

/** What a client asks to be solved: one type's parameters, and where it came from. */
export type TaskParams = (Entry extends infer E ? (E extends TaskTypeSpec ? ParamsOf<E> : never) : never) & TaskOrigin;

export const TASK_TYPES: readonly TaskType[] = CATALOGUE.map((e) => e.type);
const BY_TYPE = new Map<string, TaskTypeSpec>(CATALOGUE.map((e) => [e.type, e as TaskTypeSpec]));

/** The entry of `type`; undefined for a type the worker does not know. */
export function catalogueEntry(type: string): TaskTypeSpec | undefined {
  return BY_TYPE.get(type);
}

export function isTaskType(v: unknown): v is TaskType {
  return typeof v === "string" && BY_TYPE.has(v);
}

/** A task type's kind. */
export function kindOf(type: TaskType): TaskKind {
  return BY_TYPE.get(type)!.kind;
}

/** A solved task's solution in one API's shape (task_solution.ts says which); undefined before it is solved. */
export function solutionIn(task: { type: TaskType; solution?: SolutionValue | undefined; useragent?: string | undefined }, api: "native" | "legacy" | "v2"): SolutionValue | Record<string, unknown> | undefined {
  if (task.solution === undefined) return undefined;
  const spec = BY_TYPE.get(task.type)!.solution;
  const s = { value: task.solution, useragent: task.useragent };
  return api === "native" ? spec.native(s) : api === "legacy" ? spec.legacy(s) : spec.v2(s);
}

/** The solution as one line of text (2captcha's json=0 answers, pingbacks, logs): text as it is, several values as JSON. */
export function solutionText(value: SolutionValue | Record<string, unknown>): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}
