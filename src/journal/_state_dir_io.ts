/** The journal's file-system steps that need no journal state: whole writes, the write and journal-file probes, directory fsync, its errors. */
import { closeSync, constants, fstatSync, fsyncSync, openSync, renameSync, rmSync, unlinkSync, write, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { WorkerError } from "../base/errors.ts";

export const STATE_DIR_FLAG = "--state-dir";

/** Writes all of `bytes` at the end of the file; a short write is retried, so it ends in the error that cut it short. */
export async function writeWhole(fd: number, bytes: Buffer): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) {
    const n = await new Promise<number>((resolve, reject) => write(fd, bytes, offset, bytes.length - offset, null, (err, written) => (err ? reject(err) : resolve(written))));
    if (n <= 0) throw Object.assign(new Error("write made no progress"), { code: "EIO" });
    offset += n;
  }
}

/** ERR_STATE_DIR naming --state-dir and the errno, unless `err` already is a WorkerError. */
export function stateDirError(dir: string, what: string, err: unknown): Error {
  if (err instanceof WorkerError) return err;
  const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
  return new WorkerError("ERR_STATE_DIR", `${what} ${dir} (${STATE_DIR_FLAG}): ${reason}`, { field: STATE_DIR_FLAG, cause: err });
}

/** Creates, writes, fsyncs and removes a small file named after this process: a read-only or full directory fails here. */
export function probeWritable(dir: string, pid: number): void {
  const probe = join(dir, `.write-probe.${pid}`);
  const fd = openSync(probe, "w", 0o600);
  try {
    writeFileSync(fd, "x".repeat(4096));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
    unlinkSync(probe);
  }
}

/**
 * Opens (creating) the journal file for appending and checks it is a regular file. Non-blocking, so
 * a FIFO planted at the name fails the start with a line instead of hanging it for good (ENXIO when
 * nothing reads it; a regular-file check when something does).
 */
export function probeJournalFile(path: string): void {
  let fd: number;
  try {
    fd = openSync(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NONBLOCK, 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENXIO") throw notRegular(path);
    throw err;
  }
  try {
    if (!fstatSync(fd).isFile()) throw notRegular(path);
  } finally {
    closeSync(fd);
  }
}

const notRegular = (path: string) => new Error(`${basename(path)} there is not a regular file`);

export function syncDir(dir: string): void {
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Replaces `path` (in `dir`) with `lines`, one a line: a new file written in pieces of about 1 MiB
 * (the lines may be more than one string can hold), fsynced, renamed over `path`, the directory
 * fsynced. On failure the new file is removed and `path` is left as it was.
 */
export function replaceDurably(dir: string, path: string, lines: Iterable<string>): void {
  const tmp = path + ".tmp";
  try {
    const fd = openSync(tmp, "w", 0o600);
    try {
      let piece: string[] = [];
      let pieceChars = 0;
      for (const line of lines) {
        piece.push(line, "\n");
        pieceChars += line.length + 1;
        if (pieceChars < 1 << 20) continue;
        writeFileSync(fd, piece.join(""));
        piece = [];
        pieceChars = 0;
      }
      writeFileSync(fd, piece.join(""));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  syncDir(dir);
}
