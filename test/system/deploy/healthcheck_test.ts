/**
 * The image's HEALTHCHECK as Docker runs it: `probe live` with the image's environment (the
 * Dockerfile's ENV lines) and no arguments, against the built executable started with a --listen
 * the probe cannot know (port 0). It must find the worker through the address file, and fail, not
 * pass, once the worker is gone and only a stale file is left.
 */
import assert from "node:assert/strict";
import { execFile, spawnSync, type ChildProcess } from "node:child_process";
import { createServer } from "node:http";
import { once } from "node:events";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { BUILT_BIN, ROOT, builtBinaryAvailable, spawnCli, waitForStart } from "../../_support/cli.ts";
import { requireOrSkip } from "../../_support/programs.ts";
import { tempDir } from "../../_support/temp_dirs.ts";

const BUILD_HINT = "dist/captcha-worker is not built: npm run build (npm test builds it first)";

/** The Dockerfile's ENV lines, with the image's paths moved into `dir` (no /run/secrets here). */
function imageEnv(dir: string): Record<string, string> {
  const text = readFileSync(join(ROOT, "deploy/docker/Dockerfile"), "utf8");
  const env = Object.fromEntries([...text.matchAll(/^ENV\s+(\w+)=(\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
  assert.equal(env.CAPTCHA_WORKER_ADDRESS_FILE, "/tmp/captcha-worker.address");
  assert.equal(env.CAPTCHA_WORKER_STATE_DIR, "/var/lib/captcha-worker");
  writeFileSync(join(dir, "api-token"), "t".repeat(32));
  return {
    ...env,
    CAPTCHA_WORKER_ADDRESS_FILE: join(dir, "captcha-worker.address"),
    CAPTCHA_WORKER_STATE_DIR: join(dir, "state"),
    CAPTCHA_WORKER_API_TOKEN_FILE: join(dir, "api-token"),
  };
}

/** The HEALTHCHECK's command: `probe live` and nothing else, in the image's environment. */
function healthcheck(env: Record<string, string>): { code: number | null; out: string } {
  const r = spawnSync(BUILT_BIN, ["probe", "live"], { env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env }, encoding: "utf8", timeout: 10_000 });
  if (r.error) throw r.error;
  return { code: r.status, out: r.stdout + r.stderr };
}

/** healthcheck without blocking this process, for when the port's answer comes from a server in it. */
function healthcheckAsync(env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    execFile(BUILT_BIN, ["probe", "live"], { env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env }, encoding: "utf8", timeout: 10_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: unknown }).code as number | null) : 0, out: stdout + stderr });
    });
  });
}

async function startWorker(env: Record<string, string>): Promise<{ child: ChildProcess; listen: string }> {
  // As `docker run IMAGE run --demo --listen ...`: the address given as an argument, not in the environment.
  const child = spawnCli(["run", "--demo", "--listen", "127.0.0.1:0"], env, BUILT_BIN);
  const { listen } = await waitForStart(child);
  return { child, listen };
}

describe("deploy/docker HEALTHCHECK: probe finds the worker however its address was given", () => {
  test("a worker on a port only its arguments name is found by the recorded address; a clean stop removes the file", async (t) => {
    if (!requireOrSkip(t, builtBinaryAvailable(), BUILD_HINT)) return;
    const env = imageEnv(tempDir("cw-healthcheck-"));
    const { child, listen } = await startWorker(env);
    t.after(() => child.kill("SIGKILL"));
    assert.notEqual(listen.split(":").at(-1), "8080");
    assert.equal(readFileSync(env.CAPTCHA_WORKER_ADDRESS_FILE!, "utf8"), `${listen}\n`);

    const r = healthcheck(env);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, new RegExp(`^ok: GET http://${listen.replaceAll(".", "\\.")}/health/live answered 200`));

    child.kill("SIGTERM");
    const [code] = await once(child, "exit");
    assert.equal(code, 0);
    assert.equal(existsSync(env.CAPTCHA_WORKER_ADDRESS_FILE!), false, "removed at a clean exit");
    // Back to CAPTCHA_WORKER_LISTEN, where nothing of ours listens: a failure, not a pass.
    const after = healthcheck({ ...env, CAPTCHA_WORKER_LISTEN: listen });
    assert.equal(after.code, 1, after.out);
    assert.match(after.out, new RegExp(`^fail: GET http://${listen.replaceAll(".", "\\.")}/health/live`));
  });

  test("the stale file of a killed worker makes the probe fail honestly, naming the dead address", async (t) => {
    if (!requireOrSkip(t, builtBinaryAvailable(), BUILD_HINT)) return;
    const env = imageEnv(tempDir("cw-healthcheck-"));
    const { child, listen } = await startWorker(env);
    child.kill("SIGKILL");
    await once(child, "exit");
    assert.equal(readFileSync(env.CAPTCHA_WORKER_ADDRESS_FILE!, "utf8"), `${listen}\n`, "kill -9 leaves the file");

    const r = healthcheck(env);
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, new RegExp(`^fail: GET http://${listen.replaceAll(".", "\\.")}/health/live: .*ECONNREFUSED`));

    // Something else takes the port (any server answering 200): it does not pass for the worker.
    const port = Number(listen.slice(listen.lastIndexOf(":") + 1));
    const other = createServer((_req, res) => void res.end("OK"));
    await new Promise<void>((r) => other.listen(port, "127.0.0.1", r));
    try {
      const taken = await healthcheckAsync(env);
      assert.equal(taken.code, 1, taken.out);
      assert.match(taken.out, /answered 200 .*but not as a captcha-worker: the address file .* \(--address-file\) may be left from a stopped worker/);
    } finally {
      await new Promise((r) => other.close(r));
    }

    // A garbled file is not guessed around either.
    writeFileSync(env.CAPTCHA_WORKER_ADDRESS_FILE!, "not an address\n");
    const garbled = healthcheck(env);
    assert.equal(garbled.code, 1, garbled.out);
    assert.match(garbled.out, /--address-file/);
  });
});
