/** A worker run as a real child process for system tests: spawned (optionally under a wrapper such as prlimit), its log lines kept, killed with -9. */
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { after } from "node:test";
import { BIN_TS, ROOT, waitForStart } from "./cli.ts";
import { pollUntil } from "./net.ts";

export interface WorkerChild {
  child: ChildProcess;
  /** Every stderr line so far. */
  lines: string[];
  /** Resolves with the exit code (128 + n for a signal). */
  exited: Promise<number>;
}

const children = new Set<ChildProcess>();
const killAll = () => children.forEach((c) => c.kill("SIGKILL"));
// Registered as the module loads, at the top level of the test file that imports it: registered at
// the first spawn, inside a test, the hook ran when that test ended and left later workers running, so
// a failed assertion hung its file until the run's timeout. The process's exit is the last resort.
after(killAll);
process.once("exit", killAll);

/** Spawns `captcha-worker <args>` from source; `wrapper` (e.g. ["prlimit", "--fsize=N", "--"]) goes in front. */
export function spawnWorker(args: string[], env: Record<string, string>, wrapper: string[] = []): WorkerChild {
  const argv = [...wrapper, process.execPath, "--import", "tsx", BIN_TS, ...args];
  const child = spawn(argv[0]!, argv.slice(1), { cwd: ROOT, env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env }, stdio: ["ignore", "pipe", "pipe"] });
  children.add(child);
  const lines: string[] = [];
  let partial = "";
  child.stderr!.on("data", (c: Buffer) => {
    const parts = (partial + c.toString()).split("\n");
    partial = parts.pop()!;
    lines.push(...parts.filter(Boolean));
  });
  const exited = once(child, "exit").then(([code, signal]) => {
    children.delete(child);
    if (partial) lines.push(partial);
    return (code as number | null) ?? 128 + (signal === "SIGKILL" ? 9 : 15);
  });
  return { child, lines, exited };
}

/** Waits for the start line (unless its `listen` was already read), then for readiness; returns the base URL. */
export async function whenReady(w: WorkerChild, listen?: string): Promise<string> {
  const base = `http://${listen ?? (await waitForStart(w.child)).listen}`;
  await pollUntil("ready", async () => (await fetch(base + "/health/ready")).status === 200, { timeoutMs: 20_000, intervalMs: 25 });
  return base;
}

export async function kill9(w: WorkerChild): Promise<void> {
  w.child.kill("SIGKILL");
  await w.exited;
}

/** POSTs a task; its status and JSON body. */
export async function postTask(base: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(base + "/v1/tasks", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}
