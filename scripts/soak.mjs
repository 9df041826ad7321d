// npm run soak (SOAK_MINUTES=10 by default; not part of CI): the built worker against the built
// simulator for N minutes with tasks (20/s) and probes (50/s) at a steady rate and upstream faults
// toggling every 30 s. Reports RSS, heap, open fds and event-loop delay at the start and the end,
// and fails (exit 1) if a task is lost or a figure keeps growing.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { Agent, request } from "node:http";
import { freePort, pollUntil } from "../test/_support/net.ts";
import { once } from "node:events";

const ROOT = new URL("../", import.meta.url).pathname;
const BIN = ROOT + "dist/captcha-worker";
const MINUTES = Number(process.env.SOAK_MINUTES ?? 10);
const KEY = "soak-key-0123456789abcdef0123456";
/** A real 16x16 grey PNG of 117 bytes: the simulator, as CaptchaAI, refuses images under 100 bytes and files that are no jpg, png or gif. */
const PNG = "iVBORw0KGgoAAAANSUhEUgAAABAAAAAQCAAAAAA6mKC9AAAAIXRFWHRDb21tZW50AGNhcHRjaGEtd29ya2VyIHRlc3QgaW1hZ2VuB5snAAAAD0lEQVR4nGNoQAMMI1sAAAUMgAFaSOXNAAAAAElFTkSuQmCC";
const agent = new Agent({ keepAlive: true, maxSockets: 256 });


function http(method, url, body) {
  return new Promise((resolve) => {
    const text = body === undefined ? undefined : JSON.stringify(body);
    const req = request(url, { method, agent, headers: text ? { "content-type": "application/json" } : {} }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode, text: Buffer.concat(chunks).toString() }));
    });
    req.on("error", (err) => resolve({ status: 0, text: err.message }));
    req.end(text);
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function sample(url) {
  const m = (await http("GET", url + "/metrics")).text;
  const g = (name) => Number(new RegExp(`^${name} (\\S+)`, "m").exec(m)?.[1]);
  return {
    rss_mb: +(g("process_resident_memory_bytes") / 1048576).toFixed(1),
    heap_mb: +(g("nodejs_heap_size_used_bytes") / 1048576).toFixed(1),
    fds: g("process_open_fds"),
    loop_p99_ms: +(g("nodejs_eventloop_lag_seconds") * 1000).toFixed(2),
  };
}

if (!existsSync(BIN) && spawnSync(process.execPath, [ROOT + "build.mjs"], { stdio: "inherit" }).status !== 0) process.exit(1);
const simPort = await freePort();
const workerPort = await freePort();
const simUrl = `http://127.0.0.1:${simPort}/`;
const url = `http://127.0.0.1:${workerPort}`;
const sim = spawn(BIN, ["simulate", "--listen", `127.0.0.1:${simPort}`, "--key", KEY, "--balance", "1000000", "--threads", "100000", "--solve-time", "1s", "--log-level", "warn"], { stdio: "inherit" });
const worker = spawn(BIN, ["run", "--listen", `127.0.0.1:${workerPort}`, "--upstream", simUrl, "--first-poll", "1s", "--poll-interval", "500ms", "--threads", "50", "--task-timeout", "20s", "--check-timeout", "1s", "--balance-ttl", "10s", "--log-level", "error"], {
  env: { CAPTCHAAI_API_KEY: KEY, PATH: process.env.PATH },
  stdio: "inherit",
});
process.on("exit", () => (sim.kill("SIGKILL"), worker.kill("SIGKILL")));
await pollUntil("worker ready", async () => (await http("GET", url + "/health/ready")).status === 200, { timeoutMs: 60_000, intervalMs: 100 });

const FAULTS = [{}, { endpoint: "in.php", status: 500 }, { endpoint: "res.php:get", latency_ms: 800 }, { endpoint: "all", garbage: true }, { endpoint: "res.php:getbalance", hang: true }, { endpoint: "in.php", error: "ERROR_NO_SLOT_AVAILABLE" }];
const accepted = new Set();
const ended = new Map();
let probes = 0;
let probe500 = 0;
let refused = 0;
const warm = await sample(url);
const end = Date.now() + MINUTES * 60_000;
let faultIndex = 0;
const faultTimer = setInterval(async () => {
  faultIndex = (faultIndex + 1) % FAULTS.length;
  await http("DELETE", simUrl + "__sim/faults");
  if (faultIndex > 0) await http("POST", simUrl + "__sim/faults", FAULTS[faultIndex]);
}, 30_000);
const samples = [];
const sampler = setInterval(async () => samples.push(await sample(url)), 60_000);

const pending = [];
for (let tick = 0; Date.now() < end; tick++) {
  // 20 tasks and 50 probes a second, in 100 ms ticks.
  for (let i = 0; i < 2; i++) {
    pending.push(
      (async () => {
        const r = await http("POST", url + "/v1/tasks?wait=25", { type: "image", image: PNG });
        if (r.status !== 200 && r.status !== 202) return void refused++;
        const body = JSON.parse(r.text);
        accepted.add(body.id);
        let s = body;
        while (s.status === "queued" || s.status === "submitted") s = JSON.parse((await http("GET", `${url}/v1/tasks/${body.id}?wait=25`)).text);
        ended.set(body.id, s.status === "failed" ? s.error.code : s.status);
      })(),
    );
  }
  for (let i = 0; i < 5; i++) {
    probes++;
    http("GET", url + (i % 2 ? "/health/ready" : "/health/live")).then((r) => r.status === 500 && probe500++);
  }
  if (pending.length > 5000) await Promise.all(pending.splice(0, 1000));
  await sleep(100);
}
clearInterval(faultTimer);
await http("DELETE", simUrl + "__sim/faults");
await Promise.all(pending);
clearInterval(sampler);
const last = await sample(url);

const outcomes = {};
for (const o of ended.values()) outcomes[o] = (outcomes[o] ?? 0) + 1;
const lost = [...accepted].filter((id) => !ended.has(id)).length;
console.log(JSON.stringify({ minutes: MINUTES, accepted: accepted.size, lost, refused, outcomes, probes, probe500, start: warm, end: last, per_minute: samples }, null, 2));

// "Grows without bound": the last third of the samples above the first third by more than a margin.
const third = Math.max(1, Math.floor(samples.length / 3));
const avg = (xs, k) => xs.reduce((a, s) => a + s[k], 0) / xs.length;
const growth = (k) => avg(samples.slice(-third), k) - avg(samples.slice(0, third), k);
const problems = [];
if (lost > 0) problems.push(`${lost} accepted tasks never ended`);
if (probe500 > 0) problems.push(`${probe500} health probes answered 500`);
if (samples.length >= 3 && growth("rss_mb") > 30) problems.push(`RSS grew ${growth("rss_mb").toFixed(1)} MB from the first to the last third`);
if (samples.length >= 3 && growth("heap_mb") > 20) problems.push(`heap grew ${growth("heap_mb").toFixed(1)} MB`);
if (samples.length >= 3 && growth("fds") > 20) problems.push(`open fds grew by ${growth("fds").toFixed(0)}`);
worker.kill("SIGTERM");
await once(worker, "exit");
sim.kill("SIGTERM");
agent.destroy();
if (problems.length) {
  console.error("soak FAILED: " + problems.join("; "));
  process.exit(1);
}
console.log("soak ok");
