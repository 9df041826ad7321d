/** A task's HTTP shapes: the JSON body GET /v1/tasks/{id} answers and its `Server-Timing` header. */
import type { Task } from "../tasks/task.ts";
import { solutionIn } from "../tasks/task_catalogue.ts";

/** The provider without a providers file (config/providers.ts DEFAULT_PROVIDER_NAME). */
const DEFAULT_PROVIDER = "captchaai";

/**
 * Whether task views name their provider: with a providers file (docs/providers.md), even for a
 * provider it calls `captchaai`; not for the lone default provider of a worker without one.
 */
export function namesProviders(providers: readonly string[]): boolean {
  return providers.length > 1 || providers[0] !== DEFAULT_PROVIDER;
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

/** The task as GET /v1/tasks/{id} shows it (docs/task-api.md); `named`: with its provider (namesProviders). */
export function taskView(task: Task, named = false): Record<string, unknown> {
  const view: Record<string, unknown> = {
    id: task.id,
    type: task.type,
    status: task.status,
    created_at: new Date(task.createdAt).toISOString(),
  };
  const solution = solutionIn(task, "native");
  if (solution !== undefined) {
    view.solution = solution;
    // One text: the user agent beside it (several values carry it inside).
    if (typeof solution === "string" && task.useragent !== undefined) view.useragent = task.useragent;
  }
  if (task.error !== undefined) view.error = { code: task.error.code, message: task.error.message };
  // Who has it or solved it (docs/providers.md).
  if (named && task.provider !== undefined) view.provider = task.provider;
  if (task.status === "solved" && task.endedAt !== undefined) view.solved_at = new Date(task.endedAt).toISOString();
  if (task.status === "failed" && task.endedAt !== undefined) view.failed_at = new Date(task.endedAt).toISOString();
  return view;
}
