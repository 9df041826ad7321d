import assert from "node:assert/strict";
import { once } from "node:events";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect, createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { spawn, type ChildProcess } from "node:child_process";
import { isWorkerError } from "../../src/base/errors.ts";
import type { HealthView } from "../../src/health/health_view.ts";
import { createLogger, silentLogger } from "../../src/base/log.ts";
import { startHaproxyAgent } from "../../src/integrations/haproxy_agent.ts";
import { startSimulator, type Simulator } from "../../src/sim/simulator.ts";
import { collectOutput, runCli, spawnCli, waitForStart } from "../_support/cli.ts";
import { advance, eventually, startHarness } from "../_support/harness.ts";
import { json } from "../_support/http.ts";
import { freePort, pollUntil } from "../_support/net.ts";
import { haproxyCommand } from "../_support/haproxy.ts";
import { requireProgram } from "../_support/programs.ts";
import { pngOfSize } from "../_support/images.ts";

const KEY = "haproxy-test-key-3e1f00d5a101234";
const IMAGE = { type: "image" as const, image: pngOfSize(150, 7).toString("base64") };

/** Connects, reads everything the agent sends until it closes, as HAProxy does. */
async function readAgent(port: number): Promise<string> {
  const socket = connect(port, "127.0.0.1");
  let text = "";
  socket.setEncoding("utf8");
  socket.on("data", (c: string) => (text += c));
  await once(socket, "end");
  socket.destroy();
  return text;
}

describe("startHaproxyAgent", () => {
  test("startHaproxyAgent answers over TCP: up when ready, down #low_balance after the balance check, drain when draining", async (t) => {
    const h = await startHarness();
    const agent = await startHaproxyAgent({ listen: { host: "127.0.0.1", port: 0 }, view: h.worker.view, threads: h.config.threads, queueMax: h.config.queueMax, log: silentLogger });
    t.after(async () => {
      await agent.close();
      await h.close();
    });
    assert.equal(await readAgent(agent.address.port), "up ready 100%\n");

    h.sim.control.setBalance(0);
    await advance(h.clock, h.config.balanceTtlMs);
    await eventually(() => h.worker.checks.result("captchaai_api")?.value?.observedValue === 0, "balance refreshed");
    assert.equal(await readAgent(agent.address.port), "down #low_balance=$0.00\n");

    h.worker.beginDrain();
    assert.equal(await readAgent(agent.address.port), "drain\n");
  });

  test("startHaproxyAgent logs one line when listening and rejects with ERR_LISTEN when the port is taken", async (t) => {
    const h = await startHarness();
    const logs: string[] = [];
    const log = createLogger({ write: (l) => logs.push(l) });
    const agent = await startHaproxyAgent({ listen: { host: "127.0.0.1", port: 0 }, view: h.worker.view, threads: 5, queueMax: 1000, log });
    t.after(async () => {
      await agent.close();
      await h.close();
    });
    assert.equal(logs.length, 1);
    assert.equal(JSON.parse(logs[0]!).msg, "haproxy agent listening");
    assert.equal(JSON.parse(logs[0]!).listen, `127.0.0.1:${agent.address.port}`);
    await assert.rejects(
      startHaproxyAgent({ listen: agent.address, view: h.worker.view, threads: 5, queueMax: 1000, log: silentLogger }),
      (err: unknown) => isWorkerError(err, "ERR_LISTEN") && (err.cause as NodeJS.ErrnoException).code === "EADDRINUSE",
    );
  });

  test("startHaproxyAgent never lets a failing view or a rude client break it", async (t) => {
    const view: Pick<HealthView, "evaluate"> = { evaluate: () => { throw new Error("boom"); } };
    const agent = await startHaproxyAgent({ listen: { host: "127.0.0.1", port: 0 }, view, threads: 5, queueMax: 1000, log: silentLogger });
    t.after(() => agent.close());
    assert.equal(await readAgent(agent.address.port), "down #agent_error\n");
    // A client that resets at once, and one that writes (agent-send) before reading.
    const rude = connect(agent.address.port, "127.0.0.1");
    rude.on("error", () => {});
    await once(rude, "connect");
    rude.resetAndDestroy();
    const chatty = connect(agent.address.port, "127.0.0.1");
    chatty.write("captcha_workers/worker1\n");
    let text = "";
    chatty.on("data", (c: Buffer) => (text += c));
    await once(chatty, "end");
    chatty.destroy();
    assert.equal(text, "down #agent_error\n");
  });
});

describe("run --agent-listen", () => {
  test("run exits 1 when the agent's port is taken, after closing the worker, with one plain line naming --agent-listen", async (t) => {
    const taken = createServer();
    taken.listen(0, "127.0.0.1");
    await once(taken, "listening");
    t.after(() => taken.close());
    const { port } = taken.address() as AddressInfo;
    const r = await runCli(["run", "--listen", "127.0.0.1:0", "--agent-listen", `127.0.0.1:${port}`, "--upstream", "http://127.0.0.1:9"], { CAPTCHAAI_API_KEY: KEY });
    assert.equal(r.code, 1, r.stderr);
    assert.equal(
      r.stderr,
      `captcha-worker: Cannot listen for HAProxy agent checks on 127.0.0.1:${port}: EADDRINUSE (another process listens there); choose another address: captcha-worker run --agent-listen 127.0.0.1:${port + 1} (or set CAPTCHA_WORKER_AGENT_LISTEN)\n`,
    );
  });
});

// ---------------------------------------------------------------------------------------------
// A real HAProxy in front of two workers run by the CLI, each on its own simulator.

/** One CSV line as HAProxy writes it (fields with commas are double-quoted). */
function csvFields(line: string): string[] {
  const out: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') (field += '"'), i++;
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") out.push(field), (field = "");
    else field += c;
  }
  out.push(field);
  return out;
}

interface ServerStat {
  status: string;
  weight: number;
  lastAgent: string;
  /** `show servers state`: the admin state has the forced-drain bit (0x08) an agent `drain` sets. */
  adminDrain: boolean;
}

/** `show stat` and `show servers state` for the backend, by server name. */
async function serverStats(socketPath: string, backend: string): Promise<Record<string, ServerStat>> {
  const stat = (await haproxyCommand(socketPath, "show stat")).trim().split("\n");
  const header = csvFields(stat[0]!.replace(/^# /, ""));
  const col = (row: string[], name: string) => row[header.indexOf(name)] ?? "";
  const state = (await haproxyCommand(socketPath, `show servers state ${backend}`)).trim().split("\n");
  const stateHeader = state.find((l) => l.startsWith("# "))!.slice(2).split(" ");
  const out: Record<string, ServerStat> = {};
  for (const line of stat.slice(1)) {
    const row = csvFields(line);
    if (col(row, "pxname") !== backend || ["FRONTEND", "BACKEND"].includes(col(row, "svname"))) continue;
    out[col(row, "svname")] = { status: col(row, "status"), weight: Number(col(row, "weight")), lastAgent: col(row, "last_agt"), adminDrain: false };
  }
  for (const line of state.filter((l) => /^\d+ /.test(l))) {
    const f = line.split(" ");
    const name = f[stateHeader.indexOf("srv_name")]!;
    if (out[name]) out[name].adminDrain = (Number(f[stateHeader.indexOf("srv_admin_state")]) & 0x08) !== 0;
  }
  return out;
}

interface RunningWorker {
  child: ChildProcess;
  http: string;
  agentPort: number;
  output: () => string;
}

async function spawnWorker(sim: Simulator, children: ChildProcess[]): Promise<RunningWorker> {
  const child = spawnCli(
    [
      "run", "--listen", "127.0.0.1:0", "--agent-listen", "127.0.0.1:0", "--upstream", sim.url.href,
      "--balance-ttl", "1s", "--first-poll", "100ms", "--poll-interval", "100ms", "--threads", "4", "--drain-timeout", "5s",
    ],
    { CAPTCHAAI_API_KEY: KEY },
  );
  children.push(child); // killed by the test's after hook, even when the start fails
  const out = collectOutput(child);
  const { listen, lines } = await waitForStart(child);
  assert.ok(!lines.slice(0, -1).some((l) => l.includes("haproxy agent listening")), "nothing before the start line");
  // What was logged while starting follows the start line: the agent's own line names its port.
  const agentLog = await pollUntil("the agent's listen line", async () =>
    out.text().split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as { msg?: string; listen?: string }).find((r) => r.msg === "haproxy agent listening"),
  );
  assert.ok(agentLog.listen, "the agent logs where it listens");
  return { child, http: `http://${listen}`, agentPort: Number(agentLog.listen.split(":").pop()), output: out.text };
}

async function postTask(base: string, waitS?: number): Promise<{ status: number; body: any }> {
  const res = await fetch(`${base}/v1/tasks`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(waitS === undefined ? {} : { prefer: `wait=${waitS}` }) },
    body: JSON.stringify(IMAGE),
  });
  return { status: res.status, body: await json(res) };
}

describe("HAProxy in front of two workers", () => {
  test("HAProxy follows the agent and /health/ready: down on low balance, back up, weights by load, drain on SIGTERM", async (t) => {
    const haproxy = requireProgram(t, "haproxy", "haproxy");
    if (!haproxy) return;
    const started = performance.now();
    const children: ChildProcess[] = [];
    const sims: Simulator[] = [];
    const dir = mkdtempSync(join(tmpdir(), "haproxy-agent-"));
    t.after(async () => {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
      await Promise.all(sims.map((s) => s.close()));
      rmSync(dir, { recursive: true, force: true });
    });

    for (let i = 0; i < 2; i++) sims.push(await startSimulator({ host: "127.0.0.1", port: 0 }, { keys: [KEY], solveTimeMs: { image: 200, token: 1000 }, seed: 5 + i }));
    const [simA, simB] = sims as [Simulator, Simulator];
    const [a, b] = await Promise.all([spawnWorker(simA, children), spawnWorker(simB, children)]);

    const socketPath = join(dir, "admin.sock");
    const frontendPort = await freePort();
    const cfg = join(dir, "haproxy.cfg");
    writeFileSync(
      cfg,
      `global
    stats socket ${socketPath} level admin
defaults
    mode http
    timeout connect 1s
    timeout client 35s
    timeout server 35s
    timeout check 1s
frontend fe
    bind 127.0.0.1:${frontendPort}
    default_backend workers
backend workers
    balance leastconn
    option httpchk
    http-check send meth GET uri /health/ready
    http-check expect status 200
    default-server check inter 200ms fall 2 rise 2 agent-check agent-inter 200ms weight 100
    server a ${new URL(a.http).host} agent-port ${a.agentPort}
    server b ${new URL(b.http).host} agent-port ${b.agentPort}
`,
    );
    const proxy = spawn(haproxy, ["-db", "-f", cfg], { stdio: ["ignore", "pipe", "pipe"] });
    children.push(proxy);
    let proxyOutput = "";
    proxy.stdout.on("data", (c: Buffer) => (proxyOutput += c));
    proxy.stderr.on("data", (c: Buffer) => (proxyOutput += c));
    const front = `http://127.0.0.1:${frontendPort}`;
    const stats = () => serverStats(socketPath, "workers").catch(() => ({}) as Record<string, ServerStat>);

    try {
      // a) both UP at full weight; tasks through the frontend are solved on both.
      await pollUntil("both UP at weight 100", stats, { until: (s) => s.a?.status === "UP" && s.b?.status === "UP" && s.a.weight === 100 && s.b.weight === 100 });
      const first = await Promise.all(Array.from({ length: 6 }, () => postTask(front, 30)));
      for (const r of first) assert.deepEqual([r.status, r.body.status], [200, "solved"]);
      assert.ok(simA.counts().submitted > 0 && simB.counts().submitted > 0, "leastconn spread them over both");

      // b) A's balance runs out: HAProxy takes it out, B serves everything.
      simA.control.setBalance(0);
      const down = await pollUntil("A DOWN", stats, { until: (s) => /^DOWN/.test(s.a?.status ?? "") });
      assert.match(down.a!.lastAgent, /down \(low_balance=\$0\.00\)/, "the agent's reason shows in HAProxy");
      assert.equal(down.b!.status, "UP");
      const readyA = await fetch(`${a.http}/health/ready`);
      assert.equal(readyA.status, 503);
      assert.ok((await json(readyA)).issues.includes("low_balance=$0.00"));
      assert.equal(await readAgent(a.agentPort), "down #low_balance=$0.00\n");
      const submittedA = simA.counts().submitted;
      const submittedB = simB.counts().submitted;
      const during = await Promise.all(Array.from({ length: 20 }, () => postTask(front, 30)));
      for (const r of during) assert.deepEqual([r.status, r.body.status], [200, "solved"]);
      assert.equal(simA.counts().submitted, submittedA, "nothing reached A");
      assert.equal(simB.counts().submitted, submittedB + 20);

      // c) topped up: A comes back.
      simA.control.setBalance(10);
      await pollUntil("A UP again", stats, { until: (s) => s.a?.status === "UP" && s.a.weight === 100 });

      // d) B busy (4 threads in flight, 4 queued, held by the upstream): its weight drops, A's does not.
      simB.control.setFault("res.php:get", { error: "CAPCHA_NOT_READY" });
      for (let i = 0; i < 8; i++) assert.equal((await postTask(b.http)).status, 202);
      assert.equal(await readAgent(b.agentPort), "up ready 33%\n");
      const weighted = await pollUntil("B weighted down to 33", stats, { until: (s) => s.b?.weight === 33 });
      assert.equal(weighted.a!.weight, 100);
      assert.equal(weighted.b!.status, "UP");

      // e) SIGTERM B with tasks in flight: HAProxy sees the agent's drain before B exits, and B exits 0
      // once its tasks finish (the upstream is released only after the drain was seen).
      b.child.kill("SIGTERM");
      const drained = await pollUntil("B DRAIN", stats, { until: (s) => /^DRAIN/.test(s.b?.status ?? "") || s.b?.adminDrain === true });
      assert.equal(b.child.exitCode, null, "B is still draining");
      assert.ok(drained.b!.adminDrain, "agent drain sets HAProxy's forced-drain admin state");
      assert.equal(await readAgent(b.agentPort), "drain\n");
      const meanwhile = await Promise.all(Array.from({ length: 3 }, () => postTask(front, 30)));
      for (const r of meanwhile) assert.deepEqual([r.status, r.body.status], [200, "solved"], "A takes the new work");
      simB.control.clearFaults();
      const [code] = (await once(b.child, "exit")) as [number | null];
      assert.equal(code, 0, b.output());
      assert.match(b.output(), /"msg":"stopped".*"failed_with_shutdown":0/);
      t.diagnostic(`real HAProxy scenario took ${Math.round(performance.now() - started)}ms; A down as ${JSON.stringify(down.a)}; B draining as ${JSON.stringify(drained.b)}`);
    } catch (err) {
      t.diagnostic(`haproxy output:\n${proxyOutput}\nworker A:\n${a.output()}\nworker B:\n${b.output()}`);
      throw err;
    }
  });
});
