/** Runs the CLI in-process (fast, for config and usage) or as a real child process (signals, exit codes). */
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { after } from "node:test";
import type { Runtime, StopSignal } from "../../src/base/runtime.ts";
import { main } from "../../src/main.ts";
import { testProcess } from "./process_stats.ts";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const BIN_TS = ROOT + "src/bin.ts";
export const BUILT_BIN = ROOT + "dist/captcha-worker";

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Calls main() with a captured runtime; `files` stands in for the file system. */
export async function runMain(argv: string[], env: Record<string, string> = {}, files: Record<string, string> = {}): Promise<CliResult> {
  let stdout = "";
  let stderr = "";
  const rt: Runtime = {
    env,
    stdout: (t) => void (stdout += t),
    stderr: (t) => void (stderr += t),
    readFile: (p) => {
      if (p in files) return files[p]!;
      const err = new Error(`ENOENT: ${p}`) as NodeJS.ErrnoException;
      err.code = "ENOENT";
      throw err;
    },
    exists: (p) => p in files,
    onSignal: (_h: (s: StopSignal) => void) => () => {},
    exit: (code) => {
      throw new Error(`exit(${code}) called`);
    },
    isTTY: false,
    process: testProcess,
  };
  const code = await main(argv, rt);
  return { code, stdout, stderr };
}

/** Runs the CLI from source under tsx in a child process and waits for it to exit. */
export async function runCli(args: string[], env: Record<string, string> = {}, timeoutMs = 30_000): Promise<CliResult> {
  const child = spawnCli(args, env);
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (c: Buffer) => (stdout += c));
  child.stderr!.on("data", (c: Buffer) => (stderr += c));
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  const [code, signal] = (await once(child, "exit")) as [number | null, string | null];
  clearTimeout(timer);
  return { code: code ?? (signal ? 128 : -1), stdout, stderr };
}

/** Spawns the CLI from source (or the built binary with `bin`), with a clean environment plus `env`. */
export function spawnCli(args: string[], env: Record<string, string> = {}, bin?: string): ChildProcess {
  const base = { PATH: process.env.PATH ?? "/usr/bin:/bin" };
  const child = bin
    ? spawn(bin, args, { env: { ...base, ...env }, stdio: ["ignore", "pipe", "pipe"] })
    : spawn(process.execPath, ["--import", "tsx", BIN_TS, ...args], { cwd: ROOT, env: { ...base, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  spawned.add(child);
  child.once("exit", () => spawned.delete(child));
  return child;
}

/**
 * Workers a test file started and has not seen exit: killed once the file's tests have ended, so a
 * test that failed before its cleanup cannot leave a worker holding the run open (or a port taken).
 */
const spawned = new Set<ChildProcess>();
after(() => {
  for (const child of spawned) child.kill("SIGKILL");
});

/** Waits for the worker's start line on stderr and returns its listen address and every line so far. */
export async function waitForStart(child: ChildProcess, timeoutMs = 20_000): Promise<{ listen: string; lines: string[] }> {
  const lines: string[] = [];
  let buf = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no start line within ${timeoutMs}ms:\n${lines.join("\n")}`)), timeoutMs);
    const onData = (c: Buffer) => {
      buf += c;
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        lines.push(line);
        const listen = startedListen(line);
        if (listen) {
          clearTimeout(timer);
          resolve({ listen, lines: [...lines] }); // the lines up to the start line, not what follows in the chunk
        }
      }
    };
    child.stderr!.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before starting:\n${lines.join("\n")}${buf}`));
    });
  });
}

/** The listen address from a start line in JSON or text format. */
function startedListen(line: string): string | undefined {
  try {
    const rec = JSON.parse(line) as { msg?: string; listen?: string };
    return rec.msg === "captcha-worker started" ? rec.listen : undefined;
  } catch {
    return / captcha-worker started .*\blisten=(\S+)/.exec(line)?.[1];
  }
}

/** Collects everything a child prints from now on. */
export function collectOutput(child: ChildProcess): { text: () => string } {
  let text = "";
  child.stdout?.on("data", (c: Buffer) => (text += c));
  child.stderr?.on("data", (c: Buffer) => (text += c));
  return { text: () => text };
}

export function builtBinaryAvailable(): boolean {
  return existsSync(BUILT_BIN);
}

export function packageVersion(): string {
  return (JSON.parse(readFileSync(ROOT + "package.json", "utf8")) as { version: string }).version;
}
