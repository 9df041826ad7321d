/**
 * A newcomer's checkout for system tests: the files a clone of this repository holds, copied from the
 * working tree (uncommitted changes included) into a directory of the test's; the environment of a
 * terminal that has not run `npm ci` yet; and npm run there as a terminal's foreground job.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { copyFileSync, lstatSync, mkdirSync, readlinkSync, symlinkSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { ROOT } from "./cli.ts";

/**
 * A newcomer's terminal: this run's environment without npm's script variables, the test runner's,
 * the worker's own settings (CAPTCHA_WORKER_*), and without this checkout's directories on PATH (the
 * pinned Node among them): the machine's npm and node, as before the first `npm ci`.
 */
export function newcomerEnv(): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(npm_|NODE_|TSX_|CAPTCHA_WORKER_)|^INIT_CWD$/i.test(k)));
  env.PATH = (process.env.PATH ?? "/usr/bin:/bin").split(":").filter((d) => d !== "" && !(resolve(d) + "/").startsWith(ROOT)).join(":");
  return env;
}

/** `command -v program` under `env`'s PATH. */
export function whichIn(program: string, env: NodeJS.ProcessEnv): string | undefined {
  const r = spawnSync("sh", ["-c", `command -v ${program}`], { encoding: "utf8", env });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** Copies the files `git ls-files` lists, as the working tree holds them, into `dest`; their count. */
export function copyTrackedFiles(dest: string): number {
  const r = spawnSync("git", ["ls-files", "-z"], { cwd: ROOT, encoding: "utf8" });
  assert.equal(r.status, 0, `git ls-files: ${r.stderr}`);
  let n = 0;
  for (const file of r.stdout.split("\0").filter(Boolean)) {
    const from = join(ROOT, file);
    const stat = lstatSync(from, { throwIfNoEntry: false });
    if (!stat) continue; // deleted in the working tree
    const to = join(dest, file);
    mkdirSync(dirname(to), { recursive: true });
    if (stat.isSymbolicLink()) symlinkSync(readlinkSync(from), to);
    else copyFileSync(from, to); // keeps the mode: scripts stay executable
    n++;
  }
  return n;
}

export interface NpmRun {
  child: ChildProcess;
  stdout(): string;
  /** Every stderr line so far (the worker's log, and anything npm or Node print). */
  lines: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `npm ARGS` in `cwd`, in a process group of its own as a terminal's foreground job, stdout and stderr no TTY. */
export function startNpm(npm: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): NpmRun {
  const child = spawn(npm, args, { cwd, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let partial = "";
  const lines: string[] = [];
  child.stdout!.on("data", (c: Buffer) => void (out += c));
  child.stderr!.on("data", (c: Buffer) => {
    const parts = (partial + c.toString()).split("\n");
    partial = parts.pop()!;
    lines.push(...parts.filter(Boolean));
  });
  const exited = once(child, "exit").then(([code, signal]) => {
    if (partial) lines.push(partial);
    return { code: code as number | null, signal: signal as NodeJS.Signals | null };
  });
  return { child, stdout: () => out, lines, exited };
}

/** `npm ARGS` in `cwd` to its end: its exit code and its output, stdout and stderr as a terminal shows them. */
export function runNpm(npm: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; out: string }> {
  return new Promise((done) => {
    const child = spawn(npm, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (c: Buffer) => void (out += c));
    child.stderr.on("data", (c: Buffer) => void (out += c));
    child.once("exit", (code) => done({ code, out }));
  });
}
