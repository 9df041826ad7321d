// Key files changed on disk without a signal, as the kubelet updates a mounted Secret 
// (docs/configuration.md, The CaptchaAI key; deploy/kubernetes): the files are symlinks through `..data` into a timestamped
// directory, and an update writes a new directory and swaps `..data` in one rename. A real process
// takes the new CaptchaAI key, client keys and providers file keys with no SIGHUP, and no key
// reaches its log.
import assert from "node:assert/strict";
import { mkdirSync, renameSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { startSimulator, type Simulator } from "../../src/sim/simulator.ts";
import { pollUntil } from "../_support/net.ts";
import { tempDir } from "../_support/temp_dirs.ts";
import { spawnWorker, whenReady } from "../_support/worker_child.ts";

const OLD = "old-captchaai-key-revoked-k8s-01";
const NEW = "new-captchaai-key-current-k8s-02";
const ALPHA = "alpha-client-key-k8s-0123456789";
const BRAVO = "bravo-client-key-k8s-0123456789";

let sim: Simulator;
before(async () => {
  sim = await startSimulator({ host: "127.0.0.1", port: 0 }, { keys: [NEW], solveTimeMs: { image: 0, token: 0 } });
});
after(() => sim.close());

/**
 * A Secret volume as the kubelet's atomic writer lays it out: `name -> ..data/name`, `..data -> ..<version>`.
 * Each call writes a new version and swaps `..data` by a rename; the files' own paths never change.
 */
function projectSecret(dir: string, files: Record<string, string>, version: number): void {
  const versionDir = `..v${version}`;
  mkdirSync(join(dir, versionDir), { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, versionDir, name), text);
  symlinkSync(versionDir, join(dir, "..data_tmp"));
  renameSync(join(dir, "..data_tmp"), join(dir, "..data"));
  if (version === 1) for (const name of Object.keys(files)) symlinkSync(join("..data", name), join(dir, name));
}

const balance = async (base: string, key: string) => (await fetch(`${base}/res.php?key=${key}&action=getbalance`)).text();

describe("key files changed on disk (a Secret updated in place)", () => {
  test("the CaptchaAI key and the client keys of updated Secrets are used within seconds, with no signal and no key in the log", async () => {
    const captchaai = tempDir("cw-secret-captchaai-");
    const gateway = tempDir("cw-secret-gateway-");
    projectSecret(captchaai, { "api-key": `${OLD}\n` }, 1);
    projectSecret(gateway, { clients: `alpha ${ALPHA}\n` }, 1);
    const w = spawnWorker(
      ["run", "--listen", "127.0.0.1:0", "--upstream", sim.url.href, "--api-key-file", join(captchaai, "api-key"), "--client-keys-file", join(gateway, "clients")],
      {},
    );
    const start = await pollUntil("the start line", async () => {
      const line = w.lines.find((l) => l.includes("captcha-worker started"));
      return line === undefined ? undefined : `http://${JSON.parse(line).listen}`;
    }, { timeoutMs: 15_000, intervalMs: 25 });
    const issues = async () => ((await (await fetch(`${start}/health/ready`)).json()) as { issues: string[] }).issues;
    await pollUntil("the refused key", async () => (await issues()).some((i) => i.startsWith("upstream_auth=")), { timeoutMs: 15_000, intervalMs: 50 });
    assert.notEqual(await balance(start, ALPHA), "ERROR_KEY_DOES_NOT_EXIST", "the gateway knows alpha");
    assert.equal(await balance(start, BRAVO), "ERROR_KEY_DOES_NOT_EXIST");

    projectSecret(captchaai, { "api-key": `${NEW}\n` }, 2);
    projectSecret(gateway, { clients: `bravo ${BRAVO}\n` }, 2);
    sim.control.reset(); // the simulator's ban of an address sending bad keys lifted: what is tested is the reload
    await pollUntil("ready with the new key, no SIGHUP", async () => (await fetch(`${start}/health/ready`)).status === 200, { timeoutMs: 15_000, intervalMs: 50 });
    await pollUntil("the new client key taken", async () => (await balance(start, BRAVO)) === "10", { timeoutMs: 10_000, intervalMs: 50 });
    assert.equal(await balance(start, ALPHA), "ERROR_KEY_DOES_NOT_EXIST", "the old client key is gone");
    assert.ok(w.lines.some((l) => l.includes("a key file changed")), "the reload says why");
    const log = w.lines.join("\n");
    for (const secret of [OLD, NEW, ALPHA, BRAVO]) assert.ok(!log.includes(secret), "no key in the log");
    w.child.kill("SIGTERM");
    assert.equal(await w.exited, 0);
  });

  test("a providers file's key file updated on disk is re-read with no signal: the provider takes its new key", async () => {
    const dir = tempDir("cw-secret-providers-");
    const providers = (text: string) => ({ providers: `captchaai legacy ${sim.url.href} key-file=captchaai.key threads=2\n`, "captchaai.key": text });
    projectSecret(dir, providers(`${OLD}\n`), 1);
    const w = spawnWorker(["run", "--listen", "127.0.0.1:0", "--providers-file", join(dir, "providers")], {});
    const start = await pollUntil("the start line", async () => {
      const line = w.lines.find((l) => l.includes("captcha-worker started"));
      return line === undefined ? undefined : `http://${JSON.parse(line).listen}`;
    }, { timeoutMs: 15_000, intervalMs: 25 });
    await pollUntil("not ready on the old key", async () => (await fetch(`${start}/health/ready`)).status === 503 && w.lines.some((l) => l.includes("ERROR_KEY_DOES_NOT_EXIST") || l.includes("IP_BANNED") || l.includes("upstream_auth")), { timeoutMs: 15_000, intervalMs: 50 });
    projectSecret(dir, providers(`${NEW}\n`), 2);
    sim.control.reset();
    await pollUntil("the provider updated", () => w.lines.some((l) => l.includes("reload: provider updated") && l.includes("key-file")), { timeoutMs: 10_000, intervalMs: 25 });
    await whenReady(w, start.slice("http://".length));
    const log = w.lines.join("\n");
    assert.ok(!log.includes(OLD) && !log.includes(NEW), "no key in the log");
    w.child.kill("SIGTERM");
    assert.equal(await w.exited, 0);
  });
});
