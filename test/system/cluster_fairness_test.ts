// Fair shares across the cluster (docs/cluster.md), with three workers as real processes sharing
// one simulated account: one client holds 64 long-polls through node 2 for tasks node 1 owns and
// eight more clients hold 8 each (72 waits forwarded at once, more than the 64 sockets one pool to a
// peer used to have); another client's read of its own node-1 task through node 2 is still answered
// within its bound (its wait + 5 s), and the first client's waits past its cap are answered 429 with
// Retry-After at once instead of holding sockets.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { MAX_FORWARDED_WAITS } from "../../src/cluster/peer_router.ts";
import { startSimulator } from "../../src/sim/simulator.ts";
import { freePort, pollUntil } from "../_support/net.ts";
import { kill9, spawnWorker, whenReady } from "../_support/worker_child.ts";
import { pngOfSize } from "../_support/images.ts";

const KEY = "fairness-test-key-5b2d00c0ffee01";
const PEER_TOKEN = "fairness-peer-token-0123456789abcdef";
const PNG = pngOfSize(200, 3).toString("base64");
const NODES = [1, 2, 3];
const CLIENTS = ["alpha", "bravo", ...Array.from({ length: 8 }, (_, i) => `c${i + 1}`)];
const keyOf = (name: string) => `${name}-key-0123456789abcdef`;
const auth = (name: string) => ({ authorization: `Bearer ${keyOf(name)}`, "content-type": "application/json" });

interface Poll {
  status: number | undefined;
  retryAfter: string | null;
}

describe("one client's long-polls across the cluster", () => {
  test("64 waits by one client and 64 by eight others through node 2: another client's read of a node-1 task answers within its bound; the first client's waits past its cap get 429 at once", async (t) => {
    const dir = mkdtempSync(join(tmpdir(), "cw-fair-"));
    // Solves take longer than the test: every wait runs to its end unless it is cut.
    const sim = await startSimulator({ host: "127.0.0.1", port: 0 }, { keys: [KEY], solveTimeMs: { image: 600_000, token: 600_000 }, threads: 1000, seed: 5 });
    const polls = new AbortController();
    t.after(async () => {
      polls.abort();
      await sim.close();
      rmSync(dir, { recursive: true, force: true });
    });
    writeFileSync(join(dir, "clients"), CLIENTS.map((c) => `${c} ${keyOf(c)}\n`).join(""));
    writeFileSync(join(dir, "peer-token"), PEER_TOKEN + "\n");
    const ports = await Promise.all(NODES.map(() => freePort()));
    const peers = NODES.map((n, i) => `${n}=http://127.0.0.1:${ports[i]}`).join(",");
    const workers = NODES.map((node, i) => spawnWorker([
      "run", "--listen", `127.0.0.1:${ports[i]}`, "--upstream", sim.url.href, "--node-id", String(node), "--peers", peers,
      "--peer-token-file", join(dir, "peer-token"), "--client-keys-file", join(dir, "clients"), "--threads", "200",
      "--queue-max", "1000", "--task-timeout", "900s", "--log-level", "warn",
    ], { CAPTCHAAI_API_KEY: KEY }));
    t.after(() => Promise.all(workers.map((w) => kill9(w))));
    await Promise.all(workers.map((w, i) => whenReady(w, `127.0.0.1:${ports[i]}`)));
    const [owner, via] = [`http://127.0.0.1:${ports[0]}`, `http://127.0.0.1:${ports[1]}`];

    const post = async (client: string) => {
      const r = await fetch(`${owner}/v1/tasks`, { method: "POST", headers: auth(client), body: JSON.stringify({ type: "image", image: PNG }) });
      assert.equal(r.status, 202);
      return ((await r.json()) as { id: string }).id;
    };
    const tasks = new Map<string, string[]>();
    for (const c of CLIENTS) tasks.set(c, await Promise.all(Array.from({ length: c === "bravo" ? 1 : c === "alpha" ? 64 : 8 }, () => post(c))));

    const answered: Poll[] = [];
    const longPoll = (client: string, id: string) => {
      const p: Poll = { status: undefined, retryAfter: null };
      void fetch(`${via}/v1/tasks/${id}?wait=60`, { headers: auth(client), signal: polls.signal }).then(async (r) => {
        await r.body?.cancel();
        Object.assign(p, { status: r.status, retryAfter: r.headers.get("retry-after") });
        answered.push(p);
      }, () => {});
      return p;
    };
    const alpha = tasks.get("alpha")!.map((id) => longPoll("alpha", id));
    for (const c of CLIENTS.slice(2)) for (const id of tasks.get(c)!) longPoll(c, id);
    // The polls past alpha's cap are answered at once; the others wait (node 2 counts them).
    await pollUntil("alpha's polls past its cap answered", () => answered.length, { until: (n) => n >= 64 - MAX_FORWARDED_WAITS, timeoutMs: 15_000 });
    const waiting = async () => Number(/^captcha_worker_peer_waits (\d+)$/m.exec(await (await fetch(`${via}/metrics`)).text())?.[1]);
    await pollUntil("72 waits forwarded", waiting, { until: (n) => n === MAX_FORWARDED_WAITS + 64, timeoutMs: 15_000 });

    const read = async (base: string, query = "") => {
      const started = performance.now();
      const r = await fetch(`${base}/v1/tasks/${tasks.get("bravo")![0]}${query}`, { headers: auth("bravo") });
      const body = (await r.json()) as { status: string };
      return { status: r.status, task: body.status, ms: performance.now() - started };
    };
    const direct = await read(owner);
    const through = await read(via);
    const waited = await read(via, "?wait=1");
    t.diagnostic(`bravo's read: ${direct.ms.toFixed(1)} ms at the owner, ${through.ms.toFixed(1)} ms through node 2, ${waited.ms.toFixed(1)} ms with wait=1 through node 2, while ${await waiting()} waits are forwarded`);
    assert.deepEqual([direct.status, through.status, waited.status], [200, 200, 200]);
    assert.equal(through.task, direct.task);
    assert.ok(through.ms < 5000, `a read without a wait within its 5 s bound (${through.ms} ms)`);
    assert.ok(waited.ms >= 1000 && waited.ms < 6000, `a read with wait=1 within its 6 s bound (${waited.ms} ms)`);

    const refused = alpha.filter((p) => p.status !== undefined);
    assert.equal(refused.length, 64 - MAX_FORWARDED_WAITS);
    for (const p of refused) assert.deepEqual(p, { status: 429, retryAfter: "1" });
    const metrics = await (await fetch(`${via}/metrics`)).text();
    assert.match(metrics, new RegExp(`^captcha_worker_peer_requests_total\\{outcome="busy"\\} ${64 - MAX_FORWARDED_WAITS}$`, "m"));
  });
});
