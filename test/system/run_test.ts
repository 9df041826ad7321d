import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { json } from "../_support/http.ts";
import { describe, test } from "node:test";
import { collectOutput, ROOT, runCli, spawnCli, waitForStart } from "../_support/cli.ts";
import { requireProgram } from "../_support/programs.ts";
import { tempDir } from "../_support/temp_dirs.ts";
import { OPTION_GROUPS, OPTIONS } from "../../src/config/options.ts";

const KEY = "run-test-key-5b1c0d2e9f";

describe("run", () => {
  test("starts, answers /health/live, logs one start line without the key, and exits 0 on SIGTERM", async () => {
    const child = spawnCli(["run", "--listen", "127.0.0.1:0", "--upstream", "http://127.0.0.1:9"], { CAPTCHAAI_API_KEY: KEY });
    const out = collectOutput(child);
    const { listen, lines } = await waitForStart(child);
    const start = JSON.parse(lines.at(-1)!);
    assert.equal(start.level, "info");
    assert.equal(start.upstream, "127.0.0.1:9");
    assert.equal(start.threads, 5);
    assert.match(start.version, /^\d+\.\d+\.\d+/);

    const res = await fetch(`http://${listen}/health/live`);
    assert.equal(res.status, 200);
    const body = await json(res);
    assert.equal(body.status, "ok");
    assert.equal(typeof body.uptime_s, "number");
    assert.equal(res.headers.get("cache-control"), "no-store");

    const probe = await runCli(["probe", "live", "--url", `http://${listen}`]);
    assert.equal(probe.code, 0, probe.stderr);

    child.kill("SIGTERM");
    const [code] = await once(child, "exit");
    assert.equal(code, 0);
    assert.ok(!out.text().includes(KEY));
    assert.match(out.text(), /"msg":"stopped"/);
  });

  test("SIGINT stops it too, with text logs when asked", async () => {
    const child = spawnCli(["--listen", "127.0.0.1:0", "--log-format", "text"], { CAPTCHAAI_API_KEY: KEY });
    const { lines } = await waitForStart(child);
    assert.match(lines.at(-1)!, /^\S+ INFO  captcha-worker started version=\S+ /);
    child.kill("SIGINT");
    const [code] = await once(child, "exit");
    assert.equal(code, 0);
  });

  test("Ctrl-C in the demo drains its sample tasks for at most 300 ms, not the drain timeout, and exits 0", async () => {
    const child = spawnCli(["--demo", "--listen", "127.0.0.1:0"], {});
    const out = collectOutput(child);
    await waitForStart(child);
    child.kill("SIGINT");
    const [code] = await once(child, "exit");
    assert.equal(code, 0);
    const stopping = out.text().split("\n").find((l) => l.includes('"msg":"stopping"'));
    assert.ok(stopping, out.text());
    assert.equal(JSON.parse(stopping).drain_timeout_ms, 300);
  });

  test("a port already in use is a runtime failure, exit 1, with one plain line (JSON or text logs alike) naming the command line and the variable", async () => {
    const first = spawnCli(["--listen", "127.0.0.1:0"], { CAPTCHAAI_API_KEY: KEY });
    const { listen } = await waitForStart(first);
    const next = `127.0.0.1:${Number(listen.split(":")[1]) + 1}`;
    for (const format of ["json", "text"]) {
      const second = await runCli(["--listen", listen, "--log-format", format], { CAPTCHAAI_API_KEY: KEY });
      assert.equal(second.code, 1);
      assert.equal(second.stderr, `captcha-worker: Cannot listen on ${listen}: EADDRINUSE (another process listens there); choose another address: captcha-worker run --listen ${next} (or set CAPTCHA_WORKER_LISTEN)\n`);
      assert.equal(second.stdout, "");
    }
    // A demo's line starts a demo again: `captcha-worker run --listen ...` alone would exit 78 (no key).
    const demo = await runCli(["run", "--demo", "--demo-overflow", "--listen", listen], {});
    assert.equal(demo.code, 1, demo.stderr);
    assert.equal(demo.stderr, `captcha-worker: Cannot listen on ${listen}: EADDRINUSE (another process listens there); choose another address: captcha-worker run --demo --demo-overflow --listen ${next} (or set CAPTCHA_WORKER_LISTEN)\n`);
    first.kill("SIGTERM");
    await once(first, "exit");
  });

  test("a second `npm start` on a taken port: one line on stderr, naming `npm start -- --listen` (through npm itself)", async (t) => {
    const npm = requireProgram(t, "npm", "npm");
    if (!npm) return;
    const first = spawnCli(["--demo", "--listen", "127.0.0.1:0"]);
    const { listen } = await waitForStart(first);
    const r = spawnSync(npm, ["start", "--", "--listen", listen], { cwd: ROOT, env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: tempDir("cw-npm-home-"), npm_config_update_notifier: "false" }, encoding: "utf8", timeout: 30_000 });
    assert.equal(r.status, 1, r.stderr);
    assert.equal(r.stderr, `captcha-worker: Cannot listen on ${listen}: EADDRINUSE (another process listens there); choose another address: npm start -- --listen 127.0.0.1:${Number(listen.split(":")[1]) + 1} (or set CAPTCHA_WORKER_LISTEN)\n`);
    first.kill("SIGTERM");
    await once(first, "exit");
  });

  test("run --help: run's own page on stdout, exit 0, every option once under its section with its variable", async () => {
    const r = await runCli(["run", "--help"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, "");
    assert.match(r.stdout, /^Usage: captcha-worker \[run\] \[flags\]$/m);
    for (const o of OPTIONS) {
      assert.equal(r.stdout.split("\n").filter((l) => new RegExp(`^ {2}--${o.flag}(?: |$)`).test(l)).length, 1, o.flag);
      assert.ok(r.stdout.includes(o.env), o.env);
    }
    for (const heading of new Set(OPTIONS.map((o) => OPTION_GROUPS[o.group]))) assert.match(r.stdout, new RegExp(`^${heading.replace(/[()]/g, "\\$&")}:$`, "m"));
    assert.doesNotMatch(r.stdout, /^ {2}--url /m, "probe's flags are on probe's page");
  });

  test("safe by default: on a non-loopback --listen without a credential run exits 78 naming the flags, before listening", async () => {
    for (const args of [["--listen", "0.0.0.0:0"], []]) {
      const r = await runCli(["run", ...args, "--upstream", "http://127.0.0.1:9"], { CAPTCHAAI_API_KEY: KEY });
      assert.equal(r.code, 78, r.stderr);
      assert.match(r.stderr, /--listen 0\.0\.0\.0:\d+/);
      assert.match(r.stderr, /--api-token-file/);
      assert.match(r.stderr, /--allow-unauthenticated/);
      assert.ok(!r.stderr.includes("captcha-worker started"));
    }
  });

  test("safe by default: --allow-unauthenticated (or its variable), a token file or a client keys file lets it serve on 0.0.0.0, the credential then guarding the task API", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cw-token-"));
    writeFileSync(join(dir, "token"), "a-token-long-enough-0123456789\n");
    writeFileSync(join(dir, "clients"), "shop client-key-long-enough-0123456789\n");
    try {
      for (const [args, env] of [
        [["--allow-unauthenticated"], {}],
        [[], { CAPTCHA_WORKER_ALLOW_UNAUTHENTICATED: "true" }],
        [["--api-token-file", join(dir, "token")], {}],
        [["--client-keys-file", join(dir, "clients")], {}],
      ] as [string[], Record<string, string>][]) {
        const child = spawnCli(["run", "--listen", "0.0.0.0:0", "--upstream", "http://127.0.0.1:9", ...args], { CAPTCHAAI_API_KEY: KEY, ...env });
        const { listen } = await waitForStart(child);
        const port = listen.split(":").at(-1);
        assert.equal((await fetch(`http://127.0.0.1:${port}/health/live`)).status, 200, "probes stay open");
        const task = await fetch(`http://127.0.0.1:${port}/v1/tasks/nope`);
        const guarded = args[0] === "--api-token-file" || args[0] === "--client-keys-file";
        assert.equal(task.status, guarded ? 401 : 404, args.join(" "));
        child.kill("SIGTERM");
        const [code] = await once(child, "exit");
        assert.equal(code, 0);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
