// The CaptchaAI key re-read from its file on SIGHUP by a real process: a key fixed in the file is
// used at once (readiness follows within a trial or two), neither key ever reaches the log, and a
// file that cannot be read keeps the key in use.
import assert from "node:assert/strict";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { startSimulator, type Simulator } from "../../src/sim/simulator.ts";
import { pollUntil } from "../_support/net.ts";
import { tempDir } from "../_support/temp_dirs.ts";
import { spawnWorker } from "../_support/worker_child.ts";

const OLD = "old-captchaai-key-revoked-012345";
const NEW = "new-captchaai-key-current-654321";

let sim: Simulator;
before(async () => {
  sim = await startSimulator({ host: "127.0.0.1", port: 0 }, { keys: [NEW], solveTimeMs: { image: 0, token: 0 } });
});
after(() => sim.close());

describe("CaptchaAI key reload", () => {
  test("SIGHUP re-reads --api-key-file: the upstream takes the new key, readiness recovers, no key in the log; an unreadable file keeps the key", async () => {
    const dir = tempDir("cw-key-");
    const file = join(dir, "captchaai-key");
    writeFileSync(file, `${OLD}\n`);
    const w = spawnWorker(["run", "--listen", "127.0.0.1:0", "--upstream", sim.url.href, "--api-key-file", file], {});
    const base = await pollUntil("the start line", async () => {
      const line = w.lines.find((l) => l.includes("captcha-worker started"));
      return line === undefined ? undefined : `http://${JSON.parse(line).listen}`;
    }, { timeoutMs: 15_000, intervalMs: 25 });
    const issues = async () => ((await (await fetch(`${base}/health/ready`)).json()) as { issues: string[] }).issues;
    // A key the simulator does not know: ERROR_KEY_DOES_NOT_EXIST. As CaptchaAI, it bans the address
    // after 5 bad keys in a minute (IP_BANNED for 5 minutes); the worker's re-checks stay under that.
    await pollUntil("the refused key", async () => (await issues()).some((i) => i === "upstream_auth=ERROR_KEY_DOES_NOT_EXIST"), { timeoutMs: 15_000, intervalMs: 50 });
    // No ban lifted by hand: the reload's new key is answered (the re-checks' schedule: recovery_trials_test).
    writeFileSync(file, `${NEW}\n`);

    w.child.kill("SIGHUP");
    await pollUntil("ready with the new key", async () => (await fetch(`${base}/health/ready`)).status === 200, { timeoutMs: 15_000, intervalMs: 50 });
    assert.ok(w.lines.some((l) => l.includes("the CaptchaAI key was re-read")));
    rmSync(file);
    w.child.kill("SIGHUP");
    await pollUntil("the refusal to re-read", async () => w.lines.some((l) => l.includes("could not be re-read")), { timeoutMs: 10_000, intervalMs: 25 });
    assert.equal((await fetch(`${base}/health/ready`)).status, 200, "the key in use stays");
    const log = w.lines.join("\n");
    assert.ok(!log.includes(OLD) && !log.includes(NEW), "neither key in the log");
    w.child.kill("SIGTERM");
    assert.equal(await w.exited, 0);
  });
});
