/**
 * A refused second owner made visible: the refused process appends one JSON line (time, pid, host,
 * the owner's pid) to `<dir>/.refused`, and the owner counts the lines that appear (an async stat
 * every few seconds, the new bytes read only when it grew) for `captcha_worker_state_dir_refusals_total`.
 * Bounded: a refused process appends only while the file is under 64 KiB, and the owner, the only
 * one that may, moves a file of 32 KiB or more to `.refused.1` once it has counted it (a line
 * appended in the instant between its read and the rename goes uncounted: a rare miss, never a
 * double count).
 */
import { closeSync, constants, fstatSync, lstatSync, openSync, writeSync } from "node:fs";
import { join } from "node:path";
import { loadBuiltin } from "./builtin.ts";
import type { Clock, Timer } from "./clock.ts";
import type { Logger } from "./log.ts";

/** Loaded at first use, with --state-dir only (base/builtin.ts). */
const fsp = () => loadBuiltin("node:fs/promises");

export const REFUSED_FILE = ".refused";
/** A refused process appends only below this size. */
export const REFUSED_MAX_BYTES = 64 * 1024;
/** The owner moves the file aside once it holds this much. */
export const REFUSED_ROTATE_BYTES = 32 * 1024;
/**
 * `.refused` is opened without following a symbolic link and without waiting on a FIFO, and only a
 * regular file is written or read: whoever planted another kind of file there gets neither a write
 * through it nor a refused process that hangs instead of exiting 75.
 */
const APPEND_FLAGS = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK;
const READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;
/** How often the owner looks. @default 2 s */
export const REFUSALS_CHECK_MS = 2_000;

export interface RefusalRecord {
  pid: number;
  ownerPid: number | undefined;
  /** @default now */
  atMs?: number;
  /** @default os.hostname() */
  host?: string;
}

/** Appends the refusal (O_APPEND, one write) unless the file is full; never throws: the refusal stands either way. */
export function recordRefusal(dir: string, r: RefusalRecord): boolean {
  let fd: number | undefined;
  try {
    fd = openSync(join(dir, REFUSED_FILE), APPEND_FLAGS, 0o600);
    const st = fstatSync(fd);
    if (!st.isFile() || st.size >= REFUSED_MAX_BYTES) return false;
    const line = JSON.stringify({ ts: new Date(r.atMs ?? Date.now()).toISOString(), pid: r.pid, host: r.host ?? loadBuiltin("node:os").hostname(), owner_pid: r.ownerPid ?? null }) + "\n";
    writeSync(fd, line);
    return true;
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

export interface RefusalWatch {
  /** Refusal lines that appeared since the watch began. */
  readonly count: number;
  /** One look now (single flight); the timer calls it too. */
  check(): Promise<void>;
  stop(): void;
}

export interface RefusalWatchOptions {
  clock: Clock;
  log?: Logger;
  /** @default REFUSALS_CHECK_MS */
  everyMs?: number;
}

/** Starts counting the lines appended to `<dir>/.refused` from now on (what is there already is not counted). */
export function watchRefusals(dir: string, o: RefusalWatchOptions): RefusalWatch {
  const path = join(dir, REFUSED_FILE);
  let { offset, ino } = baseline(path);
  let count = 0;
  let running: Promise<void> | undefined;
  let timer: Timer | undefined;
  let stopped = false;

  const look = async () => {
    let size: number;
    let now: number;
    try {
      const st = await fsp().lstat(path);
      if (!st.isFile()) return; // a link, a FIFO, a directory: nothing a refused process writes to
      size = st.size;
      now = st.ino;
    } catch {
      offset = 0; // gone (moved aside, deleted): a new file is counted from its start
      ino = undefined;
      return;
    }
    if (now !== ino || size < offset) offset = 0; // another file, or cut short: counted from its start
    ino = now;
    if (size > offset) {
      const fh = await fsp().open(path, READ_FLAGS);
      try {
        // At most what a refused process may write; a file grown past that by anyone else is read on in later looks.
        const buf = Buffer.alloc(Math.min(size - offset, REFUSED_MAX_BYTES));
        const { bytesRead } = await fh.read(buf, 0, buf.length, offset);
        let lines = 0;
        for (let at = buf.indexOf(0x0a); at >= 0 && at < bytesRead; at = buf.indexOf(0x0a, at + 1)) lines++;
        // A line still being written is counted once it is whole.
        // A full read with no line end in it (garbage) is skipped rather than read again at every look.
        const end = buf.subarray(0, bytesRead).lastIndexOf(0x0a);
        offset += end >= 0 ? end + 1 : bytesRead === REFUSED_MAX_BYTES ? bytesRead : 0;
        if (lines > 0) {
          count += lines;
          o.log?.warn("another process was refused the state directory (see .refused there)", { dir, refused: lines, total: count });
        }
      } finally {
        await fh.close();
      }
    }
    if (offset >= REFUSED_ROTATE_BYTES) {
      await fsp().rename(path, path + ".1");
      offset = 0;
      ino = undefined;
    }
  };
  const watch: RefusalWatch = {
    get count() {
      return count;
    },
    check() {
      running ??= look()
        .catch((err: unknown) => o.log?.debug("cannot read the refusals file", { err }))
        .finally(() => (running = undefined));
      return running;
    },
    stop() {
      stopped = true;
      timer?.cancel();
    },
  };
  const schedule = () => {
    timer = o.clock.setTimeout(() => {
      void watch.check().then(() => {
        if (!stopped) schedule();
      });
    }, o.everyMs ?? REFUSALS_CHECK_MS);
  };
  schedule();
  return watch;
}

function baseline(path: string): { offset: number; ino: number | undefined } {
  try {
    const st = lstatSync(path);
    return { offset: st.size, ino: st.ino };
  } catch {
    return { offset: 0, ino: undefined };
  }
}
