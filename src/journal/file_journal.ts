/**
 * The task journal under --state-dir (docs/durability.md): one append-only file of the records of journal_records.ts,
 * owned by one process at a time (base/dir_lock.ts). Durable records wait for an fsync; appends arriving while one
 * runs share the next (group commit). Every write is checked whole: a short or failed one is cut back to the last
 * whole record and fails its callers. Start is two steps: replay() locks the dir and streams the file (read-only),
 * start() compacts it (write new, fsync, rename, fsync the directory) once the caller holds its listener too.
 */
import { applyRecord } from "./apply_record.ts";
import { closeSync, fdatasync, fstatSync, ftruncateSync, mkdirSync, openSync } from "node:fs";
import { join } from "node:path";
import { Backoff } from "../base/backoff.ts";
import { lockDir, type DirLock } from "../base/dir_lock.ts";
import { WorkerError } from "../base/errors.ts";
import type { Clock, Timer } from "../base/clock.ts";
import { readLines } from "../base/line_reader.ts";
import type { Logger } from "../base/log.ts";
import type { EndedTask, TaskJournal } from "../solver/journal_port.ts";
import type { Task } from "../tasks/task.ts";
import { DEFAULT_FINISHED_TTL_MS, DEFAULT_MAX_FINISHED, DEFAULT_MAX_FINISHED_BYTES } from "../tasks/task_store.ts";
import { probeJournalFile, probeWritable, replaceDurably, STATE_DIR_FLAG as FLAG, stateDirError, writeWhole } from "./_state_dir_io.ts";
import { acceptRecord, endFields, FORMAT_VERSION, OpenTasks, reportedRecord, shouldCompact, spendRecord, submittedRecord, submittingRecord, unsubmittedRecord, type JournaledTask, type ReplayReport, type Retention } from "./journal_records.ts";
import { callbackAttemptRecord, callbackSettledRecord, type PendingCallback } from "./callback_records.ts";

export const JOURNAL_FILE = "tasks.journal";
/** Unreadable records named one by one in the log; the rest only counted. */
const WARN_LINES = 10;

export interface JournalOptions {
  log: Logger;
  /** Times the re-check of a failed state dir and the retention of ended tasks. */
  clock: Clock;
  /** Written beside the lock and into the write probe's name. @default process.pid */
  pid?: number;
  /** Compact once the file holds this many records more than the kept tasks need. @default 10000 */
  compactAfter?: number;
  /** How long ended tasks are kept to be answered again. @default the task store's (10,000, 1 h) */
  retention?: Retention;
}

/** What replay() found: the journal (locked, not yet started), the open and ended tasks, the callbacks still owed. */
export interface ReplayedJournal {
  journal: FileJournal;
  replayed: JournaledTask[];
  ended: EndedTask[];
  callbacks: PendingCallback[];
  /** Each provider's spend on its latest day (budgets survive a restart). */
  spends: { provider: string; day: string; usd: number }[];
  report: ReplayReport;
}

export class FileJournal implements TaskJournal {
  readonly #dir: string;
  readonly #path: string;
  readonly #log: Logger;
  readonly #compactAfter: number;
  readonly #clock: Clock;
  readonly #pid: number;
  readonly #lock: DirLock;
  #recheck: Timer | undefined;
  readonly #recheckDelays = new Backoff({ baseMs: 1000, maxMs: 30_000, jitter: "none" }); // 1 s after the failure, doubling to 30 s
  readonly #open: OpenTasks;
  #fd: number | undefined; // the journal's descriptor (O_APPEND) once started
  #size = 0; // bytes of whole records in the file: where a failed write is cut back to
  #queue: { text: string; resolve: () => void; reject: (err: Error) => void }[] = [];
  #flushing = false;
  #recordsSinceCompaction = 0;
  #error: string | undefined;
  #closed = false;
  /** The group commit under way (resolved when none is). */
  #current: Promise<void> = Promise.resolve();
  syncs = 0; // fsyncs done, for tests and the benchmark

  private constructor(dir: string, lock: DirLock, options: JournalOptions) {
    this.#dir = dir;
    this.#path = join(dir, JOURNAL_FILE);
    this.#log = options.log;
    this.#compactAfter = options.compactAfter ?? 10_000;
    this.#clock = options.clock;
    this.#pid = options.pid ?? process.pid;
    this.#lock = lock;
    this.#open = new OpenTasks(options.retention ?? { maxFinished: DEFAULT_MAX_FINISHED, finishedTtlMs: DEFAULT_FINISHED_TTL_MS, maxFinishedBytes: DEFAULT_MAX_FINISHED_BYTES });
  }

  /**
   * Locks the state dir (creating it), checks it can be written and streams the journal in, writing nothing to it.
   * Throws ERR_STATE_DIR_BUSY when another process owns the dir, ERR_STATE_DIR naming --state-dir when it or its
   * journal cannot be used or was written by a newer worker. Records that cannot be applied are skipped, reported.
   */
  static async replay(dir: string, options: JournalOptions): Promise<ReplayedJournal> {
    const pid = options.pid ?? process.pid;
    let lock: DirLock;
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const taken = lockDir(dir, pid);
      if (taken.kind === "busy") {
        const owner = taken.ownerPid === undefined ? "another process" : `another process (pid ${taken.ownerPid})`;
        throw new WorkerError("ERR_STATE_DIR_BUSY", `The state directory ${dir} (${FLAG}) is in use by ${owner}.`, { field: FLAG, data: { pid: taken.ownerPid ?? 0 } });
      }
      lock = taken.lock;
    } catch (err) {
      throw stateDirError(dir, "Cannot use the state directory", err);
    }
    const journal = new FileJournal(dir, lock, { ...options, pid });
    try {
      try {
        probeWritable(dir, pid);
        probeJournalFile(journal.#path); // EISDIR, EPERM (immutable), EACCES, a FIFO: said now, not at the first task
      } catch (err) {
        throw stateDirError(dir, "Cannot write the state directory", err);
      }
      const report = await journal.#replayFile();
      return { journal, replayed: journal.#open.replayed(), ended: journal.#open.endedTasks(), callbacks: journal.#open.pendingCallbacks(), spends: journal.#open.spends(), report };
    } catch (err) {
      lock.release();
      throw err;
    }
  }

  /** replay() then start(): for callers with no listener to bind in between. */
  static async open(dir: string, options: JournalOptions): Promise<ReplayedJournal> {
    const r = await FileJournal.replay(dir, options);
    try {
      r.journal.start();
    } catch (err) {
      await r.journal.close();
      throw err;
    }
    return r;
  }

  /** The state directory (--state-dir) it lives in. */
  get dir(): string {
    return this.#dir;
  }

  /** Set while the last write failed (full disk, I/O error): a readiness issue. */
  get error(): string | undefined {
    return this.#error;
  }

  get openTasks(): number {
    return this.#open.size;
  }

  /** Compacts the file to the kept tasks and opens it for appending (earlier records wait for it); throws ERR_STATE_DIR when the dir refuses. */
  start(): void {
    if (this.#fd !== undefined || this.#closed) return;
    try {
      this.#rewrite();
      this.#fd = openSync(this.#path, "a", 0o600);
      this.#size = fstatSync(this.#fd).size;
    } catch (err) {
      throw stateDirError(this.#dir, "Cannot write the journal in the state directory", err);
    }
    // The compacted file already holds what the records made before now say (#open took them): done.
    for (const p of this.#queue.splice(0)) p.resolve();
  }

  accepted(task: Task): Promise<void> {
    this.#open.accept(task);
    return this.#append(acceptRecord(task));
  }

  submitting(task: Task): Promise<void> {
    this.#open.submitting(task.id, task.provider);
    return this.#append(submittingRecord(task.id, task.provider));
  }

  /** A provider's spend today so far: kept for the next start. */
  spent(provider: string, day: string, usd: number): void {
    this.#open.spent(provider, day, usd);
    this.#appendQuietly(spendRecord(provider, day, usd));
  }

  submitted(task: Task): void {
    this.#open.submitted(task.id, task.upstreamId);
    this.#appendQuietly(submittedRecord(task.id, task.upstreamId));
  }

  unsubmitted(task: Task): void {
    this.#open.unsubmitted(task.id);
    this.#appendQuietly(unsubmittedRecord(task.id));
  }

  reported(task: Task): void {
    if (task.reported === undefined) return;
    this.#open.reported(task.id, task.reported);
    this.#appendQuietly(reportedRecord(task.id, task.reported));
  }

  ended(task: Task): void {
    const now = this.#clock.now();
    const endedAt = task.endedAt ?? now;
    const record = endFields({ ...task, endedAt });
    const line = JSON.stringify(record);
    if (!this.#open.end(task.id, { record, bytes: line.length }, now)) return;
    this.#appendQuietly(line);
  }

  /** Attempt `attempt` (1-based) of task `id`'s callback is about to be made; resolves once the file holds it. */
  callbackAttempt(id: string, attempt: number): Promise<void> {
    this.#open.callbackAttempt(id, attempt);
    return this.#append(callbackAttemptRecord(id, attempt));
  }

  /** Task `id`'s callback is settled (delivered, failed for good, refused): not resumed after a restart. */
  callbackSettled(id: string, outcome: string): void {
    this.#open.callbackSettled(id);
    this.#appendQuietly(callbackSettledRecord(id, outcome));
  }

  /** Flushes what is queued, closes the file and releases the dir; open tasks stay in it for the next start. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#recheck?.cancel();
    while ((this.#flushing || this.#queue.length > 0) && this.#fd !== undefined) {
      if (this.#flushing) await this.#current;
      else await this.#flush();
    }
    const never = new WorkerError("ERR_STATE_DIR", "The journal closed before it started.");
    for (const p of this.#queue.splice(0)) p.reject(never);
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
    this.#lock.release();
  }

  /** Streams the file one record at a time into #open; never the whole file in memory. */
  async #replayFile(): Promise<ReplayReport> {
    const report: ReplayReport = { records: 0, open: 0, ended: 0, skipped: 0, torn: false, version: 1 };
    const unreadable: number[] = [];
    try {
      for await (const line of readLines(this.#path)) {
        const effect = line.text === undefined ? { kind: "skipped" as const } : applyRecord(this.#open, line.text, this.#clock.now());
        if (effect.kind === "format") {
          if (effect.version > FORMAT_VERSION) {
            throw new WorkerError("ERR_STATE_DIR", `The journal in the state directory ${this.#dir} (${FLAG}) was written by a newer worker (format ${effect.version}; this one reads up to ${FORMAT_VERSION}).`, { field: FLAG });
          }
          if (line.number === 1) report.version = effect.version;
        } else if (effect.kind === "skipped") {
          report.skipped++;
          if (!line.terminated) report.torn = true;
          else if (unreadable.length < WARN_LINES) unreadable.push(line.number);
          continue;
        }
        report.records++;
      }
    } catch (err) {
      throw stateDirError(this.#dir, "Cannot read the journal in the state directory", err);
    }
    for (const line of unreadable) this.#log.warn("journal: record skipped (unreadable or not applicable)", { line });
    if (report.torn) this.#log.warn("journal: torn last line skipped (a crash mid-write)");
    this.#open.evict(this.#clock.now());
    report.open = this.#open.size;
    report.ended = this.#open.endedCount;
    return report;
  }

  #appendQuietly(line: string): void {
    this.#append(line).catch(() => {}); // the error is kept in #error and shown by readiness
  }

  #append(line: string): Promise<void> {
    if (this.#closed) return Promise.reject(new WorkerError("ERR_STATE_DIR", "The journal is closed."));
    return new Promise((resolve, reject) => {
      this.#queue.push({ text: line + "\n", resolve, reject });
      if (!this.#flushing && this.#fd !== undefined) setImmediate(() => void this.#flush());
    });
  }

  /** One group commit: everything queued so far in one write and one fsync. */
  #flush(): Promise<void> {
    if (this.#flushing || this.#queue.length === 0 || this.#fd === undefined) return this.#current;
    this.#current = this.#commit(this.#fd);
    return this.#current;
  }

  async #commit(fd: number): Promise<void> {
    this.#flushing = true;
    const batch = this.#queue;
    this.#queue = [];
    const bytes = Buffer.from(batch.map((p) => p.text).join(""));
    try {
      await writeWhole(fd, bytes);
      await new Promise<void>((resolve, reject) => fdatasync(fd, (err) => (err ? reject(err) : resolve())));
      this.#size += bytes.length;
      this.syncs++;
      this.#recordsSinceCompaction += batch.length;
      // A failure is cleared by the re-check (a 4 KiB probe), not by one small record that fit.
      for (const p of batch) p.resolve();
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? "EIO";
      this.#cutBack(fd);
      if (this.#error === undefined) this.#log.error("journal write failed", { dir: this.#dir, code });
      this.#error = code;
      this.#scheduleRecheck();
      const failure = new WorkerError("ERR_STATE_DIR", `The journal in ${this.#dir} cannot be written (${code}).`);
      for (const p of batch) p.reject(failure);
    } finally {
      this.#flushing = false;
    }
    if (shouldCompact(this.#recordsSinceCompaction, this.#compactAfter, this.#open.size + this.#open.endedCount)) this.#compact();
    if (this.#queue.length > 0) setImmediate(() => void this.#flush());
  }

  /** After a failed or short write: nothing but whole records stays in the file. */
  #cutBack(fd: number): void {
    try {
      ftruncateSync(fd, this.#size);
    } catch (err) {
      this.#log.error("journal: cannot cut a failed write back", { dir: this.#dir, code: (err as NodeJS.ErrnoException).code });
    }
  }

  /** While writes fail no task is accepted, so no write could clear it: re-check the dir itself, 1 s after, doubling to 30 s. */
  #scheduleRecheck(): void {
    if (this.#recheck || this.#closed) return;
    this.#recheck = this.#clock.setTimeout(() => {
      this.#recheck = undefined;
      try {
        probeWritable(this.#dir, this.#pid);
        this.#error = undefined;
        this.#recheckDelays.reset();
        this.#log.info("journal writable again", { dir: this.#dir });
      } catch {
        this.#scheduleRecheck();
      }
    }, this.#recheckDelays.next());
  }

  /** Rewrites the file to the kept tasks; on failure the old file goes on taking appends. */
  #compact(): void {
    const old = this.#fd;
    try {
      this.#open.evict(this.#clock.now());
      this.#rewrite();
      this.#fd = openSync(this.#path, "a", 0o600);
      this.#size = fstatSync(this.#fd).size;
      if (old !== undefined) closeSync(old);
    } catch (err) {
      this.#log.warn("journal compaction failed; appending to the old file", { dir: this.#dir, code: (err as NodeJS.ErrnoException).code });
    }
  }

  /** Writes the kept tasks' records to a new file, fsyncs it, renames it over the journal, fsyncs the directory. */
  #rewrite(): void {
    replaceDurably(this.#dir, this.#path, this.#open.compacted());
    this.#recordsSinceCompaction = 0;
  }
}
