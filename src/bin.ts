/** Entry point for esbuild and the single executable: hands the process to main, nothing else. */
import { existsSync, readFileSync } from "node:fs";
import type { Runtime } from "./base/runtime.ts";
import { main } from "./main.ts";

const runtime: Runtime = {
  env: process.env,
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
  readFile: (path) => readFileSync(path, "utf8"),
  exists: (path) => existsSync(path),
  onSignal(handler) {
    const onTerm = () => handler("SIGTERM");
    const onInt = () => handler("SIGINT");
    process.on("SIGTERM", onTerm);
    process.on("SIGINT", onInt);
    return () => {
      process.off("SIGTERM", onTerm);
      process.off("SIGINT", onInt);
    };
  },
  onReload(handler) {
    process.on("SIGHUP", handler);
    return () => void process.off("SIGHUP", handler);
  },
  exit: (code) => process.exit(code),
  isTTY: process.stdout.isTTY === true,
  stderrIsTTY: process.stderr.isTTY === true,
  // A getter: process.stdin made for a file or /dev/null loads node:os (a worker's start must not:
  // docs/sizing-and-performance.md, Performance); only the demo asks.
  get stdinIsTTY() {
    return process.stdin.isTTY === true;
  },
  // Read only when asked (the demo) and only from a terminal: Enter is a key press, not a stream to drain.
  onEnter(handler) {
    if (process.stdin.isTTY !== true) return undefined;
    const onData = (chunk: Buffer) => {
      // A terminal in its usual (canonical) mode sends a line at each Enter, ending in \n.
      for (const byte of chunk) if (byte === 0x0a) handler();
    };
    process.stdin.on("data", onData);
    return () => {
      process.stdin.off("data", onData);
      process.stdin.pause(); // lets the process exit: a paused stdin holds no handle open
    };
  },
  process: {
    cpuUsage: () => process.cpuUsage(),
    memoryUsage: () => process.memoryUsage(),
    rss: () => process.memoryUsage.rss(),
    pid: process.pid,
    nodeVersion: process.version,
  },
};

main(process.argv.slice(2), runtime).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`captcha-worker: unexpected failure: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
