/**
 * What a person reads when `run` starts or refuses to: the start line first whatever else starts
 * (journal, systemd watchdog), an unusable --state-dir as the plain exit-78 line every configuration
 * error gets, and a refused key named by where it came from (never the key). Real child processes.
 */
import assert from "node:assert/strict";
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { startSimulator } from "../../src/sim/simulator.ts";
import { BIN_TS, collectOutput, ROOT, runCli, spawnCli, waitForStart } from "../_support/cli.ts";
import { pollUntil } from "../_support/net.ts";
import { requireOrSkip, requireProgram } from "../_support/programs.ts";
import { tempDir } from "../_support/temp_dirs.ts";
import { spawnWorker } from "../_support/worker_child.ts";

const KEY = "messages-test-key-4d8a1c0e7b0123";

describe("run: the start line and the messages around it", () => {
  test("the first line of a run is the start line, even with a journal to replay and systemd's watchdog set", async () => {
    const dir = tempDir("cw-first-line-");
    const w = spawnWorker(["run", "--listen", "127.0.0.1:0", "--upstream", "http://127.0.0.1:9", "--state-dir", join(dir, "state")], {
      CAPTCHAAI_API_KEY: KEY,
      NOTIFY_SOCKET: join(dir, "no-such.sock"),
      WATCHDOG_USEC: "2000000",
    });
    await pollUntil("the lines logged while starting", () => w.lines.some((l) => l.includes('"msg":"systemd watchdog on"')) && w.lines.some((l) => l.includes('"msg":"journal replayed"')));
    assert.equal(JSON.parse(w.lines[0]!).msg, "captcha-worker started", w.lines.join("\n"));
    assert.equal(w.lines.filter((l) => l.includes('"msg":"captcha-worker started"')).length, 1);
    w.child.kill("SIGTERM");
    assert.equal(await w.exited, 0);
  });

  test("an unusable --state-dir (a file, a file's child, a path under /proc) exits 78 with one plain line naming --state-dir, quickly", async () => {
    const dir = tempDir("cw-bad-state-");
    const file = join(dir, "a-file");
    writeFileSync(file, "not a directory\n");
    for (const stateDir of [file, join(file, "sub"), "/proc/captcha-worker-state"]) {
      const started = Date.now();
      const r = await runCli(["run", "--listen", "127.0.0.1:0", "--upstream", "http://127.0.0.1:9", "--state-dir", stateDir], { CAPTCHAAI_API_KEY: KEY }, 15_000);
      assert.equal(r.code, 78, `${stateDir}: ${r.stderr}`);
      assert.match(r.stderr, /^captcha-worker: Invalid --state-dir: [^\n]+\n$/, stateDir);
      assert.ok(!r.stderr.includes("{"), "no JSON log line");
      assert.ok(Date.now() - started < 10_000, `${stateDir} took ${Date.now() - started} ms`);
    }
  });

  test("an unwritable --state-dir (or one it cannot create) exits 78 with one plain line naming --state-dir and EACCES", async (t) => {
    const setpriv = requireProgram(t, "setpriv", "util-linux");
    if (!setpriv || !requireOrSkip(t, process.getuid?.() === 0, "dropping to nobody (uid 65534) needs root")) return;
    const dir = tempDir("cw-unwritable-");
    chmodSync(dir, 0o755);
    for (const stateDir of [dir, join(dir, "sub")]) {
      const r: SpawnSyncReturns<string> = spawnSync(setpriv as string, ["--reuid=65534", "--regid=65534", "--clear-groups", process.execPath, "--import", "tsx", BIN_TS, "run", "--listen", "127.0.0.1:0", "--state-dir", stateDir], {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin", CAPTCHAAI_API_KEY: KEY },
        encoding: "utf8",
        timeout: 30_000,
      });
      assert.equal(r.status, 78, r.stderr);
      assert.match(r.stderr, /^captcha-worker: Invalid --state-dir: [^\n]*\(EACCES: permission denied\)\n$/);
    }
  });

  test("a refused key is named by where it came from, the key never", async () => {
    const sim = await startSimulator({ host: "127.0.0.1", port: 0 }, { keys: ["the-only-key-the-simulator-takes"] });
    try {
      const dir = tempDir("cw-key-origin-");
      const keyFile = join(dir, "captchaai.key");
      writeFileSync(keyFile, KEY + "\n");
      for (const [args, env, origin] of [
        [["--api-key-file", keyFile], {}, `--api-key-file ${keyFile}`],
        [[], { CAPTCHAAI_API_KEY: KEY }, "CAPTCHAAI_API_KEY"],
      ] as [string[], Record<string, string>, string][]) {
        const child = spawnCli(["run", "--listen", "127.0.0.1:0", "--upstream", sim.url.href, ...args], env);
        const out = collectOutput(child);
        await waitForStart(child);
        const line = await pollUntil("the refusal line", () => out.text().split("\n").find((l) => l.includes("upstream refuses the key")));
        assert.equal(JSON.parse(line).msg, `upstream refuses the key from ${origin}; submissions stopped`);
        child.kill("SIGTERM");
        await new Promise((resolve) => child.once("exit", resolve));
        assert.ok(!out.text().includes(KEY), "the key is never printed");
      }
    } finally {
      await sim.close();
    }
  });
});
