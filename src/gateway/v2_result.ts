/** A task as API v2 shows its result: getTaskResult's answer and the callbackUrl body. */
import type { Task } from "../tasks/task.ts";
import { solutionIn } from "../tasks/task_catalogue.ts";
import { taskFailureCode, v2Error } from "./errors.ts";

/**
 * processing; ready with the solution in the JSON API's shape (the catalogue's: `text` for
 * images, `gRecaptchaResponse` and `token` for reCAPTCHA, `token` for Turnstile, GeeTest's values
 * ..., `userAgent` where the upstream gave one), cost, times in Unix seconds and solveCount; or a
 * failed task's error. Cost is what the solve cost at the provider that took it (docs/providers.md):
 * its reported cost or its price; "0" on a thread plan (paid by the thread, not by the solve).
 */
export function taskResultBody(task: Task): Record<string, unknown> {
  if (task.status === "failed") {
    return v2Error(taskFailureCode(task.error?.code));
  }
  if (task.status !== "solved") return { errorId: 0, status: "processing" };
  const solution = solutionIn(task, "v2");
  return {
    errorId: 0,
    status: "ready",
    solution,
    cost: costText(task),
    createTime: Math.floor(task.createdAt / 1000),
    endTime: Math.floor((task.endedAt ?? task.createdAt) / 1000),
    solveCount: Math.max(1, task.submissions),
  };
}

/** A task's cost in USD as the APIs write it (a decimal string; "0" for a plan's solve). */
export function costText(task: Pick<Task, "costUsd">): string {
  return String(Math.round((task.costUsd ?? 0) * 1e6) / 1e6);
}
