/**
 * The task journal under --state-dir (SPEC §8): one append-only file of the records that
 * src/journal/journal_records.ts describes. Durable records wait for an fsync; appends that arrive
 * while one is running share the next one (group commit), so a burst of submits costs a few fsyncs,
 * not one each. On start the file is replayed and compacted (write new, fsync, rename, fsync the
 * directory) to the open tasks; later it is compacted again once ended tasks dominate it.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeFileSync } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { Backoff } from "../base/backoff.ts";
import { WorkerError } from "../base/errors.ts";
import type { Clock, Timer } from "../base/clock.ts";
import type { Logger } from "../base/log.ts";
import type { TaskJournal } from "../solver/journal_port.ts";
import type { Task } from "../tasks/task.ts";
import {
  acceptRecord, endRecord, OpenTasks, replayRecords, shouldCompact, submittedRecord, submittingRecord, unsubmittedRecord,
  type JournaledTask, type ReplayReport,
} from "./journal_records.ts";

export const JOURNAL_FILE = "tasks.journal";

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
  #open = new OpenTasks();
  #fh: FileHandle | undefined;
  #queue: { text: string; resolve: () => void; reject: (err: Error) => void }[] = [];
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
   * reported before anything starts. A torn last line (a crash mid-write) is skipped and reported.
   */
  static async open(dir: string, options: JournalOptions): Promise<{ journal: FileJournal; replayed: JournaledTask[]; report: ReplayReport }> {
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
    const { tasks, report, unreadableLines, tornLine } = replayRecords(text);
    for (const line of unreadableLines) options.log.warn("journal: unreadable record skipped", { line });
    if (tornLine !== undefined) options.log.warn("journal: torn last line skipped (a crash mid-write)", { line: tornLine });
    journal.#open = tasks;
    await journal.#rewrite();
    journal.#fh = await open(journal.#path, "a", 0o600);
    return { journal, replayed: tasks.replayed(), report };
  }

  /** Set while the last write failed (full disk, I/O error): a readiness issue. */
  get error(): string | undefined {
    return this.#error;
  }

  get openTasks(): number {
    return this.#open.size;
  }

  accepted(task: Task): Promise<void> {
    const line = acceptRecord(task);
    this.#open.accept(task.id, line);
    return this.#append(line);
  }

  submitting(task: Task): Promise<void> {
    this.#open.submitting(task.id);
    return this.#append(submittingRecord(task.id));
  }

  submitted(task: Task): void {
    this.#open.submitted(task.id, task.upstreamId);
    this.#appendQuietly(submittedRecord(task.id, task.upstreamId));
  }

  unsubmitted(task: Task): void {
    this.#open.unsubmitted(task.id);
    this.#appendQuietly(unsubmittedRecord(task.id));
  }

  ended(task: Task): void {
    if (!this.#open.end(task.id)) return;
    this.#appendQuietly(endRecord(task));
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
      if (shouldCompact(this.#recordsSinceCompaction, this.#compactAfter, this.#open.size)) await this.#compact();
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
    const lines = this.#open.compacted();
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
