/**
 * One owner per directory: an exclusive SQLite transaction (node:sqlite) held on `<dir>/.lock` for
 * the process's life. Underneath it is an fcntl lock, which the kernel drops when the process dies
 * (kill -9 included) and which every process on the same kernel sees: other process namespaces and
 * containers sharing the volume too. Not across hosts unless the file system carries fcntl locks
 * (NFS with lockd does; a file system without lock support does not); deleting `.lock` defeats it.
 * The owner's pid goes to `<dir>/.owner` only so a refused second process can name it; a refused
 * process appends a line to `<dir>/.refused` (dir_refusals.ts) so the owner can count refusals.
 */
import { closeSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { DatabaseSync } from "node:sqlite";
import { loadBuiltin } from "./builtin.ts";
import { recordRefusal } from "./dir_refusals.ts";

export const LOCK_FILE = ".lock";
export const OWNER_FILE = ".owner";

/** SQLITE_BUSY and SQLITE_LOCKED: another connection holds the lock. */
const BUSY_CODES = new Set([5, 6]);
/** Tries before a busy lock counts as held (about 150 ms at most, only when refused). */
const LOCK_ATTEMPTS = 8;

/**
 * Every lock's database, strongly held until released: a DatabaseSync nobody references may be
 * collected and closed, which would drop the lock while the process still relies on it.
 */
const HELD = new Set<DatabaseSync>();

/** Blocks the thread for `ms` (start-up only: nothing else runs yet). */
function pauseMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

export type DirLockResult = { kind: "locked"; lock: DirLock } | { kind: "busy"; ownerPid: number | undefined };

export interface DirLock {
  /** Releases the lock (idempotent); the kernel does it anyway when the process ends. */
  release(): void;
}

/**
 * Takes `dir`'s lock without waiting: `busy` (with the owner's pid when it wrote one, and a line
 * appended to `.refused`) when another process, or another lock in this one, holds it. Throws the file system's error (EACCES, EROFS, ...)
 * when the lock file cannot be created.
 */
export function lockDir(dir: string, pid: number): DirLockResult {
  let db: DatabaseSync | undefined;
  // Two processes starting at the same instant can each hold the shared lock the other's EXCLUSIVE
  // waits for, and both be refused: a refused one lets go and tries again after a random pause, so
  // one of them wins. An owner that holds the lock refuses every try.
  for (let attempt = 0; db === undefined; attempt++) {
    const candidate = openLockFile(join(dir, LOCK_FILE));
    try {
      // EXCLUSIVE locking mode keeps the lock after the statement; BEGIN EXCLUSIVE takes it now;
      // journal_mode=OFF: no `.lock-journal` beside it (nothing is ever written to this database).
      candidate.exec("PRAGMA locking_mode=EXCLUSIVE; PRAGMA journal_mode=OFF; BEGIN EXCLUSIVE");
      db = candidate;
    } catch (err) {
      candidate.close();
      if (!BUSY_CODES.has((err as { errcode?: number }).errcode ?? -1)) throw asFsError(err);
      if (attempt === LOCK_ATTEMPTS - 1) {
        const ownerPid = awaitOwner(dir);
        recordRefusal(dir, { pid, ownerPid }); // the owner counts it: captcha_worker_state_dir_refusals_total
        return { kind: "busy", ownerPid };
      }
      pauseMs(5 + Math.floor(Math.random() * 25));
    }
  }
  HELD.add(db);
  const ownerFile = join(dir, OWNER_FILE);
  try {
    // A fresh file, never through whatever is at the name (a planted link would be written through).
    rmSync(ownerFile, { force: true });
    writeFileSync(ownerFile, `${pid}\n`, { mode: 0o600, flag: "wx" });
  } catch (err) {
    HELD.delete(db);
    db.close();
    throw err;
  }
  let held = true;
  return {
    kind: "locked",
    lock: {
      release() {
        if (!held) return;
        held = false;
        if (readOwner(dir) === pid) rmSync(ownerFile, { force: true });
        HELD.delete(db);
        db.close();
      },
    },
  };
}

function openLockFile(path: string): DatabaseSync {
  // Created owner-only first; closing this descriptor is harmless only because no lock is held yet.
  closeSync(openSync(path, "a", 0o600));
  try {
    // node:sqlite is loaded here, with --state-dir only: a worker without one never loads it (base/builtin.ts).
    return new (loadBuiltin("node:sqlite").DatabaseSync)(path, { timeout: 0 });
  } catch (err) {
    throw asFsError(err);
  }
}

/**
 * The owner writes its pid just after taking the lock: a process refused in between waits for it
 * a little (at most 200 ms, only on this refusal path) rather than name nobody.
 */
function awaitOwner(dir: string): number | undefined {
  for (let i = 0; ; i++) {
    const pid = readOwner(dir);
    if (pid !== undefined || i === 10) return pid;
    pauseMs(20);
  }
}

/** The pid the current owner wrote, if readable. */
function readOwner(dir: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(join(dir, OWNER_FILE), "utf8"), 10);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** SQLite says "unable to open database file"; give it an errno-like code the caller can name. */
function asFsError(err: unknown): Error {
  const e = err as { errcode?: number; errstr?: string; message?: string };
  const codes: Record<number, string> = { 8: "EROFS", 14: "ECANTOPEN", 23: "EACCES" };
  const wrapped = new Error(`${LOCK_FILE}: ${e.errstr ?? e.message ?? String(err)}`, { cause: err }) as NodeJS.ErrnoException;
  wrapped.code = codes[(e.errcode ?? 0) & 0xff] ?? "ELOCK";
  return wrapped;
}
