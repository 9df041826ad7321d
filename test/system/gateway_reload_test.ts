// The gateway's keys file reloaded in a real process: SIGHUP (never Node's default exit), and a
// changed modification time without a signal (Kubernetes updates mounted Secrets so).
import assert from "node:assert/strict";
import { renameSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { startSimulator, type Simulator } from "../../src/sim/simulator.ts";
import { pollUntil } from "../_support/net.ts";
import { tempDir } from "../_support/temp_dirs.ts";
import { spawnWorker, whenReady } from "../_support/worker_child.ts";

const KEY = "reload-test-captchaai-key-012301";
const ALPHA = "alpha-client-key-0123456789";
const BRAVO = "bravo-client-key-0123456789";

let sim: Simulator;
before(async () => {
  sim = await startSimulator({ host: "127.0.0.1", port: 0 }, { keys: [KEY], solveTimeMs: { image: 0, token: 0 } });
});
after(() => sim.close());

const balance = async (base: string, key: string) => (await fetch(`${base}/res.php?key=${key}&action=getbalance`)).text();

describe("gateway keys reload", () => {
  test("SIGHUP re-reads --client-keys-file and the process keeps running; a worker without the file survives SIGHUP too", async () => {
    const file = join(tempDir("cw-keys-"), "clients");
    writeFileSync(file, `alpha ${ALPHA}\n`);
    const w = spawnWorker(["run", "--listen", "127.0.0.1:0", "--upstream", sim.url.href, "--client-keys-file", file], { CAPTCHAAI_API_KEY: KEY });
    const base = await whenReady(w);
    assert.equal(await balance(base, ALPHA), "10");
    assert.equal(await balance(base, BRAVO), "ERROR_KEY_DOES_NOT_EXIST");
    const { atime, mtime } = statSync(file);
    writeFileSync(file, `bravo ${BRAVO}\n`);
    utimesSync(file, atime, mtime); // the same modification time: only the signal can tell
    w.child.kill("SIGHUP");
    await pollUntil("bravo's key", async () => (await balance(base, BRAVO)) === "10", { timeoutMs: 10_000, intervalMs: 25 });
    assert.equal(await balance(base, ALPHA), "ERROR_KEY_DOES_NOT_EXIST");
    assert.ok(w.lines.some((l) => l.includes("client keys loaded")));
    assert.ok(!w.lines.join("\n").includes(BRAVO) && !w.lines.join("\n").includes(ALPHA), "keys never logged");
    w.child.kill("SIGTERM");
    assert.equal(await w.exited, 0);

    const plain = spawnWorker(["run", "--listen", "127.0.0.1:0", "--upstream", sim.url.href], { CAPTCHAAI_API_KEY: KEY });
    const plainBase = await whenReady(plain);
    plain.child.kill("SIGHUP");
    await pollUntil("the reload line", async () => plain.lines.some((l) => l.includes("nothing to re-read")), { timeoutMs: 10_000, intervalMs: 25 });
    assert.equal((await fetch(`${plainBase}/health/live`)).status, 200);
    plain.child.kill("SIGTERM");
    assert.equal(await plain.exited, 0);
  });

  test("a keys file whose modification time changes is re-read without a signal", async () => {
    const file = join(tempDir("cw-keys-"), "clients");
    writeFileSync(file, `alpha ${ALPHA}\n`);
    const w = spawnWorker(["run", "--listen", "127.0.0.1:0", "--upstream", sim.url.href, "--client-keys-file", file], { CAPTCHAAI_API_KEY: KEY });
    const base = await whenReady(w);
    writeFileSync(file, `alpha ${ALPHA}\nbravo ${BRAVO} max_in_flight=2\n`);
    const later = new Date(statSync(file).mtimeMs + 5000);
    utimesSync(file, later, later);
    await pollUntil("bravo's key", async () => (await balance(base, BRAVO)) === "10", { timeoutMs: 10_000, intervalMs: 50 });
    w.child.kill("SIGTERM");
    assert.equal(await w.exited, 0);
  });

  test("a keys file replaced by one of the same modification time (cp -p, rsync -a) is re-read too: its inode and size changed", async (t) => {
    const dir = tempDir("cw-keys-");
    const file = join(dir, "clients");
    const second = Math.floor(Date.now() / 1000) - 60; // a whole second: both files get exactly this time
    writeFileSync(file, `alpha ${ALPHA}\n`);
    utimesSync(file, second, second);
    const w = spawnWorker(["run", "--listen", "127.0.0.1:0", "--upstream", sim.url.href, "--client-keys-file", file], { CAPTCHAAI_API_KEY: KEY });
    t.after(() => w.child.kill("SIGKILL"));
    const base = await whenReady(w);
    const next = join(dir, "clients.new");
    writeFileSync(next, `alpha ${ALPHA}\nbravo ${BRAVO}\n`);
    utimesSync(next, second, second);
    renameSync(next, file);
    assert.equal(statSync(file).mtimeMs, second * 1000);
    await pollUntil("bravo's key", async () => (await balance(base, BRAVO)) === "10", { timeoutMs: 10_000, intervalMs: 50 });
    w.child.kill("SIGTERM");
    assert.equal(await w.exited, 0);
  });

  test("an unreadable or malformed keys file exits 78 at start, naming the flag and the line, never the key", async () => {
    const file = join(tempDir("cw-keys-"), "clients");
    writeFileSync(file, `alpha ${ALPHA}\nbroken-line\n`);
    const w = spawnWorker(["run", "--listen", "127.0.0.1:0", "--upstream", sim.url.href, "--client-keys-file", file], { CAPTCHAAI_API_KEY: KEY });
    assert.equal(await w.exited, 78);
    const text = w.lines.join("\n");
    assert.match(text, /--client-keys-file line 2/);
    assert.ok(!text.includes(ALPHA));
  });
});

describe("gateway in the demo", () => {
  test("run --demo prints a fresh demo client key with ready-to-run snippets, and the printed curl solves through the gateway", async () => {
    const w = spawnWorker(["run", "--demo", "--listen", "127.0.0.1:0"], {});
    let out = "";
    w.child.stdout!.on("data", (c: Buffer) => void (out += c.toString()));
    const base = await whenReady(w);
    await pollUntil("the banner", () => out.includes("Stop with Ctrl-C"), { timeoutMs: 10_000, intervalMs: 25 });
    const key = /demo client key (demo-[0-9a-f]{24})/.exec(out)?.[1];
    assert.ok(key, out);
    const submit = /curl (?:-s )?"([^"]*\/in\.php[^"]*)"/.exec(out)![1]!;
    const answer = (await (await fetch(submit)).json()) as { status: number; request: string };
    assert.equal(answer.status, 1);
    const text = await pollUntil("the answer", async () => {
      const r = await (await fetch(`${base}/res.php?key=${key}&action=get&id=${answer.request}`)).text();
      return r.startsWith("OK|") ? r : undefined;
    }, { timeoutMs: 20_000, intervalMs: 100 });
    assert.match(text, /^OK\|/);
    assert.equal((await fetch(`${base}/v1/tasks/${answer.request}`)).status, 200, "the demo's task API stays open");
    w.child.kill("SIGTERM");
    assert.equal(await w.exited, 0);
  });
});
