// Gateway callbacks across kill -9 (docs/gateway.md: Callbacks): the worker runs as
// a child process on a state dir; its tasks' callbacks are owed at the crash (a receiver answering
// 503, waiting for the retry, and one holding the attempt open), and after the restart every one is
// delivered, each with the attempts it had left, and the journal says each settled.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { MAX_ATTEMPTS } from "../../src/gateway/callbacks.ts";
import { startSimulator } from "../../src/sim/simulator.ts";
import { pollUntil } from "../_support/net.ts";
import { journalLines } from "../_support/temp_dirs.ts";
import { kill9, spawnWorker, whenReady, type WorkerChild } from "../_support/worker_child.ts";
import { pngOfSize } from "../_support/images.ts";

const KEY = "callbacks-crash-key-0123456789ab";
const CLIENT = "callbacks-client-key-0123456789abcdef";
const PNG = pngOfSize(150, 5).toString("base64");

describe("callbacks and kill -9", () => {
  test("callbacks owed at a kill -9 (a receiver answering 503, one holding the attempt) are all delivered after the restart, none past its attempts", async (t) => {
    const dir = mkdtempSync(join(tmpdir(), "cw-callbacks-"));
    const sim = await startSimulator({ host: "127.0.0.1", port: 0 }, { keys: [KEY], solveTimeMs: { image: 200, token: 200 }, seed: 4 });
    // Before the kill: /fail answers 503, /hang never answers. After it, every path answers 200.
    let recovered = false;
    const attempts = new Map<string, number>();
    const delivered = new Set<string>();
    const hanging: ServerResponse[] = [];
    const receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const body = Buffer.concat(chunks).toString();
        const id = req.headers["content-type"] === "application/json" ? String((JSON.parse(body) as { taskId: number }).taskId) : new URLSearchParams(body).get("id")!;
        attempts.set(id, (attempts.get(id) ?? 0) + 1);
        if (recovered) {
          delivered.add(id);
          res.end();
        } else if (req.url === "/hang") hanging.push(res);
        else res.writeHead(503).end();
      });
    });
    await new Promise<void>((ok) => receiver.listen(0, "127.0.0.1", ok));
    const hook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
    let worker: WorkerChild | undefined;
    t.after(async () => {
      if (worker) await kill9(worker);
      receiver.closeAllConnections();
      receiver.close();
      await sim.close();
      rmSync(dir, { recursive: true, force: true });
    });
    writeFileSync(join(dir, "clients"), `app ${CLIENT}\n`);
    const state = join(dir, "state");
    const start = async () => {
      const w = spawnWorker([
        "run", "--listen", "127.0.0.1:0", "--upstream", sim.url.href, "--state-dir", state, "--client-keys-file", join(dir, "clients"),
        "--callback-allow", "127.0.0.1", "--first-poll", "300ms", "--poll-interval", "100ms", "--balance-ttl", "60s",
      ], { CAPTCHAAI_API_KEY: KEY });
      return { w, base: await whenReady(w) };
    };

    let base: string;
    ({ w: worker, base } = await start());
    const ids: string[] = [];
    for (const path of ["/fail", "/fail", "/fail", "/hang", "/hang"]) {
      const text = await (await fetch(`${base}/in.php`, { method: "POST", body: new URLSearchParams({ key: CLIENT, method: "base64", body: PNG, pingback: hook + path }) })).text();
      assert.match(text, /^OK\|\d+$/);
      ids.push(text.slice(3));
    }
    for (let i = 0; i < 2; i++) {
      const created = (await (await fetch(`${base}/createTask`, { method: "POST", body: JSON.stringify({ clientKey: CLIENT, task: { type: "ImageToTextTask", body: PNG }, callbackUrl: `${hook}/fail` }) })).json()) as { taskId: number };
      ids.push(String(created.taskId));
    }
    // Each first attempt made (journaled before it was sent): owed at the kill.
    await pollUntil("every first attempt", () => ids.every((id) => attempts.get(id) === 1), { timeoutMs: 20_000, intervalMs: 25 });
    await kill9(worker);
    worker = undefined;
    for (const res of hanging) res.destroy();
    recovered = true;

    ({ w: worker } = await start());
    await pollUntil("every callback delivered after the restart", () => ids.every((id) => delivered.has(id)), { timeoutMs: 20_000, intervalMs: 25 });
    for (const id of ids) assert.equal(attempts.get(id), 2, `task ${id}: one attempt before the crash, one after`);
    assert.ok(Math.max(...attempts.values()) <= MAX_ATTEMPTS);
    // The journal says each settled, so a later start owes nothing.
    await pollUntil("every callback settled in the journal", () => {
      const settled = new Set(journalLines(state).filter((r) => r.op === "callback_settled" && r.outcome === "delivered").map((r) => r.id));
      return ids.every((id) => settled.has(id));
    }, { timeoutMs: 10_000, intervalMs: 25 });
  });
});
