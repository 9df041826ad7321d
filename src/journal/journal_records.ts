/**
 * The task journal's records (SPEC §8), one JSON object a line, and what they mean: the open tasks
 * they leave behind, replayed from the file's text, and the few lines compaction keeps for them.
 * Pure (no fs), so replay and compaction are tested on strings; src/journal/file_journal.ts writes.
 *
 *   {"op":"accept","id","type","params","created_at","deadline_at"}   durable before the 202
 *   {"op":"submitting","id"}                                          durable before in.php is called
 *   {"op":"submitted","id","upstream_id"}                             the upstream's id
 *   {"op":"unsubmitted","id"}                                         the submit surely did not land
 *   {"op":"end","id","status","code"?}                                solved or failed
 *
 * A task with an upstream id is polled by it after a restart; a task whose submit may have landed
 * (a `submitting` with nothing after it) is `uncertain` and fails with SUBMIT_UNCERTAIN rather than
 * risk a second charge; the rest are queued again.
 */
import type { ReplayedTask } from "../solver/journal_port.ts";
import type { Task, TaskType } from "../tasks/task.ts";
import type { TaskParams } from "../tasks/task_params.ts";

/** A task found open in the journal, as the solver takes it up. */
export type JournaledTask = ReplayedTask;

export interface ReplayReport {
  records: number;
  open: number;
  /** Unparseable lines skipped (a torn last line is the usual one). */
  skipped: number;
  torn: boolean;
}

export interface ReplayResult {
  tasks: OpenTasks;
  report: ReplayReport;
  /** 1-based numbers of the unreadable lines other than a torn last one (each worth a warning). */
  unreadableLines: number[];
  /** The torn last line's number, when the text does not end with a newline (a crash mid-write). */
  tornLine: number | undefined;
}

/** The fields of a task its records carry. */
type RecordedTask = Pick<Task, "id" | "type" | "params" | "createdAt" | "deadlineAt" | "status" | "upstreamId" | "error">;

export function acceptRecord(task: RecordedTask): string {
  return JSON.stringify({ op: "accept", id: task.id, type: task.type, params: task.params, created_at: task.createdAt, deadline_at: task.deadlineAt });
}

export function submittingRecord(id: string): string {
  return JSON.stringify({ op: "submitting", id });
}

export function submittedRecord(id: string, upstreamId: string | undefined): string {
  return JSON.stringify({ op: "submitted", id, upstream_id: upstreamId });
}

export function unsubmittedRecord(id: string): string {
  return JSON.stringify({ op: "unsubmitted", id });
}

export function endRecord(task: RecordedTask): string {
  return JSON.stringify({ op: "end", id: task.id, status: task.status, ...(task.error ? { code: task.error.code } : {}) });
}

interface OpenEntry {
  /** The accept record as written: compaction copies it, replay reads the task back from it. */
  accept: string;
  submitting: boolean;
  upstreamId: string | undefined;
  submissions: number;
}

/** The tasks the journal holds open, in the order they were accepted, and each one's submit state. */
export class OpenTasks {
  readonly #entries = new Map<string, OpenEntry>();

  get size(): number {
    return this.#entries.size;
  }

  /** `acceptLine` is the task's accept record (acceptRecord). */
  accept(id: string, acceptLine: string): void {
    this.#entries.set(id, { accept: acceptLine, submitting: false, upstreamId: undefined, submissions: 0 });
  }

  submitting(id: string): void {
    const e = this.#entries.get(id);
    if (e) e.submitting = true;
  }

  submitted(id: string, upstreamId: string | undefined): void {
    const e = this.#entries.get(id);
    if (!e) return;
    e.upstreamId = upstreamId;
    e.submissions++;
  }

  unsubmitted(id: string): void {
    const e = this.#entries.get(id);
    if (!e) return;
    e.submitting = false;
    e.upstreamId = undefined;
  }

  /** Closes the task; false when it was not open (so no end record is due). */
  end(id: string): boolean {
    return this.#entries.delete(id);
  }

  /** The open tasks as the solver takes them up at start. */
  replayed(): JournaledTask[] {
    return [...this.#entries].map(([id, e]) => {
      const a = JSON.parse(e.accept) as { type: TaskType; params: TaskParams; created_at: number; deadline_at: number };
      return {
        id, type: a.type, params: a.params, createdAt: a.created_at, deadlineAt: a.deadline_at,
        upstreamId: e.upstreamId, uncertain: e.submitting && e.upstreamId === undefined, submissions: e.submissions,
      };
    });
  }

  /** Compaction's choice: the fewest records that replay to the same open tasks, ended ones dropped. */
  compacted(): string[] {
    const lines: string[] = [];
    for (const [id, e] of this.#entries) {
      lines.push(e.accept);
      // Earlier submits that landed (then came back unsolvable) still count toward the one retry.
      const earlier = e.submissions - (e.upstreamId === undefined ? 0 : 1);
      for (let i = 0; i < earlier; i++) lines.push(submittingRecord(id), submittedRecord(id, "earlier"), unsubmittedRecord(id));
      if (e.submitting || e.upstreamId !== undefined) lines.push(submittingRecord(id));
      if (e.upstreamId !== undefined) lines.push(submittedRecord(id, e.upstreamId));
    }
    return lines;
  }
}

/**
 * Replays a journal's text into its open tasks. Records in file order; an unreadable line is
 * skipped and counted, never fatal; a record for a task not (or no longer) open changes nothing.
 */
export function replayRecords(text: string): ReplayResult {
  const tasks = new OpenTasks();
  const lines = text.split("\n");
  const torn = text.length > 0 && !text.endsWith("\n");
  if (lines.at(-1) === "") lines.pop();
  const unreadableLines: number[] = [];
  let skipped = 0;
  let records = 0;
  for (const [i, line] of lines.entries()) {
    const r = parseRecord(line);
    if (!r) {
      skipped++;
      if (!(torn && i === lines.length - 1)) unreadableLines.push(i + 1);
      continue;
    }
    records++;
    const id = r.id as string;
    switch (r.op) {
      case "accept":
        if (typeof r.type === "string" && typeof r.created_at === "number" && typeof r.deadline_at === "number") tasks.accept(id, line);
        break;
      case "submitting":
        tasks.submitting(id);
        break;
      case "submitted":
        if (typeof r.upstream_id === "string") tasks.submitted(id, r.upstream_id);
        break;
      case "unsubmitted":
        tasks.unsubmitted(id);
        break;
      case "end":
        tasks.end(id);
        break;
    }
  }
  return { tasks, report: { records, open: tasks.size, skipped, torn }, unreadableLines, tornLine: torn ? lines.length : undefined };
}

/** Compact once the file holds `compactAfter` records since the last compaction and they outnumber the open tasks 4 to 1. */
export function shouldCompact(recordsSinceCompaction: number, compactAfter: number, openTasks: number): boolean {
  return recordsSinceCompaction > compactAfter && recordsSinceCompaction > 4 * openTasks;
}

function parseRecord(line: string): Record<string, unknown> | undefined {
  try {
    const r = JSON.parse(line) as unknown;
    if (typeof r !== "object" || r === null || typeof (r as Record<string, unknown>).id !== "string") return undefined;
    return r as Record<string, unknown>;
  } catch {
    return undefined;
  }
}
