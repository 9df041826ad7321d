// Two workers as one cluster (docs/cluster.md), in-process on one fake clock and one simulator: reads of a
// peer's task answered through either node, the owner down (503 + Retry-After, then the final
// answer past the deadline), an unknown node, and the peer token checked before any task is read.
import assert from "node:assert/strict";
import { createServer, type IncomingMessage } from "node:http";
import { describe, test } from "node:test";
import { createLogger } from "../../src/base/log.ts";
import { parseConfig } from "../../src/config/parse_config.ts";
import { startSimulator, type Simulator } from "../../src/sim/simulator.ts";
import { startWorker, type Worker } from "../../src/app/start.ts";
import { FORWARDED_HEADER, MAX_FORWARDED_WAITS, NODE_HEADER, PEER_TOKEN_HEADER } from "../../src/cluster/peer_router.ts";
import { FakeClock } from "../_support/fake_clock.ts";
import { CLIENT_KEY, keysFile, OTHER_KEY, PNG } from "../_support/gateway.ts";
import { advance, eventually, SIM_KEY } from "../_support/harness.ts";
import { freePort } from "../_support/net.ts";
import { testProcess } from "../_support/process_stats.ts";

const PEER_TOKEN = "peer-token-0123456789abcdef";

interface Cluster {
  /** Requests node 5 (a server that never answers) has received. */
  held: IncomingMessage[];
  /** Each worker's warning and error lines. */
  logs: string[][];
  clock: FakeClock;
  sim: Simulator;
  workers: Worker[];
  bases: string[];
  close(): Promise<void>;
}

/**
 * Nodes 1 and 2 with each other as peers, and node 5: a server that takes requests and never
 * answers. `misdirected`: node 2's --peers names node 1's address for node 5 (a wrong map).
 */
async function startCluster(misdirected = false): Promise<Cluster> {
  const clock = new FakeClock();
  const logs: string[][] = [[], []];
  const sim = await startSimulator({ host: "127.0.0.1", port: 0 }, { keys: [SIM_KEY], clock, seed: 3, solveTimeMs: { image: 500, token: 500 } });
  const ports = [await freePort(), await freePort(), await freePort()];
  const peers = `1=http://127.0.0.1:${ports[0]},2=http://127.0.0.1:${ports[1]},5=http://127.0.0.1:${ports[2]}`;
  const keys = keysFile();
  const held: IncomingMessage[] = [];
  const silent = createServer((req) => void held.push(req)).listen(ports[2], "127.0.0.1");
  const workers: Worker[] = [];
  for (const [i, node] of [1, 2].entries()) {
    const log = createLogger({ level: "warn", write: (l) => void logs[i]!.push(l) });
    const map = misdirected && node === 2 ? peers.replace(`5=http://127.0.0.1:${ports[2]}`, `5=http://127.0.0.1:${ports[0]}`) : peers;
    const flags = { listen: `127.0.0.1:${ports[i]}`, "node-id": String(node), peers: map, "client-keys-file": keys, "first-poll": "1s", "poll-interval": "1s", "task-timeout": "60s" };
    const { config } = parseConfig(flags, {});
    workers.push(await startWorker({ process: testProcess, config, upstreamUrl: sim.url, apiKey: SIM_KEY, clock, log, apiToken: PEER_TOKEN + "-api", peerToken: PEER_TOKEN, random: () => 0.5 }));
  }
  await eventually(() => workers.every((w) => w.view.phase !== "starting"), "startup");
  return {
    held, logs, clock, sim, workers, bases: ports.slice(0, 2).map((p) => `http://127.0.0.1:${p}`),
    close: async () => {
      for (const w of workers) if (w.state !== "closed") await w.close();
      silent.closeAllConnections();
      silent.close();
      await sim.close();
    },
  };
}

async function withCluster(fn: (c: Cluster) => Promise<void>, misdirected = false): Promise<void> {
  const c = await startCluster(misdirected);
  try {
    await fn(c);
  } finally {
    await c.close();
  }
}

const auth = { authorization: `Bearer ${PEER_TOKEN}-api`, "content-type": "application/json" };
const post = (base: string, path: string, body: unknown, headers: Record<string, string> = auth) =>
  fetch(base + path, { method: "POST", headers, body: JSON.stringify(body) });
const get = (base: string, path: string, headers: Record<string, string> = auth) => fetch(base + path, { headers });

describe("cluster: any node answers for any task", () => {
  test("a task posted on node 1 is read, waited on and reported through node 2; the owner answers and keeps the only copy", () =>
    withCluster(async (c) => {
      const created = (await (await post(c.bases[0]!, "/v1/tasks", { type: "image", image: PNG })).json()) as { id: string };
      assert.equal(Number(created.id) % 1024, 1);
      assert.equal(c.workers[1]!.pool.find(created.id), undefined);
      const pending = await get(c.bases[1]!, `/v1/tasks/${created.id}`);
      assert.equal(pending.status, 200);
      const viaOwner = (await (await get(c.bases[0]!, `/v1/tasks/${created.id}`)).json()) as { id: string; status: string };
      assert.deepEqual((await pending.json()) as unknown, viaOwner);
      // A wait honoured through the peer: the answer comes when the task ends on its owner.
      const waiting = get(c.bases[1]!, `/v1/tasks/${created.id}?wait=30`);
      await advance(c.clock, 3000);
      const solved = await waiting;
      assert.equal(solved.status, 200);
      assert.equal(solved.headers.get("preference-applied"), "wait=30");
      const body = (await solved.json()) as { status: string; solution: string };
      assert.equal(body.status, "solved");
      const report = await post(c.bases[1]!, `/v1/tasks/${created.id}/report`, { correct: false });
      assert.equal(report.status, 200);
      assert.equal(c.workers[0]!.pool.find(created.id)?.reported, "bad");
      assert.equal(c.sim.counts().submitted, 1);
      assert.match(await (await fetch(`${c.bases[1]}/metrics`)).text(), /^captcha_worker_peer_requests_total\{outcome="forwarded"\} 3$/m);
    }));

  test("the gateway's res.php get and v2 getTaskResult of node 1's task answer through node 2, with the client's own key", () =>
    withCluster(async (c) => {
      const legacy = await (await fetch(`${c.bases[0]}/in.php?${new URLSearchParams({ key: CLIENT_KEY, method: "base64", body: PNG })}`)).text();
      const id = legacy.slice(3);
      const created = (await (await post(c.bases[0]!, "/createTask", { clientKey: CLIENT_KEY, task: { type: "ImageToTextTask", body: PNG } }, {})).json()) as { taskId: number };
      assert.equal(await (await fetch(`${c.bases[1]}/res.php?${new URLSearchParams({ key: CLIENT_KEY, action: "get", id })}`)).text(), "CAPCHA_NOT_READY");
      await advance(c.clock, 3000);
      await eventually(() => c.workers[0]!.pool.find(id)?.status === "solved", "solved");
      assert.match(await (await fetch(`${c.bases[1]}/res.php`, { method: "POST", body: new URLSearchParams({ key: CLIENT_KEY, action: "get", id }) })).text(), /^OK\|/);
      const v2 = (await (await post(c.bases[1]!, "/getTaskResult", { clientKey: CLIENT_KEY, taskId: created.taskId }, {})).json()) as { status: string };
      assert.equal(v2.status, "ready");
      // ids= all of node 1's: the owner answers the whole list.
      const many = await (await fetch(`${c.bases[1]}/res.php?${new URLSearchParams({ key: CLIENT_KEY, action: "get", ids: `${id},${created.taskId}` })}`)).text();
      assert.match(many, /^[a-z0-9]+\|[a-z0-9]+$/);
      // Another client's key is refused by the owner as it would be by itself.
      const wrong = await (await fetch(`${c.bases[1]}/res.php?${new URLSearchParams({ key: "nope-not-a-key", action: "get", id })}`)).text();
      assert.equal(wrong, "ERROR_KEY_DOES_NOT_EXIST");
      assert.equal(await (await fetch(`${c.bases[1]}/res.php?${new URLSearchParams({ key: CLIENT_KEY, action: "reportbad", id })}`)).text(), "OK_REPORT_RECORDED");
    }));

  test("owner down: 503 with Retry-After, CAPCHA_NOT_READY and processing until the id's deadline, then owner_unavailable and the unknown-id errors", () =>
    withCluster(async (c) => {
      const created = (await (await post(c.bases[0]!, "/v1/tasks", { type: "image", image: PNG })).json()) as { id: string };
      const gw = (await (await post(c.bases[0]!, "/createTask", { clientKey: CLIENT_KEY, task: { type: "ImageToTextTask", body: PNG } }, {})).json()) as { taskId: number };
      await c.workers[0]!.close();
      const down = await get(c.bases[1]!, `/v1/tasks/${created.id}`);
      assert.equal(down.status, 503);
      assert.ok(Number(down.headers.get("retry-after")) >= 1);
      assert.equal(((await down.json()) as { code: string }).code, "ERR_OWNER_UNAVAILABLE");
      assert.equal((await post(c.bases[1]!, `/v1/tasks/${created.id}/report`, { correct: true })).status, 503);
      assert.equal(await (await fetch(`${c.bases[1]}/res.php?${new URLSearchParams({ key: CLIENT_KEY, action: "get", id: String(gw.taskId) })}`)).text(), "CAPCHA_NOT_READY");
      assert.deepEqual(await (await post(c.bases[1]!, "/getTaskResult", { clientKey: CLIENT_KEY, taskId: gw.taskId }, {})).json(), { errorId: 0, status: "processing" });
      await c.clock.advance(61_000);
      const final = await get(c.bases[1]!, `/v1/tasks/${created.id}`);
      assert.equal(final.status, 200);
      const body = (await final.json()) as { status: string; error: { code: string } };
      assert.equal(body.status, "failed");
      assert.equal(body.error.code, "owner_unavailable");
      assert.equal(await (await fetch(`${c.bases[1]}/res.php?${new URLSearchParams({ key: CLIENT_KEY, action: "get", id: String(gw.taskId) })}`)).text(), "ERROR_WRONG_CAPTCHA_ID");
      const v2 = (await (await post(c.bases[1]!, "/getTaskResult", { clientKey: CLIENT_KEY, taskId: gw.taskId }, {})).json()) as { errorCode: string };
      assert.equal(v2.errorCode, "ERROR_NO_SUCH_CAPCHA_ID");
    }));

  test("an id of a node not in --peers is 404; a listed node that takes the request and never answers: 503 once the forward's bound (5 s past the wait) passes", () =>
    withCluster(async (c) => {
      const idOf = (node: number) => String(123_456_789 * 1024 + node);
      assert.equal((await get(c.bases[0]!, `/v1/tasks/${idOf(7)}`)).status, 404);
      assert.equal(await (await fetch(`${c.bases[0]}/res.php?${new URLSearchParams({ key: CLIENT_KEY, action: "get", id: idOf(7) })}`)).text(), "ERROR_WRONG_CAPTCHA_ID");
      // Node 5 holds the request: the bound is on the fake clock, 5 s past the client's wait.
      const recent = String(Math.floor((c.clock.now() - 1_735_689_600_000) * 4) * 1024 + 5);
      const asked = get(c.bases[0]!, `/v1/tasks/${recent}?wait=2`);
      await eventually(() => c.held.length === 1, "node 5 got the forwarded request");
      assert.equal(c.held[0]!.headers["x-captcha-worker-forwarded"], "1");
      assert.equal(c.held[0]!.headers.authorization, auth.authorization, "the client's own credential, as sent");
      let done = false;
      void asked.then(() => (done = true));
      await advance(c.clock, 6000);
      assert.equal(done, false, "still waiting within wait + 5 s");
      await advance(c.clock, 1500);
      const r = await asked;
      assert.equal(r.status, 503);
      assert.ok(Number(r.headers.get("retry-after")) >= 1);
    }));

  test("a forwarded request with a wrong or missing peer token is refused (403) before any task is read; with the token it is answered where it lands, never forwarded again", () =>
    withCluster(async (c) => {
      const created = (await (await post(c.bases[0]!, "/v1/tasks", { type: "image", image: PNG })).json()) as { id: string };
      const wrong = await get(c.bases[0]!, `/v1/tasks/${created.id}`, { ...auth, [FORWARDED_HEADER]: "2", [PEER_TOKEN_HEADER]: "not-the-token" });
      assert.equal(wrong.status, 403);
      assert.equal(((await wrong.json()) as { code: string }).code, "ERR_PEER_UNAUTHORIZED");
      assert.equal((await get(c.bases[0]!, `/v1/tasks/${created.id}`, { ...auth, [FORWARDED_HEADER]: "2" })).status, 403);
      const gw = await fetch(`${c.bases[0]}/res.php?${new URLSearchParams({ key: CLIENT_KEY, action: "get", id: created.id })}`, { headers: { [FORWARDED_HEADER]: "2", [PEER_TOKEN_HEADER]: "x" } });
      assert.equal(gw.status, 403);
      const right = await get(c.bases[0]!, `/v1/tasks/${created.id}`, { ...auth, [FORWARDED_HEADER]: "2", [PEER_TOKEN_HEADER]: PEER_TOKEN });
      assert.equal(right.status, 200);
      // Node 2 given node 1's task as if forwarded: answered locally (404), not sent back to node 1.
      const loop = await get(c.bases[1]!, `/v1/tasks/${created.id}`, { ...auth, [FORWARDED_HEADER]: "1", [PEER_TOKEN_HEADER]: PEER_TOKEN });
      assert.equal(loop.status, 404);
      assert.match(await (await fetch(`${c.bases[0]}/metrics`)).text(), /^captcha_worker_peer_requests_total\{outcome="refused"\} 3$/m);
    }));

  test("a client's waits forwarded at once are capped: past the cap the task API answers 429 with Retry-After and the gateway not ready, holding nothing; reads without a wait and another client's waits are forwarded", () =>
    withCluster(async (c) => {
      const alpha = { authorization: `Bearer ${CLIENT_KEY}`, "content-type": "application/json" };
      const bravo = { authorization: `Bearer ${OTHER_KEY}`, "content-type": "application/json" };
      const ids: string[] = [];
      for (let i = 0; i <= MAX_FORWARDED_WAITS; i++) ids.push(((await (await post(c.bases[0]!, "/v1/tasks", { type: "image", image: PNG }, alpha)).json()) as { id: string }).id);
      const bravoId = ((await (await post(c.bases[0]!, "/v1/tasks", { type: "image", image: PNG }, bravo)).json()) as { id: string }).id;
      const waits = ids.slice(0, MAX_FORWARDED_WAITS).map((id) => get(c.bases[1]!, `/v1/tasks/${id}?wait=60`, alpha));
      const forwarded = () => Number(/^captcha_worker_peer_waits (\d+)$/m.exec(c.workers[1]!.registry.render())?.[1]);
      await eventually(() => forwarded() === MAX_FORWARDED_WAITS, "alpha's waits forwarded");
      // The cap is the client's, however it spells its credential or asks for the wait.
      const spellings: [string, Record<string, string>][] = [["?wait=60", alpha], ["", { ...alpha, prefer: "wait=30" }], ["?wait=5", { ...alpha, authorization: `bearer   ${CLIENT_KEY}` }]];
      for (const [query, headers] of spellings) {
        const past = await get(c.bases[1]!, `/v1/tasks/${ids[MAX_FORWARDED_WAITS]}${query}`, headers);
        assert.equal(past.status, 429);
        assert.equal(past.headers.get("retry-after"), "1");
        assert.equal(((await past.json()) as { code: string }).code, "ERR_TOO_MANY_WAITS");
      }
      assert.equal(forwarded(), MAX_FORWARDED_WAITS, "nothing more forwarded");
      // The gateway's reads never wait, so a wait= in one neither lengthens nor counts.
      const gateway = await fetch(`${c.bases[1]}/res.php?${new URLSearchParams({ key: CLIENT_KEY, action: "get", id: ids[MAX_FORWARDED_WAITS]!, wait: "30" })}`);
      assert.equal(await gateway.text(), "CAPCHA_NOT_READY");
      const now = await get(c.bases[1]!, `/v1/tasks/${ids[MAX_FORWARDED_WAITS]}`, alpha);
      assert.equal(now.status, 200, "a read without a wait is forwarded as ever");
      await now.body?.cancel();
      const other = get(c.bases[1]!, `/v1/tasks/${bravoId}?wait=60`, bravo);
      await eventually(() => forwarded() === MAX_FORWARDED_WAITS + 1, "bravo's wait forwarded");
      await advance(c.clock, 3000);
      for (const r of [...(await Promise.all(waits)), await other]) {
        assert.equal(r.status, 200);
        assert.equal(((await r.json()) as { status: string }).status, "solved");
      }
      assert.equal(forwarded(), 0);
      assert.match(c.workers[1]!.registry.render(), /^captcha_worker_peer_requests_total\{outcome="busy"\} 3$/m);
    }));

  test("a forwarded request names the node it is meant for: with node 2's --peers sending node 5's reads to node 1, node 1 refuses them (421 ERR_PEER_MISADDRESSED) and node 2 answers 502 ERR_OWNER_MISADDRESSED, never a 404; both log it once and count it", () =>
    withCluster(async (c) => {
      const recent = String(Math.floor((c.clock.now() - 1_735_689_600_000) * 4) * 1024 + 5);
      for (let i = 0; i < 3; i++) {
        const r = await get(c.bases[1]!, `/v1/tasks/${recent}`);
        assert.equal(r.status, 502);
        const problem = (await r.json()) as { code: string; detail: string };
        assert.equal(problem.code, "ERR_OWNER_MISADDRESSED");
        assert.match(problem.detail, new RegExp(`node 5's tasks to ${c.bases[0]}/, but the worker there is node 1`));
      }
      const gateway = await fetch(`${c.bases[1]}/res.php?${new URLSearchParams({ key: CLIENT_KEY, action: "get", id: recent })}`);
      assert.equal(gateway.status, 502, "the gateway's read gets the same answer");
      await gateway.body?.cancel();
      // ids= asks the owner a question: its refusal reads as no answer (not ready), counted and logged the same.
      assert.equal(await (await fetch(`${c.bases[1]}/res.php?${new URLSearchParams({ key: CLIENT_KEY, action: "get", ids: `${recent},${recent}` })}`)).text(), "CAPCHA_NOT_READY|CAPCHA_NOT_READY");
      assert.equal(c.held.length, 0, "node 5 itself was never asked");
      // What node 1 answers the peer: 421, naming itself.
      const direct = await get(c.bases[0]!, `/v1/tasks/${recent}`, { ...auth, [FORWARDED_HEADER]: "2", [PEER_TOKEN_HEADER]: PEER_TOKEN, [NODE_HEADER]: "5" });
      assert.equal(direct.status, 421);
      assert.equal(direct.headers.get(NODE_HEADER), "1");
      assert.equal(((await direct.json()) as { code: string }).code, "ERR_PEER_MISADDRESSED");
      const counted = c.workers.map((w) => /^captcha_worker_peer_requests_total\{outcome="misaddressed"\} (\d+)$/m.exec(w.registry.render())?.[1]);
      // Node 1: five from node 2 and the direct one twice (fetch retries a 421 once on a new connection, as the Fetch standard says).
      assert.deepEqual(counted, ["7", "5"]);
      const said = c.logs.map((lines) => lines.filter((l) => l.includes("meant for another node") || l.includes("wrong address")).length);
      assert.deepEqual(said, [1, 1], "one line on each node however many requests (rate-limited)");
      assert.match(c.logs[1]!.find((l) => l.includes("wrong address"))!, /"expected":5.*"actual":"1"/);
    }, true));
});
