/**
 * The task journal under --state-dir (SPEC §8): append-only JSON lines, one file.
 *
 *   {"op":"accept","id","type","params","created_at","deadline_at"}   durable before the 202
 *   {"op":"submitting","id"}                                          durable before in.php is called
 *   {"op":"submitted","id","upstream_id"}                             the upstream's id
 *   {"op":"unsubmitted","id"}                                         the submit surely did not land
 *   {"op":"end","id","status","code"?}                                solved or failed
 *
 * Durable records wait for an fsync; appends that arrive while one is running share the next one
 * (group commit), so a burst of submits costs a few fsyncs, not one each. On start the file is
 * replayed: a task with an upstream id is polled by it, a task whose submit may have landed (a
 * `submitting` with nothing after it) fails with SUBMIT_UNCERTAIN rather than risk a second charge,
 * the rest are queued again. A torn last line (a crash mid-write) is skipped and reported. The file
 * is compacted (write new, fsync, rename, fsync the directory) once ended tasks dominate it.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeFileSync } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { Backoff } from "../base/backoff.ts";
import { WorkerError } from "../base/errors.ts";
import type { Clock, Timer } from "../base/clock.ts";
import type { Logger } from "../base/log.ts";
import type { ReplayedTask, TaskJournal } from "../solver/journal_port.ts";
import type { Task, TaskType } from "../tasks/task.ts";
import type { TaskParams } from "../tasks/task_params.ts";

export const JOURNAL_FILE = "tasks.journal";

export interface ReplayReport {
  records: number;
  open: number;
  /** Unparseable lines skipped (a torn last line is the usual one). */
  skipped: number;
  torn: boolean;
}

interface OpenEntry {
  accept: string;
  submitting: boolean;
  upstreamId: string | undefined;
  submissions: number;
}

interface Pending {
  text: string;
  resolve: () => void;
  reject: (err: Error) => void;
}

export interface JournalOptions {
  log: Logger;
  /** Times the re-check of a failed state dir. */
  clock: Clock;
  /** Compact once the file holds this many records more than the open tasks need. @default 10000 */
  compactAfter?: number;
}

export class FileJournal implements TaskJournal {
  readonly #dir: string;
  readonly #path: string;
  readonly #log: Logger;
  readonly #compactAfter: number;
  readonly #clock: Clock;
  #recheck: Timer | undefined;
  /** 1 s after the failure, doubling to 30 s. */
  readonly #recheckDelays = new Backoff({ baseMs: 1000, maxMs: 30_000, jitter: "none" });
  readonly #open = new Map<string, OpenEntry>();
  #fh: FileHandle | undefined;
  #queue: Pending[] = [];
  #flushing = false;
  #recordsSinceCompaction = 0;
  #error: string | undefined;
  #closed = false;
  /** The group commit under way (resolved when none is). */
  #current: Promise<void> = Promise.resolve();
  /** fsyncs done, for tests and the benchmark. */
  syncs = 0;

  private constructor(dir: string, options: JournalOptions) {
    this.#dir = dir;
    this.#path = join(dir, JOURNAL_FILE);
    this.#log = options.log;
    this.#compactAfter = options.compactAfter ?? 10_000;
    this.#clock = options.clock;
  }

  /**
   * Opens (creating) the state dir and its journal, replays it and compacts it to the open tasks.
   * Throws ERR_STATE_DIR naming the directory when it cannot be written: an operator's mistake,
   * reported before anything starts.
   */
  static async open(dir: string, options: JournalOptions): Promise<{ journal: FileJournal; replayed: ReplayedTask[]; report: ReplayReport }> {
    const journal = new FileJournal(dir, options);
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      probeWritable(dir);
    } catch (err) {
      throw new WorkerError("ERR_STATE_DIR", `Cannot write the state directory ${dir} (--state-dir): ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, {
        field: "--state-dir",
      });
    }
    let text = "";
    try {
      text = readFileSync(journal.#path, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
    const report = journal.#replay(text);
    await journal.#rewrite();
    journal.#fh = await open(journal.#path, "a", 0o600);
    const replayed = [...journal.#open.entries()].map(([id, e]) => {
      const a = JSON.parse(e.accept) as { type: TaskType; params: TaskParams; created_at: number; deadline_at: number };
      return { id, type: a.type, params: a.params, createdAt: a.created_at, deadlineAt: a.deadline_at, upstreamId: e.upstreamId, uncertain: e.submitting && e.upstreamId === undefined, submissions: e.submissions };
    });
    return { journal, replayed, report };
  }

  /** Set while the last write failed (full disk, I/O error): a readiness issue. */
  get error(): string | undefined {
    return this.#error;
  }

  get openTasks(): number {
    return this.#open.size;
  }

  accepted(task: Task): Promise<void> {
    const line = JSON.stringify({ op: "accept", id: task.id, type: task.type, params: task.params, created_at: task.createdAt, deadline_at: task.deadlineAt });
    this.#open.set(task.id, { accept: line, submitting: false, upstreamId: undefined, submissions: 0 });
    return this.#append(line);
  }

  submitting(task: Task): Promise<void> {
    const e = this.#open.get(task.id);
    if (e) e.submitting = true;
    return this.#append(JSON.stringify({ op: "submitting", id: task.id }));
  }

  submitted(task: Task): void {
    const e = this.#open.get(task.id);
    if (e) {
      e.upstreamId = task.upstreamId;
      e.submissions++;
    }
    this.#appendQuietly(JSON.stringify({ op: "submitted", id: task.id, upstream_id: task.upstreamId }));
  }

  unsubmitted(task: Task): void {
    const e = this.#open.get(task.id);
    if (e) {
      e.submitting = false;
      e.upstreamId = undefined;
    }
    this.#appendQuietly(JSON.stringify({ op: "unsubmitted", id: task.id }));
  }

  ended(task: Task): void {
    if (!this.#open.delete(task.id)) return;
    this.#appendQuietly(JSON.stringify({ op: "end", id: task.id, status: task.status, ...(task.error ? { code: task.error.code } : {}) }));
  }

  /** Flushes what is queued and closes the file; open tasks stay in it for the next start. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#recheck?.cancel();
    while ((this.#flushing || this.#queue.length > 0) && this.#fh) {
      if (this.#flushing) await this.#current;
      else await this.#flush();
    }
    await this.#fh?.close();
    this.#fh = undefined;
  }

  // ---------------------------------------------------------------------------------------------

  #appendQuietly(line: string): void {
    this.#append(line).catch(() => {}); // the error is kept in #error and shown by readiness
  }

  #append(line: string): Promise<void> {
    if (this.#closed) return Promise.reject(new WorkerError("ERR_STATE_DIR", "The journal is closed."));
    return new Promise((resolve, reject) => {
      this.#queue.push({ text: line + "\n", resolve, reject });
      if (!this.#flushing) setImmediate(() => void this.#flush());
    });
  }

  /** One group commit: everything queued so far in one write and one fsync. */
  #flush(): Promise<void> {
    if (this.#flushing || this.#queue.length === 0 || !this.#fh) return this.#current;
    this.#current = this.#commit(this.#fh);
    return this.#current;
  }

  async #commit(fh: FileHandle): Promise<void> {
    this.#flushing = true;
    const batch = this.#queue;
    this.#queue = [];
    try {
      await fh.write(batch.map((p) => p.text).join(""));
      await fh.datasync();
      this.syncs++;
      this.#recordsSinceCompaction += batch.length;
      if (this.#error !== undefined) this.#log.info("journal writable again", { dir: this.#dir });
      this.#error = undefined;
      for (const p of batch) p.resolve();
      if (this.#recordsSinceCompaction > this.#compactAfter && this.#recordsSinceCompaction > 4 * this.#open.size) await this.#compact();
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? "EIO";
      if (this.#error === undefined) this.#log.error("journal write failed", { dir: this.#dir, code });
      this.#error = code;
      this.#scheduleRecheck();
      const failure = new WorkerError("ERR_STATE_DIR", `The journal in ${this.#dir} cannot be written (${code}).`);
      for (const p of batch) p.reject(failure);
    } finally {
      this.#flushing = false;
    }
    if (this.#queue.length > 0) setImmediate(() => void this.#flush());
  }

  /**
   * While writes fail, readiness says so and no task is accepted, so no write would ever succeed
   * to clear it: re-check the directory itself, 1 s after the failure, doubling to 30 s.
   */
  #scheduleRecheck(): void {
    if (this.#recheck || this.#closed) return;
    this.#recheck = this.#clock.setTimeout(() => {
      this.#recheck = undefined;
      try {
        probeWritable(this.#dir);
        this.#error = undefined;
        this.#recheckDelays.reset();
        this.#log.info("journal writable again", { dir: this.#dir });
      } catch {
        this.#scheduleRecheck();
      }
    }, this.#recheckDelays.next());
  }

  async #compact(): Promise<void> {
    await this.#fh?.close();
    await this.#rewrite();
    this.#fh = await open(this.#path, "a", 0o600);
  }

  /** Writes the open tasks' records to a new file, fsyncs it, renames it over the journal, fsyncs the directory. */
  async #rewrite(): Promise<void> {
    const lines: string[] = [];
    for (const [id, e] of this.#open) {
      lines.push(e.accept);
      // Earlier submits that landed (then came back unsolvable) still count toward the one retry.
      const earlier = e.submissions - (e.upstreamId === undefined ? 0 : 1);
      for (let i = 0; i < earlier; i++) {
        lines.push(JSON.stringify({ op: "submitting", id }), JSON.stringify({ op: "submitted", id, upstream_id: "earlier" }), JSON.stringify({ op: "unsubmitted", id }));
      }
      if (e.submitting || e.upstreamId !== undefined) lines.push(JSON.stringify({ op: "submitting", id }));
      if (e.upstreamId !== undefined) lines.push(JSON.stringify({ op: "submitted", id, upstream_id: e.upstreamId }));
    }
    const tmp = this.#path + ".tmp";
    const fd = openSync(tmp, "w", 0o600);
    try {
      writeFileSync(fd, lines.length ? lines.join("\n") + "\n" : "");
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.#path);
    syncDir(this.#dir);
    this.#recordsSinceCompaction = 0;
  }

  #replay(text: string): ReplayReport {
    const lines = text.split("\n");
    const torn = text.length > 0 && !text.endsWith("\n");
    if (lines.at(-1) === "") lines.pop();
    let skipped = 0;
    let records = 0;
    for (const [i, line] of lines.entries()) {
      let r: Record<string, unknown>;
      try {
        r = JSON.parse(line) as Record<string, unknown>;
        if (typeof r !== "object" || r === null || typeof r.id !== "string") throw new Error("not a record");
      } catch {
        skipped++;
        if (!(torn && i === lines.length - 1)) this.#log.warn("journal: unreadable record skipped", { line: i + 1 });
        continue;
      }
      records++;
      const id = r.id as string;
      const e = this.#open.get(id);
      switch (r.op) {
        case "accept":
          if (typeof r.type === "string" && typeof r.created_at === "number" && typeof r.deadline_at === "number") {
            this.#open.set(id, { accept: line, submitting: false, upstreamId: undefined, submissions: 0 });
          }
          break;
        case "submitting":
          if (e) e.submitting = true;
          break;
        case "submitted":
          if (e && typeof r.upstream_id === "string") {
            e.upstreamId = r.upstream_id;
            e.submissions++;
          }
          break;
        case "unsubmitted":
          if (e) {
            e.submitting = false;
            e.upstreamId = undefined;
          }
          break;
        case "end":
          this.#open.delete(id);
          break;
      }
    }
    if (torn) this.#log.warn("journal: torn last line skipped (a crash mid-write)", { line: lines.length });
    return { records, open: this.#open.size, skipped, torn };
  }
}

/** Creates, writes, fsyncs and removes a small file: a read-only or full directory fails here, at start. */
function probeWritable(dir: string): void {
  const probe = join(dir, ".write-probe");
  const fd = openSync(probe, "w", 0o600);
  try {
    writeFileSync(fd, "x".repeat(4096));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
    unlinkSync(probe);
  }
}

function syncDir(dir: string): void {
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
