/**
 * `run --demo` on a real terminal: the worker runs under util-linux's `script`, which gives it a
 * pseudo-terminal for stdin, stdout and stderr, and the test types into it as a person would
 * (Enter, then Ctrl-C, which the terminal turns into SIGINT). The log is text unless --log-format
 * says otherwise, quiet between `ready` and the stop apart from one line per task, the banner comes
 * back in short at Enter, and a clean Ctrl-C says nothing alarming.
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { BIN_TS, ROOT } from "../_support/cli.ts";
import { pollUntil } from "../_support/net.ts";
import { requireProgram } from "../_support/programs.ts";
import { tempDir } from "../_support/temp_dirs.ts";

const running = new Set<ChildProcess>();
/** Workers known by pid only (a terminal's shell exec'd them): killed too, should a test fail with one left. */
const pids = new Set<number>();
after(() => {
  running.forEach((c) => c.kill("SIGKILL"));
  pids.forEach((pid) => {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone already
    }
  });
});

interface Terminal {
  /** Everything the terminal showed, `\r\n` read as `\n`. */
  screen(): string;
  type(text: string): void;
  exited: Promise<number>;
}

const quote = (a: string) => `'${a.replaceAll("'", `'\\''`)}'`;

/** The demo in a pseudo-terminal of its own (`script -qec CMD /dev/null`); `shell` goes before its exec (a redirection after it). */
function onTerminal(script: string, args: string[], shell: { before?: string; after?: string } = {}): Terminal & { child: ChildProcess } {
  // exec: the shell script runs it under would otherwise share the Ctrl-C, and die of it.
  const command = (shell.before ?? "") + "exec " + [process.execPath, "--import", "tsx", BIN_TS, "run", "--demo", "--listen", "127.0.0.1:0", ...args].map(quote).join(" ") + (shell.after ?? "");
  const child = spawn(script, ["-qec", command, "/dev/null"], { cwd: ROOT, env: { PATH: process.env.PATH ?? "/usr/bin:/bin", TERM: "dumb" }, stdio: ["pipe", "pipe", "pipe"] });
  running.add(child);
  let text = "";
  child.stdout!.on("data", (c: Buffer) => void (text += c.toString()));
  child.stderr!.on("data", (c: Buffer) => void (text += c.toString()));
  const exited = once(child, "exit").then(([code]) => {
    running.delete(child);
    return code as number;
  });
  return { screen: () => text.replaceAll("\r\n", "\n"), type: (t) => void child.stdin!.write(t), exited, child };
}

/** The log lines on the screen (text format: `TS LEVEL msg key=value ...`), the terminal's `^C` echo dropped. */
function logLines(screen: string): { level: string; msg: string; line: string }[] {
  return screen
    .split("\n")
    .map((l) => l.replace(/^\^C/, ""))
    .flatMap((line) => {
      const m = /^\d{4}-\d\d-\d\dT[\d:.]+Z (DEBUG|INFO|WARN|ERROR) +(.+?)(?: \w+=.*)?$/.exec(line);
      return m ? [{ level: m[1]!, msg: m[2]!, line }] : [];
    });
}

describe("the demo on a terminal", () => {
  test("text log, one line per task between ready and the stop, the banner in short at Enter, and a quiet Ctrl-C", async (t) => {
    const script = requireProgram(t, "script", "util-linux");
    if (!script) return;
    const term = onTerminal(script, []);
    await pollUntil("the banner", () => term.screen().includes("Stop with Ctrl-C."), { timeoutMs: 30_000, intervalMs: 50 });
    assert.match(term.screen(), /The addresses and the key come back in short at Enter and every 2m\./);
    await pollUntil("a task solved", () => logLines(term.screen()).some((l) => l.msg === "task solved"), { timeoutMs: 30_000, intervalMs: 50 });
    const before = term.screen().split("Demo on ").length;
    term.type("\n");
    await pollUntil("the short banner", () => term.screen().split("Demo on ").length > before, { timeoutMs: 10_000, intervalMs: 50 });
    const short = term.screen().slice(term.screen().lastIndexOf("Demo on "));
    assert.match(short, /^Demo on 127\.0\.0\.1:\d+ \(the full banner is above the log\):\n {2}status page {3}http:\/\/127\.0\.0\.1:\d+\/\n {2}gateway key {3}demo-[0-9a-f]{24} /);
    assert.match(short, /\n {2}simulator {5}http:\/\/127\.0\.0\.1:\d+\/__sim\/counts\n/);
    term.type("\x03"); // Ctrl-C: the terminal sends SIGINT
    assert.equal(await term.exited, 0);

    const lines = logLines(term.screen());
    assert.ok(lines.length >= 5, term.screen());
    assert.ok(!term.screen().includes('{"ts":'), "no JSON line on a terminal");
    assert.deepEqual(lines.filter((l) => l.level !== "INFO").map((l) => l.line), [], "nothing alarming, Ctrl-C included");
    const msgs = lines.map((l) => l.msg);
    const ready = msgs.indexOf("ready");
    const stopping = msgs.indexOf("stopping");
    assert.deepEqual(msgs.slice(0, ready + 1), ["captcha-worker started", "ready"], "ready once, never a not ready at start");
    const between = msgs.slice(ready + 1, stopping);
    assert.ok(between.includes("task solved"));
    assert.deepEqual(between.filter((m) => m !== "task solved" && m !== "task failed"), [], "quiet at info apart from one line per task");
    assert.ok(!msgs.includes("drain timeout: tasks failed with shutdown"));
  });

  test("--log-format json on a terminal keeps JSON", async (t) => {
    const script = requireProgram(t, "script", "util-linux");
    if (!script) return;
    const term = onTerminal(script, ["--log-format", "json"]);
    await pollUntil("the start line", () => /\{"ts":"[^"]+","level":"info","msg":"captcha-worker started"/.test(term.screen()), { timeoutMs: 30_000, intervalMs: 50 });
    await pollUntil("the banner", () => term.screen().includes("Stop with Ctrl-C."), { timeoutMs: 30_000, intervalMs: 50 });
    term.type("\x03");
    assert.equal(await term.exited, 0);
    assert.deepEqual(logLines(term.screen()), [], "no text line");
  });

  test("closing the terminal stops the demo, its log sent to a file: SIGHUP is the hang-up there, not a reload that left it running on its port", async (t) => {
    const script = requireProgram(t, "script", "util-linux");
    if (!script) return;
    const dir = tempDir("cw-demo-hangup-");
    const logFile = join(dir, "demo.log");
    const pidFile = join(dir, "pid");
    // `npm start 2>demo.log`, to keep the banner on the screen: the log is no terminal, stdin and stdout are.
    const term = onTerminal(script, [], { before: `echo $$ > ${quote(pidFile)}; `, after: ` 2> ${quote(logFile)}` });
    await pollUntil("the banner", () => term.screen().includes("Stop with Ctrl-C."), { timeoutMs: 30_000, intervalMs: 50 });
    const pid = Number(readFileSync(pidFile, "utf8"));
    pids.add(pid);
    term.child.kill("SIGKILL"); // the terminal goes away: the kernel hangs up its session (SIGHUP)
    const alive = () => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    await pollUntil("the demo gone", () => !alive(), { timeoutMs: 15_000, intervalMs: 50 });
    const msgs = readFileSync(logFile, "utf8").trim().split("\n").map((l) => JSON.parse(l) as { msg: string; signal?: string });
    assert.deepEqual(msgs.filter((m) => m.msg === "stopping").map((m) => m.signal), ["SIGHUP"]);
    assert.equal(msgs.at(-1)?.msg, "stopped");
    assert.ok(!msgs.some((m) => m.msg === "client keys loaded"), "no reload");
  });
});
