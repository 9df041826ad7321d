/** Tasks built by hand for unit tests: a queued image task unless `over` says otherwise. */
import type { Task } from "../../src/tasks/task.ts";
import { PNG_B64 } from "./images.ts";

export function makeTask(id: string, over: Partial<Task> = {}): Task {
  return {
    id, type: "image", kind: "image", params: { type: "image", image: PNG_B64 }, createdAt: 1000, deadlineAt: 9e15, status: "queued",
    upstreamId: undefined, submittedAt: undefined, endedAt: undefined, solution: undefined, useragent: undefined, error: undefined, submissions: 0, polls: 0,
    reported: undefined, timing: { queueMs: 0, upstreamMs: 0, waitMs: 0, queuedSince: 0 }, ...over,
  };
}
