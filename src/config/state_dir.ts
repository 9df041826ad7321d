/**
 * --state-dir checked before anything starts, so an unusable one is a configuration error (exit 78
 * naming the flag) like any other: it must be a directory, created here (one level at a time, so a
 * path under /proc fails at once where Node's recursive mkdir loops) and readable and writable.
 */
import { accessSync, constants, lstatSync, mkdirSync, readlinkSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { WorkerError } from "../base/errors.ts";

const FLAG = "--state-dir";

/** What an errno means for a state dir, in words an operator can act on. */
const REASONS: Record<string, string> = {
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EROFS: "read-only file system",
  ENOTDIR: "a parent is not a directory",
  ENOENT: "the file system does not allow creating it",
  ENOSPC: "no space left on the device",
  EDQUOT: "disk quota exceeded",
  ELOOP: "too many symbolic links",
  ENAMETOOLONG: "the path is too long",
};

/** Makes sure `dir` is a usable directory, creating it (mode 700) and its missing parents; throws ERR_CONFIG_INVALID naming --state-dir. */
export function prepareStateDir(dir: string): void {
  if (dir.trim() === "") throw invalid("expected a directory path, got an empty one");
  const path = resolve(dir);
  const missing: string[] = [];
  for (let at = path; ; at = dirname(at)) {
    const kind = kindOf(at, dir);
    if (kind === "directory") break;
    if (kind === "other") {
      throw invalid(at === path ? `${JSON.stringify(dir)} exists and is not a directory (ENOTDIR)` : `${JSON.stringify(at)} (a parent of ${JSON.stringify(dir)}) is not a directory (ENOTDIR)`);
    }
    missing.unshift(at);
    if (dirname(at) === at) break;
  }
  for (const at of missing) {
    try {
      mkdirSync(at, { mode: 0o700 });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "EEXIST" && kindOf(at, dir) === "directory") continue; // another process made it meanwhile
      const target = code === "EEXIST" ? danglingTarget(at) : undefined;
      if (target !== undefined) throw invalid(`${JSON.stringify(at)} is a symbolic link to ${JSON.stringify(target)}, which does not exist`, err);
      throw invalid(`cannot create ${JSON.stringify(at)}${why(err)}`, err);
    }
  }
  try {
    accessSync(path, constants.R_OK | constants.W_OK | constants.X_OK);
  } catch (err) {
    throw invalid(`${JSON.stringify(dir)} is not readable and writable by this process${why(err)}`, err);
  }
}

function kindOf(path: string, dir: string): "directory" | "other" | "missing" {
  try {
    return statSync(path).isDirectory() ? "directory" : "other";
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // ENOTDIR: a parent is a file; the walk up finds it and names it.
    if (code === "ENOENT" || code === "ENOTDIR") return "missing";
    throw invalid(`cannot look at ${JSON.stringify(path === resolve(dir) ? dir : path)}${why(err)}`, err);
  }
}

/** Where `path` points when it is a symbolic link (the only way a path is missing yet exists). */
function danglingTarget(path: string): string | undefined {
  try {
    return lstatSync(path).isSymbolicLink() ? readlinkSync(path) : undefined;
  } catch {
    return undefined;
  }
}

function why(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === undefined) return "";
  return REASONS[code] ? ` (${code}: ${REASONS[code]})` : ` (${code})`;
}

function invalid(message: string, cause?: unknown): WorkerError {
  return new WorkerError("ERR_CONFIG_INVALID", `Invalid ${FLAG}: ${message}`, { field: FLAG, cause });
}
