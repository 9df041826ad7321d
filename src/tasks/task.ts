/** A task as the worker tracks it, from acceptance to its end; types, kinds and the public view. */
import type { TaskParams } from "./task_params.ts";

export type TaskType = "image" | "recaptcha_v2" | "recaptcha_v3" | "turnstile";
export type TaskKind = "image" | "token";
export type TaskStatus = "queued" | "submitted" | "solved" | "failed";

export const TASK_TYPES: readonly TaskType[] = ["image", "recaptcha_v2", "recaptcha_v3", "turnstile"];
export const TASK_KINDS: readonly TaskKind[] = ["image", "token"];

/** Image tasks are quick; reCAPTCHA and Turnstile are token tasks with longer solves (bulkheads split on this). */
export function kindOf(type: TaskType): TaskKind {
  return type === "image" ? "image" : "token";
}

export interface TaskError {
  /** The upstream code (e.g. ERROR_CAPTCHA_UNSOLVABLE) or `timeout` / `shutdown`. */
  code: string;
  message: string;
}

export interface Task {
  readonly id: string;
  readonly type: TaskType;
  readonly kind: TaskKind;
  readonly params: TaskParams;
  readonly createdAt: number;
  readonly deadlineAt: number;
  status: TaskStatus;
  upstreamId: string | undefined;
  submittedAt: number | undefined;
  endedAt: number | undefined;
  solution: string | undefined;
  error: TaskError | undefined;
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

/**
 * An ended task's `Server-Timing` header (RFC-less but browser-shown W3C Server Timing): queue,
 * upstream calls, the poll schedule's planned waits, and `worker`, the time the worker itself added.
 */
export function serverTiming(task: Task): string | undefined {
  if (task.endedAt === undefined) return undefined;
  const t = task.timing;
  const total = task.endedAt - task.createdAt;
  const worker = Math.max(0, total - t.queueMs - t.upstreamMs - t.waitMs);
  const f = (ms: number) => ms.toFixed(2);
  return `queue;dur=${f(t.queueMs)}, upstream;dur=${f(t.upstreamMs)}, poll-wait;dur=${f(t.waitMs)}, worker;dur=${f(worker)}, total;dur=${f(total)}`;
}

/** The task as GET /v1/tasks/{id} shows it (SPEC §5). */
export function taskView(task: Task): Record<string, unknown> {
  const view: Record<string, unknown> = {
    id: task.id,
    type: task.type,
    status: task.status,
    created_at: new Date(task.createdAt).toISOString(),
  };
  if (task.solution !== undefined) view.solution = task.solution;
  if (task.error !== undefined) view.error = { code: task.error.code, message: task.error.message };
  if (task.status === "solved" && task.endedAt !== undefined) view.solved_at = new Date(task.endedAt).toISOString();
  if (task.status === "failed" && task.endedAt !== undefined) view.failed_at = new Date(task.endedAt).toISOString();
  return view;
}

export function isEnded(task: Task): boolean {
  return task.status === "solved" || task.status === "failed";
}
