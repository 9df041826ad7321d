import assert from "node:assert/strict";
import { once } from "node:events";
import { json } from "../_support/http.ts";
import { describe, test } from "node:test";
import { collectOutput, runCli, spawnCli, waitForStart } from "../_support/cli.ts";

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

  test("a port already in use is a runtime failure, exit 1", async () => {
    const first = spawnCli(["--listen", "127.0.0.1:0"], { CAPTCHAAI_API_KEY: KEY });
    const { listen } = await waitForStart(first);
    const second = await runCli(["--listen", listen], { CAPTCHAAI_API_KEY: KEY });
    assert.equal(second.code, 1);
    assert.match(second.stderr, /EADDRINUSE/);
    first.kill("SIGTERM");
    await once(first, "exit");
  });
});
