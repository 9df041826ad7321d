/**
 * Replay, one line at a time: each journal record (journal_records.ts lists them) applied to the open
 * tasks it leaves behind. A record that cannot be applied (not JSON, a missing or mistyped field, an
 * unknown op) is skipped and counted, never fatal.
 */
import { TaskProxy } from "../tasks/task_proxy.ts";
import { TASK_TYPES, type TaskParams, type TaskType } from "../tasks/task_catalogue.ts";
import type { EndRecord, OpenTasks } from "./journal_records.ts";

/** What one line did to the replay: applied, skipped (cannot be applied), or a format header. */
export type LineEffect = { kind: "applied" } | { kind: "skipped" } | { kind: "format"; version: number };

/**
 * Applies one record to `tasks`. Records in file order; a record for a task not (or no longer)
 * open changes nothing; one that cannot be applied is skipped, never thrown. `now` times retention.
 */
export function applyRecord(tasks: OpenTasks, line: string, now: number): LineEffect {
  const r = parseRecord(line);
  if (!r) return { kind: "skipped" };
  if (r.op === "format") return Number.isSafeInteger(r.version) && (r.version as number) >= 1 ? { kind: "format", version: r.version as number } : { kind: "skipped" };
  if (r.op === "spend") {
    if (typeof r.provider !== "string" || typeof r.day !== "string" || !/^\d{4}-\d{2}-\d{2}$/.test(r.day) || typeof r.usd !== "number" || !(r.usd >= 0)) return { kind: "skipped" };
    tasks.spent(r.provider, r.day, r.usd);
    return { kind: "applied" };
  }
  const id = r.id;
  if (typeof id !== "string" || id === "") return { kind: "skipped" };
  switch (r.op) {
    case "accept":
      if (!isTaskType(r.type) || !isParams(r.params, r.type) || !isTime(r.created_at) || !isTime(r.deadline_at)) return { kind: "skipped" };
      tasks.accept({ id, type: r.type, params: withProxy(r.params as Record<string, unknown>), createdAt: r.created_at as number, deadlineAt: r.deadline_at as number });
      return { kind: "applied" };
    case "submitting":
      tasks.submitting(id, typeof r.provider === "string" ? r.provider : undefined);
      return { kind: "applied" };
    case "submitted":
      if (typeof r.upstream_id !== "string") return { kind: "skipped" };
      tasks.submitted(id, r.upstream_id);
      return { kind: "applied" };
    case "unsubmitted":
      tasks.unsubmitted(id);
      return { kind: "applied" };
    case "end":
      if (r.status !== "solved" && r.status !== "failed") return { kind: "skipped" };
      // The parsed record is kept, not the line: one copy of its solution, which the restored task shares.
      tasks.end(id, isRestorableEnd(r) ? { record: r as unknown as EndRecord, bytes: line.length } : undefined, now);
      return { kind: "applied" };
    case "callback_attempt":
      if (!Number.isSafeInteger(r.attempt) || (r.attempt as number) < 1) return { kind: "skipped" };
      tasks.callbackAttempt(id, r.attempt as number);
      return { kind: "applied" };
    case "callback_settled":
      tasks.callbackSettled(id);
      return { kind: "applied" };
    case "reported":
      if (r.reported !== "good" && r.reported !== "bad") return { kind: "skipped" };
      tasks.reported(id, r.reported);
      return { kind: "applied" };
    default:
      return { kind: "skipped" };
  }
}

/** An end record that says enough to answer the task again (version 2; version 1 only closes it). */
function isRestorableEnd(r: Record<string, unknown>): boolean {
  if (!isTaskType(r.type) || !isTime(r.created_at) || !isTime(r.ended_at)) return false;
  if (r.upstream_id !== undefined && typeof r.upstream_id !== "string") return false;
  if (r.status === "solved") return typeof r.solution === "string" || (typeof r.solution === "object" && r.solution !== null && !Array.isArray(r.solution));
  const e = r.error as Record<string, unknown> | undefined;
  return typeof e === "object" && e !== null && typeof e.code === "string" && typeof e.message === "string";
}

const isTaskType = (v: unknown): v is TaskType => typeof v === "string" && (TASK_TYPES as readonly string[]).includes(v);
const isTime = (v: unknown): boolean => typeof v === "number" && Number.isFinite(v);
/** An accept record's params as the solver takes them: a recorded proxy becomes a TaskProxy again (an unreadable one: none). */
function withProxy(p: Record<string, unknown>): TaskParams {
  if (p.proxy === undefined) return p as unknown as TaskParams;
  const proxy = TaskProxy.fromRecord(p.proxy);
  const { proxy: _recorded, ...rest } = p;
  return (proxy ? { ...rest, proxy } : rest) as unknown as TaskParams;
}

const isParams = (v: unknown, type: TaskType): boolean =>
  typeof v === "object" && v !== null && !Array.isArray(v) && (v as Record<string, unknown>).type === type;


function parseRecord(line: string): Record<string, unknown> | undefined {
  try {
    const r = JSON.parse(line) as unknown;
    return typeof r === "object" && r !== null && !Array.isArray(r) ? (r as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
