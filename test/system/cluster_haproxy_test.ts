// Scale-out (docs/cluster.md) as an operator runs it: three workers (real processes, each with its own
// state dir, one shared simulated CaptchaAI account) behind a real HAProxy using the shipped
// deploy/haproxy/haproxy.cfg (addresses, ports and check intervals changed; round robin, no
// stickiness). Tasks of both APIs posted and polled through it; one worker killed with -9 and
// restarted on its state dir; ids= reads mixing the nodes' tasks; a wrong peer token; every worker
// unready with reads still answered.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { startSimulator } from "../../src/sim/simulator.ts";
import { ROOT } from "../_support/cli.ts";
import { freePort, pollUntil } from "../_support/net.ts";
import { requireProgram } from "../_support/programs.ts";
import { journalLines } from "../_support/temp_dirs.ts";
import { haproxyCommand } from "../_support/haproxy.ts";
import { kill9, spawnWorker, whenReady, type WorkerChild } from "../_support/worker_child.ts";
import { pngOfSize } from "../_support/images.ts";

const KEY = "cluster-test-key-5b2d00c0ffee012";
const CLIENT = "cluster-client-key-0123456789abcdef";
const PEER_TOKEN = "cluster-peer-token-0123456789abcdef";
const PNG = pngOfSize(200, 3).toString("base64");
const NODES = [1, 2, 3];

/** `backend/server` -> status (UP, DOWN, ...) from `show stat`. */
async function statuses(socketPath: string): Promise<Record<string, string>> {
  const lines = (await haproxyCommand(socketPath, "show stat")).trim().split("\n");
  const header = lines[0]!.replace(/^# /, "").split(",");
  const out: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const row = line.split(",");
    if (row[1] === "FRONTEND" || row[1] === "BACKEND") continue;
    out[`${row[0]}/${row[1]}`] = row[header.indexOf("status")]!.split(" ")[0]!;
  }
  return out;
}

/** The shipped config with test addresses: servers on loopback ports, the admin socket in `dir`, faster checks. */
function testConfig(dir: string, front: number, ports: number[], agents: number[]): string {
  let cfg = readFileSync(join(ROOT, "deploy/haproxy/haproxy.cfg"), "utf8");
  cfg = cfg.replace(/^listen stats[\s\S]*$/m, "");
  cfg = cfg.replace("stats socket /run/haproxy/admin.sock mode 660 level admin", `stats socket ${join(dir, "admin.sock")} level admin`);
  cfg = cfg.replace(/^(\s*)log stdout.*$/m, "");
  cfg = cfg.replace(/^(\s*)bind :80$/m, `$1bind 127.0.0.1:${front}`);
  cfg = cfg.replace("balance leastconn", "balance roundrobin");
  cfg = cfg.replaceAll("inter 2s", "inter 250ms").replaceAll("agent-inter 2s", "agent-inter 250ms");
  cfg = cfg.replace(/^(\s*)server worker(\d) 10\.0\.0\.\d+:8080 check$/gm, (_m, indent: string, n: string) => `${indent}server worker${n} 127.0.0.1:${ports[Number(n) - 1]} check agent-port ${agents[Number(n) - 1]}`);
  assert.doesNotMatch(cfg, /10\.0\.0\./, "every server address replaced");
  return cfg;
}

describe("three workers behind HAProxy", () => {
  test("any replica answers any poll; a replica killed with -9 mid-run: its tasks 503 + Retry-After meanwhile, all end after its restart, none submitted twice; wrong peer token refused; unready everywhere, reads still answered", async (t) => {
    const haproxy = requireProgram(t, "haproxy", "haproxy");
    if (!haproxy) return;
    const dir = mkdtempSync(join(tmpdir(), "cw-cluster-"));
    const children: ChildProcess[] = [];
    const sim = await startSimulator({ host: "127.0.0.1", port: 0 }, { keys: [KEY], solveTimeMs: { image: 2500, token: 2500 }, threads: 1000, seed: 9 });
    t.after(async () => {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
      await sim.close();
      rmSync(dir, { recursive: true, force: true });
    });
    writeFileSync(join(dir, "clients"), `app ${CLIENT}\n`);
    writeFileSync(join(dir, "peer-token"), PEER_TOKEN + "\n");
    const ports = await Promise.all(NODES.map(() => freePort()));
    const agents = await Promise.all(NODES.map(() => freePort()));
    const front = await freePort();
    const peers = NODES.map((n, i) => `${n}=http://127.0.0.1:${ports[i]}`).join(",");
    const args = (i: number) => [
      "run", "--listen", `127.0.0.1:${ports[i]}`, "--agent-listen", `127.0.0.1:${agents[i]}`, "--upstream", sim.url.href,
      "--node-id", String(NODES[i]), "--peers", peers, "--peer-token-file", join(dir, "peer-token"), "--state-dir", join(dir, `state-${i}`),
      "--client-keys-file", join(dir, "clients"), "--threads", "40", "--first-poll", "500ms", "--poll-interval", "250ms",
      "--balance-ttl", "1s", "--task-timeout", "120s", "--log-level", "warn",
    ];
    const start = (i: number): WorkerChild => {
      const w = spawnWorker(args(i), { CAPTCHAAI_API_KEY: KEY });
      children.push(w.child);
      return w;
    };
    const workers = NODES.map((_, i) => start(i));
    await Promise.all(workers.map((w, i) => whenReady(w, `127.0.0.1:${ports[i]}`)));

    writeFileSync(join(dir, "haproxy.cfg"), testConfig(dir, front, ports, agents));
    const proxy = spawn(haproxy, ["-db", "-f", join(dir, "haproxy.cfg")], { stdio: ["ignore", "pipe", "pipe"] });
    children.push(proxy);
    let proxyOutput = "";
    proxy.stdout.on("data", (c: Buffer) => (proxyOutput += c));
    proxy.stderr.on("data", (c: Buffer) => (proxyOutput += c));
    const socketPath = join(dir, "admin.sock");
    const allUp = (s: Record<string, string>) => Object.keys(s).length === 6 && Object.values(s).every((v) => v === "UP");
    try {
      await pollUntil("six servers UP", () => statuses(socketPath), { until: allUp, timeoutMs: 15_000, intervalMs: 100 });
      const base = `http://127.0.0.1:${front}`;
      const auth = { authorization: `Bearer ${CLIENT}`, "content-type": "application/json" };

      // 30 tasks of each API through the balancer.
      const native: string[] = [];
      const legacy: string[] = [];
      const v2: number[] = [];
      for (let i = 0; i < 30; i++) {
        const r = await fetch(`${base}/v1/tasks`, { method: "POST", headers: auth, body: JSON.stringify({ type: "image", image: PNG }) });
        assert.equal(r.status, 202);
        native.push(((await r.json()) as { id: string }).id);
        if (i % 2 === 0) {
          const text = await (await fetch(`${base}/in.php`, { method: "POST", body: new URLSearchParams({ key: CLIENT, method: "base64", body: PNG }) })).text();
          assert.match(text, /^OK\|\d+$/);
          legacy.push(text.slice(3));
        } else {
          const body = (await (await fetch(`${base}/createTask`, { method: "POST", body: JSON.stringify({ clientKey: CLIENT, task: { type: "ImageToTextTask", body: PNG } }) })).json()) as { taskId: number };
          v2.push(body.taskId);
        }
      }
      const nodeOf = (id: string | number) => Number(BigInt(id) % 1024n);
      assert.deepEqual(new Set(native.map(nodeOf)), new Set(NODES), "round robin spreads new work over the three");
      // Every task reached the upstream once before the kill.
      await pollUntil("60 submits upstream", () => sim.counts().submitted, { until: (n) => n === 60, timeoutMs: 15_000, intervalMs: 50 });

      // Kill node 2 mid-run (solves take 2.5s) once its journal holds every upstream id (a task killed
      // between submit and that record fails SUBMIT_UNCERTAIN by design, never sent twice); its tasks
      // then answer 503 + Retry-After through the others.
      const down = native.filter((id) => nodeOf(id) === 2);
      const downLegacy = legacy.filter((id) => nodeOf(id) === 2);
      const downV2 = v2.filter((id) => nodeOf(id) === 2);
      const mine = [...down, ...downLegacy, ...downV2.map(String)];
      await pollUntil("node 2's journal has every upstream id", () => {
        const submitted = new Set(journalLines(join(dir, "state-1")).filter((r) => r.op === "submitted").map((r) => r.id));
        return mine.every((id) => submitted.has(id));
      }, { timeoutMs: 10_000, intervalMs: 20 });
      await kill9(workers[1]!);
      assert.ok(down.length > 0 && downLegacy.length + downV2.length > 0);
      for (const id of down) {
        const r = await fetch(`${base}/v1/tasks/${id}`, { headers: auth });
        assert.equal(r.status, 503, `task ${id} of the dead node`);
        assert.ok(Number(r.headers.get("retry-after")) >= 1);
        assert.equal(((await r.json()) as { code: string }).code, "ERR_OWNER_UNAVAILABLE");
      }
      for (const id of downLegacy) assert.equal(await (await fetch(`${base}/res.php?${new URLSearchParams({ key: CLIENT, action: "get", id })}`)).text(), "CAPCHA_NOT_READY");
      for (const id of downV2) {
        const body = await (await fetch(`${base}/getTaskResult`, { method: "POST", body: JSON.stringify({ clientKey: CLIENT, taskId: id }) })).json();
        assert.deepEqual(body, { errorId: 0, status: "processing" });
      }
      // One ids= read of every gateway task, the three nodes' mixed, through the balancer: one answer per
      // id in order; the dead node's not ready, none unknown.
      const mixedIds = [...legacy, ...v2.map(String)].reverse();
      const mixed = (await (await fetch(`${base}/res.php?${new URLSearchParams({ key: CLIENT, action: "get", ids: mixedIds.join(",") })}`)).text()).split("|");
      assert.equal(mixed.length, mixedIds.length);
      assert.equal(new Set(mixedIds.map(nodeOf)).size, 3);
      mixedIds.forEach((id, i) => {
        if (nodeOf(id) === 2) assert.equal(mixed[i], "CAPCHA_NOT_READY", `id ${id} of the dead node`);
        else assert.doesNotMatch(mixed[i]!, /^ERROR_/, `id ${id} of a live node`);
      });

      // A peer with the wrong token is refused, whichever worker it asks.
      const forged = await fetch(`http://127.0.0.1:${ports[0]}/v1/tasks/${native.find((id) => nodeOf(id) === 1)}`, {
        headers: { ...auth, "x-captcha-worker-forwarded": "3", "x-captcha-worker-peer-token": "wrong-peer-token-0123456789" },
      });
      assert.equal(forged.status, 403);

      // Restarted on its state dir: every task ends, answered by whichever replica the poll lands on.
      workers[1] = start(1);
      await whenReady(workers[1], `127.0.0.1:${ports[1]}`);
      const seen = new Set<string>();
      await pollUntil("every task solved", async () => {
        for (const id of native) {
          if (seen.has(id)) continue;
          const r = await fetch(`${base}/v1/tasks/${id}`, { headers: auth });
          if (r.status === 200 && ((await r.json()) as { status: string }).status === "solved") seen.add(id);
          else await r.body?.cancel();
        }
        for (const id of legacy) if (!seen.has(id) && (await (await fetch(`${base}/res.php?${new URLSearchParams({ key: CLIENT, action: "get", id })}`)).text()).startsWith("OK|")) seen.add(id);
        for (const id of v2) {
          if (seen.has(String(id))) continue;
          const body = (await (await fetch(`${base}/getTaskResult`, { method: "POST", body: JSON.stringify({ clientKey: CLIENT, taskId: id }) })).json()) as { status?: string };
          if (body.status === "ready") seen.add(String(id));
        }
        return seen.size;
      }, { until: (n) => n === 60, timeoutMs: 40_000, intervalMs: 250 });
      assert.equal(sim.counts().submitted, 60, "no task reached the upstream twice");
      // ids= of all three nodes through the balancer once all are solved: each id's own get answer, in order, text and json=1.
      const gatewayIds = [...legacy, ...v2.map(String)].reverse();
      assert.equal(new Set(gatewayIds.map(nodeOf)).size, 3);
      const each = await Promise.all(gatewayIds.map(async (id) => (await (await fetch(`${base}/res.php?${new URLSearchParams({ key: CLIENT, action: "get", id })}`)).text()).replace(/^OK\|/, "")));
      for (let i = 0; i < 3; i++) {
        assert.equal(await (await fetch(`${base}/res.php?${new URLSearchParams({ key: CLIENT, action: "get", ids: gatewayIds.join(",") })}`)).text(), each.join("|"));
      }
      const json = await (await fetch(`${base}/res.php`, { method: "POST", body: new URLSearchParams({ key: CLIENT, action: "get", ids: gatewayIds.join(","), json: "1" }) })).json();
      assert.deepEqual(json, { status: 1, request: each.join("|") });

      // The shared account runs dry with tasks running: every replica goes unready, reads still answer.
      await pollUntil("six servers UP again", () => statuses(socketPath), { until: allUp, timeoutMs: 15_000, intervalMs: 100 });
      const running: string[] = [];
      for (let i = 0; i < 6; i++) {
        const r = await fetch(`${base}/v1/tasks`, { method: "POST", headers: auth, body: JSON.stringify({ type: "image", image: PNG }) });
        running.push(((await r.json()) as { id: string }).id);
      }
      await pollUntil("66 submits upstream", () => sim.counts().submitted, { until: (n) => n === 66, timeoutMs: 15_000, intervalMs: 50 });
      sim.control.setBalance(0);
      await pollUntil("every worker unready", async () => {
        const codes = await Promise.all(ports.map(async (p) => (await fetch(`http://127.0.0.1:${p}/health/ready`)).status));
        return codes.every((c) => c === 503);
      }, { timeoutMs: 15_000, intervalMs: 100 });
      await pollUntil("readiness backend all DOWN", () => statuses(socketPath), {
        until: (s) => NODES.every((n) => s[`captcha_workers/worker${n}`] === "DOWN" && s[`captcha_reads/worker${n}`] === "UP"),
        timeoutMs: 10_000, intervalMs: 100,
      });
      const refused = await fetch(`${base}/v1/tasks`, { method: "POST", headers: auth, body: JSON.stringify({ type: "image", image: PNG }) });
      assert.equal(refused.status, 503, "no new work while every replica is unready");
      await refused.body?.cancel();
      const results = await Promise.all(running.map(async (id) => {
        const r = await fetch(`${base}/v1/tasks/${id}?wait=20`, { headers: auth });
        return [r.status, ((await r.json()) as { status: string }).status];
      }));
      for (const r of results) assert.deepEqual(r, [200, "solved"]);
    } catch (err) {
      t.diagnostic(`haproxy output:\n${proxyOutput}\n${workers.map((w, i) => `worker ${i}:\n${w.lines.join("\n")}`).join("\n")}`);
      throw err;
    }
  });
});
