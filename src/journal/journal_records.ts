/**
 * The task journal's records (docs/durability.md), one JSON object a line, and what they mean: the open and
 * the retained ended tasks they leave behind, replayed one record at a time, and the few lines
 * compaction keeps for them. Pure (no fs): src/journal/file_journal.ts reads and writes.
 *
 *   {"op":"format","version":2}                                       first line (none: version 1)
 *   {"op":"accept","id","type","params","created_at","deadline_at"}   durable before the 202
 *   {"op":"submitting","id"}                                          durable before in.php is called
 *   {"op":"submitted","id","upstream_id"}                             the upstream's id
 *   {"op":"unsubmitted","id"}                                         the submit surely did not land
 *   {"op":"end","id","status","type","created_at","ended_at",         solved or failed, with its outcome
 *     "upstream_id"?,"solution"?,"error"?:{"code","message"},        (version 1: id and status only)
 *     "client"?,"reported"?}                                          its client; folded-in report
 *   {"op":"reported","id","reported":"good"|"bad"}                    a solved task's report went upstream
 *   {"op":"callback_attempt","id","attempt"}                          a gateway callback's attempt N (1-based)
 *                                                                     is made: durable before it is sent
 *   {"op":"callback_settled","id","outcome"}                          delivered, failed for good, refused
 *
 * An end record of a task that asked for a callback carries it (`"callback":{"url","format",
 * "attempts"?}`) until the callback settles, so a delivery pending at a stop or a crash is resumed
 * at the next start with the attempts it has left.
 *
 * A task with an upstream id is polled by it after a restart; a task whose submit may have landed
 * (a `submitting` with nothing after it) is `uncertain` and fails with SUBMIT_UNCERTAIN rather than
 * risk a second charge; the rest are queued again. An ended task is answered again within its
 * retention. A record that cannot be applied (not JSON, a missing or mistyped field, an unknown op)
 * is skipped and counted, never fatal (apply_record.ts).
 */
import type { SolutionValue } from "../tasks/task_solution.ts";
import type { EndedTask, ReplayedTask } from "../solver/journal_port.ts";
import { type Task } from "../tasks/task.ts";
import type { TaskType } from "../tasks/task_catalogue.ts";
import type { TaskParams } from "../tasks/task_catalogue.ts";
import { isCallback, type PendingCallback } from "./callback_records.ts";

/** The format this worker writes; it reads this and every older one. */
export const FORMAT_VERSION = 2;

/** A task found open in the journal, as the solver takes it up. */
export type JournaledTask = ReplayedTask;

export interface ReplayReport {
  records: number;
  open: number;
  /** Ended tasks kept (within their retention) to be answered again. */
  ended: number;
  /** Records skipped: unreadable or not applicable (a torn last line is the usual one). */
  skipped: number;
  torn: boolean;
  /** The file's format version (1: no header). */
  version: number;
}

/** How long ended tasks are kept, as the task store keeps them. */
export interface Retention {
  maxFinished: number;
  finishedTtlMs: number;
  /** The end records' characters kept in memory together (each carries its solution). @default unbounded */
  maxFinishedBytes?: number;
}

/** The fields of a task its records carry. */
type RecordedTask = Pick<Task, "id" | "type" | "params" | "createdAt" | "deadlineAt" | "status" | "upstreamId" | "error" | "solution" | "endedAt" | "provider" | "costUsd"> & { useragent?: string | undefined };

export function formatRecord(): string {
  return JSON.stringify({ op: "format", version: FORMAT_VERSION });
}

/** What an accept record holds of a task. */
export type AcceptedTask = Pick<Task, "id" | "type" | "params" | "createdAt" | "deadlineAt">;

/** The accept record; a task's proxy goes in whole (its password too: a restored task is submitted through the same proxy). */
export function acceptRecord(task: AcceptedTask): string {
  const params = task.params.proxy ? { ...task.params, proxy: task.params.proxy.toRecord() } : task.params;
  return JSON.stringify({ op: "accept", id: task.id, type: task.type, params, created_at: task.createdAt, deadline_at: task.deadlineAt });
}

/** A submit is about to be sent to `provider` (polls and reports go there after a restart; none named: the first). */
export function submittingRecord(id: string, provider?: string): string {
  return JSON.stringify(provider === undefined ? { op: "submitting", id } : { op: "submitting", id, provider });
}

export function submittedRecord(id: string, upstreamId: string | undefined): string {
  return JSON.stringify({ op: "submitted", id, upstream_id: upstreamId });
}

export function unsubmittedRecord(id: string): string {
  return JSON.stringify({ op: "unsubmitted", id });
}

/** A provider's spend for a UTC day so far (docs/providers.md: budgets survive a restart). */
export function spendRecord(provider: string, day: string, usd: number): string {
  return JSON.stringify({ op: "spend", provider, day, usd });
}

export function reportedRecord(id: string, reported: "good" | "bad"): string {
  return JSON.stringify({ op: "reported", id, reported });
}

export function endRecord(task: RecordedTask): string {
  return JSON.stringify(endFields(task));
}

/**
 * An end record as an object, as the journal keeps it for an ended task: its solution is the task's
 * own string, where a kept line would hold a second copy of it (docs/sizing-and-performance.md, Sizing).
 */
export function endFields(task: RecordedTask): EndRecord {
  return {
    op: "end", id: task.id, status: task.status as EndRecord["status"], type: task.type, created_at: task.createdAt, ended_at: task.endedAt!,
    ...(task.upstreamId !== undefined ? { upstream_id: task.upstreamId } : {}),
    ...(task.provider !== undefined ? { provider: task.provider } : {}),
    ...(task.costUsd !== undefined ? { cost_usd: task.costUsd } : {}),
    ...(task.solution !== undefined ? { solution: task.solution } : {}),
    ...(task.useragent !== undefined ? { useragent: task.useragent } : {}),
    ...(task.error ? { error: { code: task.error.code, message: task.error.message } } : {}),
    // Whose it is: after a restart a client still reads its own ended task (and no other client can).
    ...(task.params.client !== undefined ? { client: task.params.client } : {}),
    // Its callback is still to be delivered: kept until callback_settled, so a restart resumes it.
    ...(task.params.callback !== undefined ? { callback: { url: task.params.callback.url, format: task.params.callback.format } } : {}),
  };
}

/** An ended task the journal keeps: its end record, and the length of its line (the retention's byte bound). */
export interface KeptEnd {
  record: EndRecord;
  bytes: number;
}

interface OpenEntry {
  /**
   * The task as accepted: its record is made again from it for compaction, so an open task's image
   * is in memory once (the solver keeps this same object), never also as the line written or read.
   */
  task: AcceptedTask;
  submitting: boolean;
  upstreamId: string | undefined;
  /** The provider the last submit went to. */
  provider: string | undefined;
  submissions: number;
}

/**
 * The tasks the journal holds: the open ones in the order they were accepted, each with its submit
 * state, and the ended ones within `retention` (oldest dropped first), each with its end record.
 */
export class OpenTasks {
  /** Each provider's spend on its latest day. */
  readonly #spend = new Map<string, { day: string; usd: number }>();
  readonly #entries = new Map<string, OpenEntry>();
  readonly #ended = new Map<string, KeptEnd>();
  /** The kept end records' length, for the retention's byte bound. */
  #endedBytes = 0;
  readonly #retention: Retention;

  constructor(retention: Retention) {
    this.#retention = retention;
  }

  get size(): number {
    return this.#entries.size;
  }

  get endedCount(): number {
    return this.#ended.size;
  }

  accept(task: AcceptedTask): void {
    this.#entries.set(task.id, { task, submitting: false, upstreamId: undefined, provider: undefined, submissions: 0 });
  }

  submitting(id: string, provider?: string): void {
    const e = this.#entries.get(id);
    if (!e) return;
    e.submitting = true;
    if (provider !== undefined) e.provider = provider;
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

  /**
   * Closes the task; false when it was not open (so no end record is due). With its end record
   * (`ended`), it is kept to be answered again until its retention ends (`now`: for eviction).
   */
  end(id: string, ended?: KeptEnd, now?: number): boolean {
    const wasOpen = this.#entries.delete(id);
    if (ended && now !== undefined && ended.record.ended_at > now - this.#retention.finishedTtlMs) {
      this.#forget(id);
      this.#ended.set(id, ended);
      this.#endedBytes += ended.bytes;
      this.evict(now);
    }
    return wasOpen;
  }

  /** A retained ended task was reported upstream: its kept end record says so (compaction keeps it). */
  reported(id: string, reported: "good" | "bad"): void {
    this.#editEnded(id, (r) => void (r.reported = reported));
  }

  /** Attempt `attempt` of a retained ended task's callback was begun: its kept end record counts it. */
  callbackAttempt(id: string, attempt: number): void {
    this.#editEnded(id, (r) => {
      if (isCallback(r.callback)) r.callback = { ...r.callback, attempts: Math.max(attempt, r.callback.attempts ?? 0) };
    });
  }

  /** A retained ended task's callback settled: its kept end record no longer asks for it. */
  callbackSettled(id: string): void {
    this.#editEnded(id, (r) => void delete r.callback);
  }

  /** The retained ended tasks whose callbacks have not settled, oldest first. */
  pendingCallbacks(): PendingCallback[] {
    const out: PendingCallback[] = [];
    for (const [id, { record }] of this.#ended) {
      const cb = record.callback;
      if (isCallback(cb)) out.push({ id, url: cb.url, format: cb.format, attempts: cb.attempts ?? 0 });
    }
    return out;
  }

  #editEnded(id: string, edit: (r: EndRecord) => void): void {
    const e = this.#ended.get(id);
    if (!e) return;
    const r = { ...e.record };
    edit(r);
    e.record = r;
    const bytes = JSON.stringify(r).length;
    this.#endedBytes += bytes - e.bytes;
    e.bytes = bytes;
  }

  /** Drops ended tasks past their retention (time, count or bytes, oldest first). */
  evict(now: number): void {
    const oldest = now - this.#retention.finishedTtlMs;
    const maxBytes = this.#retention.maxFinishedBytes ?? Infinity;
    for (const [id, e] of this.#ended) {
      if (this.#ended.size <= this.#retention.maxFinished && this.#endedBytes <= maxBytes && e.record.ended_at > oldest) break;
      this.#forget(id);
    }
  }

  /** The characters the kept end records hold together. */
  get endedBytes(): number {
    return this.#endedBytes;
  }

  #forget(id: string): void {
    const e = this.#ended.get(id);
    if (!e) return;
    this.#ended.delete(id);
    this.#endedBytes -= e.bytes;
  }

  /** The open tasks as the solver takes them up at start. */
  replayed(): JournaledTask[] {
    return [...this.#entries.values()].map(({ task: t, ...e }) => ({
      id: t.id, type: t.type, params: t.params, createdAt: t.createdAt, deadlineAt: t.deadlineAt,
      upstreamId: e.upstreamId, uncertain: e.submitting && e.upstreamId === undefined, submissions: e.submissions,
      ...(e.provider !== undefined ? { provider: e.provider } : {}),
    }));
  }

  /** The retained ended tasks, oldest first, to be answered again. */
  endedTasks(): EndedTask[] {
    return [...this.#ended.values()].map(({ record: r }) => {
      return {
        id: r.id, type: r.type, status: r.status, createdAt: r.created_at, endedAt: r.ended_at, upstreamId: r.upstream_id,
        ...(typeof r.provider === "string" ? { provider: r.provider } : {}),
        ...(typeof r.cost_usd === "number" && Number.isFinite(r.cost_usd) && r.cost_usd >= 0 ? { costUsd: r.cost_usd } : {}),
        solution: r.solution, ...(typeof r.useragent === "string" ? { useragent: r.useragent } : {}), error: r.error,
        ...(r.reported === "good" || r.reported === "bad" ? { reported: r.reported } : {}),
        ...(typeof r.client === "string" ? { client: r.client } : {}),
      };
    });
  }

  /** A provider's spend today so far (the latest record wins). */
  spent(provider: string, day: string, usd: number): void {
    this.#spend.set(provider, { day, usd });
  }

  /** Each provider's latest spend. */
  spends(): { provider: string; day: string; usd: number }[] {
    return [...this.#spend].map(([provider, s]) => ({ provider, ...s }));
  }

  /**
   * Compaction's choice: the format line, each provider's spend, the retained end records, the
   * fewest records that replay to the same open tasks. One line at a time, so the file is written
   * without being held whole.
   */
  *compacted(): Generator<string> {
    yield formatRecord();
    for (const s of this.spends()) yield spendRecord(s.provider, s.day, s.usd);
    for (const { record } of this.#ended.values()) yield JSON.stringify(record);
    for (const [id, e] of this.#entries) {
      yield acceptRecord(e.task);
      // Earlier submits that landed (then came back unsolvable) still count toward the one retry.
      const earlier = e.submissions - (e.upstreamId === undefined ? 0 : 1);
      for (let i = 0; i < earlier; i++) yield* [submittingRecord(id), submittedRecord(id, "earlier"), unsubmittedRecord(id)];
      if (e.submitting || e.upstreamId !== undefined) yield submittingRecord(id, e.provider);
      if (e.upstreamId !== undefined) yield submittedRecord(id, e.upstreamId);
    }
  }
}

export interface EndRecord {
  op: "end";
  id: string;
  status: "solved" | "failed";
  type: TaskType;
  created_at: number;
  ended_at: number;
  upstream_id?: string;
  solution?: SolutionValue;
  useragent?: string;
  error?: { code: string; message: string };
  reported?: unknown;
  client?: unknown;
  callback?: unknown;
  provider?: unknown;
  cost_usd?: unknown;
}

/** Compact once the file holds `compactAfter` records since the last compaction and they outnumber the kept tasks 4 to 1. */
export function shouldCompact(recordsSinceCompaction: number, compactAfter: number, keptTasks: number): boolean {
  return recordsSinceCompaction > compactAfter && recordsSinceCompaction > 4 * keptTasks;
}
