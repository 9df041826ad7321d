// The gateway's res.php?action=get&ids=... over a cluster (docs/cluster.md): ids of several nodes in one
// read, answered through any node in the client's order (this node's ids here, each other owner
// asked once for its own), owners down or silent, and another client's ids never leaking.
// Nodes 1, 2 and 3 are real workers on one fake clock and one simulator; 5 and 6 take requests and
// never answer; 8 is a scripted node whose solutions hold "|"; 9 answers every request 503.
import assert from "node:assert/strict";
import { createServer, type IncomingMessage } from "node:http";
import { describe, test } from "node:test";
import { createLogger } from "../../src/base/log.ts";
import { parseConfig } from "../../src/config/parse_config.ts";
import { startSimulator, type Simulator } from "../../src/sim/simulator.ts";
import { startWorker, type Worker } from "../../src/app/start.ts";
import { FORWARDED_HEADER, PEER_TOKEN_HEADER } from "../../src/cluster/peer_router.ts";
import { ID_EPOCH_MS } from "../../src/tasks/task_id.ts";
import { FakeClock } from "../_support/fake_clock.ts";
import { CLIENT_KEY, keysFile, OTHER_KEY, PNG } from "../_support/gateway.ts";
import { advance, eventually, SIM_KEY } from "../_support/harness.ts";
import { freePort } from "../_support/net.ts";
import { testProcess } from "../_support/process_stats.ts";

const PEER_TOKEN = "peer-token-ids-0123456789abcdef";
const REAL = [1, 2, 3];
const SILENT = [5, 6];
const SCRIPTED = 8;
const FAILING = 9;

interface Cluster {
  clock: FakeClock;
  sim: Simulator;
  workers: Worker[];
  /** Base URL of node 1, 2, 3 (index 0, 1, 2). */
  bases: string[];
  /** Requests the silent nodes 5 and 6 have received. */
  held: IncomingMessage[];
  /** The form bodies node 8 has received. */
  scripted: URLSearchParams[];
  /** "plain": node 8 answers as an older worker would, `a|b` even when asked for a list. */
  scriptedMode: "list" | "plain";
}

/** Node 8's answer: a task's solution is its id's last digits around a "|"; asked for a list, a JSON list (a worker's `answers=list`). */
function scriptedAnswer(form: URLSearchParams, mode: Cluster["scriptedMode"]): string {
  const solution = (id: string) => `${id.slice(-4, -2)}|${id.slice(-2)}`;
  const ids = form.get("ids");
  if (ids !== null && form.get("answers") === "list" && mode === "list") return JSON.stringify({ status: 1, request: ids.split(",").map(solution) });
  return ids !== null ? ids.split(",").map(solution).join("|") : `OK|${solution(form.get("id") ?? "")}`;
}

async function withCluster(fn: (c: Cluster) => Promise<void>): Promise<void> {
  const clock = new FakeClock();
  const log = createLogger({ level: "error", write: () => {} });
  const sim = await startSimulator({ host: "127.0.0.1", port: 0 }, { keys: [SIM_KEY], clock, seed: 4, solveTimeMs: { image: 500, token: 500 } });
  const ports = new Map<number, number>();
  for (const n of [...REAL, ...SILENT, SCRIPTED, FAILING]) ports.set(n, await freePort());
  const peers = [...ports].map(([n, p]) => `${n}=http://127.0.0.1:${p}`).join(",");
  const keys = keysFile();
  const held: IncomingMessage[] = [];
  const scripted: URLSearchParams[] = [];
  const cluster = { scriptedMode: "list" } as Cluster;
  const silent = SILENT.map((n) => createServer((req) => void held.push(req)).listen(ports.get(n), "127.0.0.1"));
  silent.push(createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const form = new URLSearchParams(Buffer.concat(chunks).toString());
      scripted.push(form);
      res.end(req.headers[PEER_TOKEN_HEADER] === PEER_TOKEN ? scriptedAnswer(form, cluster.scriptedMode) : "ERR");
    });
  }).listen(ports.get(SCRIPTED), "127.0.0.1"));
  silent.push(createServer((req, res) => req.resume().on("end", () => res.writeHead(503).end("ERROR_NO_SLOT_AVAILABLE"))).listen(ports.get(FAILING), "127.0.0.1"));
  const workers: Worker[] = [];
  try {
    for (const node of REAL) {
      const flags = { listen: `127.0.0.1:${ports.get(node)}`, "node-id": String(node), peers, "client-keys-file": keys, "first-poll": "1s", "poll-interval": "1s", "task-timeout": "60s" };
      const { config } = parseConfig(flags, {});
      workers.push(await startWorker({ process: testProcess, config, upstreamUrl: sim.url, apiKey: SIM_KEY, clock, log, peerToken: PEER_TOKEN, random: () => 0.5 }));
    }
    await eventually(() => workers.every((w) => w.view.phase !== "starting"), "startup");
    Object.assign(cluster, { clock, sim, workers, bases: REAL.map((n) => `http://127.0.0.1:${ports.get(n)}`), held, scripted });
    await fn(cluster);
  } finally {
    for (const w of workers) if (w.state !== "closed") await w.close();
    for (const s of silent) {
      s.closeAllConnections();
      s.close();
    }
    await sim.close();
  }
}

/** A new 2captcha task on `base` for `key`: its id. */
async function submit(base: string, key = CLIENT_KEY): Promise<string> {
  const text = await (await fetch(`${base}/in.php?${new URLSearchParams({ key, method: "base64", body: PNG })}`)).text();
  assert.match(text, /^OK\|\d+$/);
  return text.slice(3);
}

const res = (base: string, params: Record<string, string>, headers: Record<string, string> = {}) =>
  fetch(`${base}/res.php?${new URLSearchParams(params)}`, { headers });
const ids = async (base: string, list: string[], more: Record<string, string> = {}) => (await res(base, { key: CLIENT_KEY, action: "get", ids: list.join(","), ...more })).text();
/** An id of `node` made a second ago (a task that does not exist, still within its deadline). */
const idOf = (c: Cluster, node: number) => String(Math.floor((c.clock.now() - 1000 - ID_EPOCH_MS) * 4) * 1024 + node);
const nodeOf = (id: string) => Number(id) % 1024;

describe("gateway ids= across the cluster", () => {
  test("ids of three nodes (and of a node not in --peers) read through any node: every answer in the client's order, text and json=1", () =>
    withCluster(async (c) => {
      const [a, b, d] = c.bases as [string, string, string];
      const on1 = await submit(a);
      const on2 = await submit(b);
      const on3 = await submit(d);
      const on1b = await submit(a);
      assert.deepEqual([on1, on2, on3, on1b].map(nodeOf), [1, 2, 3, 1]);
      const list = [on3, on1, "123456789", on2, idOf(c, 7), on1b, idOf(c, 3)];
      const pending = "CAPCHA_NOT_READY|CAPCHA_NOT_READY|ERROR_WRONG_CAPTCHA_ID|CAPCHA_NOT_READY|ERROR_WRONG_CAPTCHA_ID|CAPCHA_NOT_READY|ERROR_WRONG_CAPTCHA_ID";
      for (const base of c.bases) assert.equal(await ids(base, list), pending, `through ${base}`);
      await advance(c.clock, 3000);
      await eventually(() => [on1, on1b].every((id) => c.workers[0]!.pool.find(id)?.status === "solved") && c.workers[1]!.pool.find(on2)?.status === "solved" && c.workers[2]!.pool.find(on3)?.status === "solved", "all solved");
      const solution = (w: number, id: string) => c.workers[w]!.pool.find(id)!.solution!;
      const want = [solution(2, on3), solution(0, on1), "ERROR_WRONG_CAPTCHA_ID", solution(1, on2), "ERROR_WRONG_CAPTCHA_ID", solution(0, on1b), "ERROR_WRONG_CAPTCHA_ID"].join("|");
      assert.equal(new Set([solution(2, on3), solution(0, on1), solution(1, on2), solution(0, on1b)]).size, 4, "distinct solutions, so the order shows");
      for (const base of c.bases) assert.equal(await ids(base, list), want, `through ${base}`);
      // json=1 and a POST form, as 2captcha clients send them.
      const json = await fetch(`${b}/res.php`, { method: "POST", body: new URLSearchParams({ key: CLIENT_KEY, action: "get", ids: list.join(","), json: "1" }) });
      assert.deepEqual(await json.json(), { status: 1, request: want });
      // The same id twice, and only one other node's ids: still one answer per id.
      assert.equal(await ids(a, [on3, on3]), `${solution(2, on3)}|${solution(2, on3)}`);
      // Nothing was submitted twice; node 2 asked nodes 1 and 3 once each per read (three reads).
      assert.equal(c.sim.counts().submitted, 4);
      assert.match(await (await fetch(`${b}/metrics`)).text(), /^captcha_worker_peer_requests_total\{outcome="forwarded"\} 6$/m);
    }));

  test("another client's ids on other nodes read ERROR_WRONG_CAPTCHA_ID, never its answers; a forwarded ids= with a wrong peer token is refused", () =>
    withCluster(async (c) => {
      const [a, b, d] = c.bases as [string, string, string];
      const mine = await submit(a);
      const theirs3 = await submit(d, OTHER_KEY);
      await advance(c.clock, 3000);
      await eventually(() => c.workers[2]!.pool.find(theirs3)?.status === "solved" && c.workers[0]!.pool.find(mine)?.status === "solved", "solved");
      const mineSolved = c.workers[0]!.pool.find(mine)!.solution!;
      assert.equal(await ids(b, [theirs3, mine]), `ERROR_WRONG_CAPTCHA_ID|${mineSolved}`);
      assert.equal(await ids(d, [mine, theirs3]), `${mineSolved}|ERROR_WRONG_CAPTCHA_ID`);
      // Its owner reads it to its own client.
      const theirsSolved = c.workers[2]!.pool.find(theirs3)!.solution!;
      assert.equal(await (await res(b, { key: OTHER_KEY, action: "get", ids: `${theirs3},${mine}` })).text(), `${theirsSolved}|ERROR_WRONG_CAPTCHA_ID`);
      assert.equal(await (await res(b, { key: "not-a-client-key", action: "get", ids: `${theirs3},${mine}` })).text(), "ERROR_KEY_DOES_NOT_EXIST");
      const forged = await res(a, { key: OTHER_KEY, action: "get", ids: `${theirs3},${mine}` }, { [FORWARDED_HEADER]: "2", [PEER_TOKEN_HEADER]: "not-the-token" });
      assert.equal(forged.status, 403);
      // With the token, a forwarded ids= is answered where it lands, never sent on: node 3's id is unknown on node 1.
      assert.equal(await (await res(a, { key: CLIENT_KEY, action: "get", ids: `${theirs3},${mine}` }, { [FORWARDED_HEADER]: "2", [PEER_TOKEN_HEADER]: PEER_TOKEN })).text(), `ERROR_WRONG_CAPTCHA_ID|${mineSolved}`);
    }));

  test("an owner down: its ids read CAPCHA_NOT_READY while they may still end, ERROR_WRONG_CAPTCHA_ID past their deadline; the others answer throughout", () =>
    withCluster(async (c) => {
      const [a, b, d] = c.bases as [string, string, string];
      const on1 = await submit(a);
      const on3 = await submit(d);
      await c.workers[2]!.close();
      await advance(c.clock, 3000);
      await eventually(() => c.workers[0]!.pool.find(on1)?.status === "solved", "solved");
      const solved = c.workers[0]!.pool.find(on1)!.solution!;
      assert.equal(await ids(b, [on3, on1]), `CAPCHA_NOT_READY|${solved}`);
      assert.deepEqual(await (await res(b, { key: CLIENT_KEY, action: "get", ids: `${on3},${on1}`, json: "1" })).json(), { status: 1, request: `CAPCHA_NOT_READY|${solved}` });
      assert.equal(await ids(a, [on3, on3]), "CAPCHA_NOT_READY|CAPCHA_NOT_READY", "only the down node's ids: one answer per id");
      await c.clock.advance(58_000);
      assert.equal(await ids(b, [on3, on1]), `ERROR_WRONG_CAPTCHA_ID|${solved}`);
      assert.equal(await ids(a, [on3]), "ERROR_WRONG_CAPTCHA_ID");
      assert.match(await (await fetch(`${b}/metrics`)).text(), /^captcha_worker_peer_requests_total\{outcome="owner_unavailable"\} 3$/m);
    }));

  test("two owners that never answer are asked at once: the read ends after one forward bound (5 s), their ids CAPCHA_NOT_READY, this node's answered", () =>
    withCluster(async (c) => {
      const [a] = c.bases as [string];
      const mine = await submit(a);
      const list = [idOf(c, 5), mine, idOf(c, 6)];
      let answer: string | undefined;
      void ids(a, list).then((t) => (answer = t));
      await eventually(() => c.held.length === 2, "nodes 5 and 6 both asked before either answered");
      for (const r of c.held) {
        assert.equal(r.headers[FORWARDED_HEADER], "1");
        assert.equal(r.headers[PEER_TOKEN_HEADER], PEER_TOKEN);
        assert.equal(r.url, "/res.php", "the client's key is in the body, not the URL");
      }
      await advance(c.clock, 4500);
      assert.equal(answer, undefined, "still within the bound");
      await advance(c.clock, 1000);
      await eventually(() => answer !== undefined, "answered");
      assert.equal(answer, `CAPCHA_NOT_READY|${c.workers[0]!.pool.find(mine)!.solution}|CAPCHA_NOT_READY`);
    }));

  test("an owner is asked once for all its ids and answers a list, so a solution holding \"|\" splits cleanly: one peer request per owner, never one per id; an owner answering 503 counts as not answering", () =>
    withCluster(async (c) => {
      const [a] = c.bases as [string];
      const mine = await submit(a);
      await advance(c.clock, 3000);
      await eventually(() => c.workers[0]!.pool.find(mine)?.status === "solved", "solved");
      const solved = c.workers[0]!.pool.find(mine)!.solution!;
      const x = idOf(c, SCRIPTED);
      const y = String(Number(x) + 1024 * 77);
      const z = idOf(c, FAILING);
      const want = `${x.slice(-4, -2)}|${x.slice(-2)}|${solved}|CAPCHA_NOT_READY|${y.slice(-4, -2)}|${y.slice(-2)}`;
      assert.equal(await ids(a, [x, mine, z, y]), want);
      // One question for both of node 8's ids, the client's key in its body; no question per id.
      assert.deepEqual(c.scripted.map((f) => [f.get("key"), f.get("action"), f.get("ids"), f.get("answers")]), [[CLIENT_KEY, "get", `${x},${y}`, "list"]]);
      // Twenty of node 8's ids: still one question; no listener piles up on the client's response.
      const warnings: Error[] = [];
      const onWarning = (w: Error) => void warnings.push(w);
      process.on("warning", onWarning);
      try {
        const many = Array.from({ length: 20 }, (_, i) => String(Number(x) + 1024 * (i + 1)));
        assert.equal(await ids(a, [mine, ...many]), [solved, ...many.map((id) => `${id.slice(-4, -2)}|${id.slice(-2)}`)].join("|"));
        await new Promise((resolve) => setImmediate(resolve));
      } finally {
        process.off("warning", onWarning);
      }
      assert.deepEqual(warnings.map((w) => w.name), []);
      assert.equal(c.scripted.length, 2, "one more question for twenty ids");
      await c.clock.advance(60_000);
      assert.equal(await ids(a, [z, mine]), `ERROR_WRONG_CAPTCHA_ID|${solved}`, "node 9's id past its deadline");
    }));

  test("an owner's answer that is not one answer per id reads as not ready, never asked again; a client's questions out at once are bounded", () =>
    withCluster(async (c) => {
      const [a] = c.bases as [string];
      const x = idOf(c, SCRIPTED);
      // Node 8 asked without answers=list would answer "a|b": the worker asks for a list and reads anything else as no answer.
      c.scriptedMode = "plain";
      assert.equal(await ids(a, [x, String(Number(x) + 1024)]), "CAPCHA_NOT_READY|CAPCHA_NOT_READY");
      assert.equal(c.scripted.length, 1, "one question, no singles");
      // Forty reads of node 5's (silent) ids at once from one client: at most PEER_QUESTIONS_PER_CLIENT questions reach it.
      const silentId = idOf(c, SILENT[0]!);
      const before = c.held.length;
      const reads = Array.from({ length: 40 }, () => ids(a, [silentId]));
      await eventually(() => c.held.length - before >= 16, "16 questions held");
      for (let i = 0; i < 200; i++) await new Promise((r) => setImmediate(r));
      assert.equal(c.held.length - before, 16, "the client's other reads do not ask");
      await advance(c.clock, 6000);
      assert.deepEqual([...new Set(await Promise.all(reads))], ["CAPCHA_NOT_READY"]);
    }));
});
