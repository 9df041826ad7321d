/** A task as the worker tracks it, from acceptance to its end: types, kinds, timing. */
import type { TaskFailureCode } from "../base/error_registry.ts";
import type { SolutionValue } from "./task_solution.ts";
import { catalogueEntry, type TaskKind, type TaskParams, type TaskType } from "./task_catalogue.ts";

export type TaskStatus = "queued" | "submitted" | "solved" | "failed";

/** Image tasks are quick; token tasks have longer solves (first polls and bulkheads split on this). */
export const TASK_KINDS: readonly TaskKind[] = ["image", "token"];

/** Whom a failure is charged to: the worker (its health counts it) or the client's input; unset for nobody's (a shutdown, a restore). */
export type FailureBlame = "worker" | "client";

/** The error code of a task withdrawn because the journal could not record it: refused to its client, who never had its id. */
export const WITHDRAWN_CODE = "journal" satisfies TaskFailureCode;

/** A task withdrawn at acceptance (WITHDRAWN_CODE): no client's task, so no client's outcome or callback. */
export function isWithdrawn(task: Pick<Task, "error">): boolean {
  return task.error?.code === WITHDRAWN_CODE;
}

export interface TaskError {
  /** The upstream code (e.g. ERROR_CAPTCHA_UNSOLVABLE) or `timeout` / `shutdown`. */
  code: string;
  message: string;
  /** Set by the solver as it fails the task; not journaled (a restored failure is nobody's). */
  blame?: FailureBlame;
}

export interface Task {
  readonly id: string;
  readonly type: TaskType;
  readonly kind: TaskKind;
  /** Emptied of its image once the task ended (see withoutPayload): results are kept for an hour, images need not be. */
  params: TaskParams;
  readonly createdAt: number;
  readonly deadlineAt: number;
  status: TaskStatus;
  upstreamId: string | undefined;
  submittedAt: number | undefined;
  endedAt: number | undefined;
  solution: SolutionValue | undefined;
  /** The user agent the upstream solved with, when it said (the client must browse with it). */
  useragent: string | undefined;
  error: TaskError | undefined;
  /** The provider that took it (docs/providers.md): polls and reports go there; undefined until submitted. */
  provider?: string | undefined;
  /** What its solve cost at that provider's price (per-solve providers); undefined on a thread plan. */
  costUsd?: number | undefined;
  /** Submits the upstream accepted (2 at most: one retry after ERROR_CAPTCHA_UNSOLVABLE); refused ones do not count. */
  submissions: number;
  polls: number;
  reported: "good" | "bad" | undefined;
  /** Where the task's time went, for `Server-Timing` and the overhead benchmark. */
  timing: TaskTiming;
}

/** Milliseconds spent queued, in upstream calls and in scheduled poll waits; the rest is the worker's. */
export interface TaskTiming {
  queueMs: number;
  upstreamMs: number;
  waitMs: number;
  /** When the task last entered the queue (undefined while it holds a thread or has ended). */
  queuedSince: number | undefined;
}

/** The parameters without the bulky part nothing needs after the end (the catalogue's payload fields: images). */
export function withoutPayload(params: TaskParams): TaskParams {
  const fields = catalogueEntry(params.type)?.fields ?? {};
  let out: Record<string, unknown> | undefined;
  for (const [name, spec] of Object.entries(fields)) {
    const v = (params as unknown as Record<string, unknown>)[name];
    if (spec.payload && v !== undefined && v !== "" && !(Array.isArray(v) && v.length === 0)) (out ??= { ...params })[name] = Array.isArray(v) ? [] : "";
  }
  return (out ?? params) as unknown as TaskParams;
}

export function isEnded(task: Task): boolean {
  return task.status === "solved" || task.status === "failed";
}

/** What a proxied routing class adds to the type. */
const PROXIED = "+proxy";

/**
 * A task's routing class: its type, and whether it carries a proxy (it then goes only to a provider
 * that takes the type with one). Whether a provider takes a task now depends on nothing else but
 * how long the task has waited (docs/providers.md).
 */
export function routingClass(task: Pick<Task, "type" | "params">): string {
  return classKey(task.type, task.params.proxy !== undefined);
}

/** The routing class of tasks of `type`, with or without a proxy. */
export function classKey(type: TaskType, proxied: boolean): string {
  return proxied ? `${type}${PROXIED}` : type;
}

/** What a routing class is made of: its type, and whether its tasks carry a proxy. */
export function classOf(key: string): { type: TaskType; proxied: boolean } {
  const proxied = key.endsWith(PROXIED);
  return { type: (proxied ? key.slice(0, -PROXIED.length) : key) as TaskType, proxied };
}
