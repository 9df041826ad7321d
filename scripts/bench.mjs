// npm run bench [-- section...]: the performance figures of docs/sizing-and-performance.md, measured on the built
// executable against the built-in simulator, each speed figure as a ratio to a bare node:http
// server started by the same Node runtime in the same run. Sections: figures (issue 18), startup, solve, health,
// metrics, balance, journal, gateway, keys, memory, figures (issue 18's table, first; default: all); signals, overflow and plan only when named. wrk (Debian package wrk) drives the HTTP load where a fair
// generator matters; paced probes come from this process.
import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { Agent, request } from "node:http";
import { freePort, pollUntil } from "../test/_support/net.ts";
import { measureStartup } from "./bench_startup.mjs";
import { benchSignals } from "./bench_signals.mjs";
import { benchOverflow } from "./bench_overflow.mjs";
import { spawnTracked, stop } from "./bench_children.mjs";
import { benchGateway } from "./bench_gateway.mjs";
import { benchMemory } from "./bench_memory.mjs";
import { benchKeys } from "./bench_keys.mjs";
import { buildFloor } from "./bench_floor.mjs";
import { benchPlan } from "./bench_plan.mjs";

const ROOT = new URL("../", import.meta.url).pathname;
/** BENCH_BIN: another build to measure (an earlier one, for a before/after), not rebuilt. */
const BIN = process.env.BENCH_BIN ?? ROOT + "dist/captcha-worker";
const KEY = "bench-key-0123456789abcdef012345";
/** A real 16x16 grey PNG of 117 bytes: the simulator, as CaptchaAI, refuses images under 100 bytes and files that are no jpg, png or gif. */
const PNG = "iVBORw0KGgoAAAANSUhEUgAAABAAAAAQCAAAAAA6mKC9AAAAIXRFWHRDb21tZW50AGNhcHRjaGEtd29ya2VyIHRlc3QgaW1hZ2VuB5snAAAAD0lEQVR4nGNoQAMMI1sAAAUMgAFaSOXNAAAAAElFTkSuQmCC";
const agent = new Agent({ keepAlive: true, maxSockets: Infinity });

// --- plumbing -----------------------------------------------------------------------------------


function http(method, url, { body, headers = {} } = {}) {
  return raw(method, url, { body: body === undefined ? undefined : JSON.stringify(body), headers: body === undefined ? headers : { "content-type": "application/json", ...headers } });
}

/** A request with a body sent as given (a form, say). */
function raw(method, url, { body: text, headers = {} } = {}) {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent, headers }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, text: Buffer.concat(chunks).toString() }));
    });
    req.on("error", reject);
    req.end(text);
  });
}

const until = (what, fn) => pollUntil(what, fn, { timeoutMs: 20_000, intervalMs: 50 });

function start(args, env = {}, bin = BIN) {
  return spawnTracked(bin, args, { env: { PATH: process.env.PATH, ...env }, stdio: ["ignore", "ignore", "inherit"] });
}

async function simulator(extra = []) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/`;
  const child = start(["simulate", "--listen", `127.0.0.1:${port}`, "--key", KEY, "--balance", "1000000", "--threads", "100000", "--seed", "1", "--log-level", "warn", ...extra]);
  await until("simulator", async () => (await http("GET", url + "__sim/state")).status === 200);
  return { child, url, counts: async () => JSON.parse((await http("GET", url + "__sim/counts")).text) };
}

async function worker(sim, extra = []) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = start(["run", "--listen", `127.0.0.1:${port}`, "--upstream", sim.url, "--log-level", "warn", ...extra], { CAPTCHAAI_API_KEY: KEY });
  await until("worker ready", async () => (await http("GET", url + "/health/ready")).status === 200);
  return { child, url };
}

/** A bare node:http server on this same runtime, answering what /health/live answers. */
async function bareServer() {
  const port = await freePort();
  // With its content-length, as the worker sends it: without one, writeHead then end() answers
  // chunked, a third slower on this machine, and every ratio to it flattered the worker.
  const code = `require("node:http").createServer((req, res) => { res.writeHead(200, { "content-type": "application/json", "content-length": 28, "cache-control": "no-store" }); res.end('{"status":"ok","uptime_s":1}'); }).listen(${port}, "127.0.0.1");`;
  const child = spawnTracked(process.execPath, ["-e", code], { stdio: "ignore" });
  const url = `http://127.0.0.1:${port}`;
  await until("bare server", async () => (await http("GET", url + "/")).status === 200);
  return { child, url };
}

function peakRssMb(pid) {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** The `worker` entry of a Server-Timing header: the time the worker itself added to a task. */
const workerMs = (headers) => Number(/worker;dur=([\d.]+)/.exec(headers["server-timing"] ?? "")?.[1]);

const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
const ms = (x) => `${x.toFixed(2)} ms`;

function wrkAvailable() {
  if (spawnSync("sh", ["-c", "command -v wrk"]).status === 0) return true;
  console.log("  (skipped: wrk not found: apt-get install -y wrk)");
  return false;
}

/** wrk for `seconds` against url: requests/s, p99 latency in ms, non-2xx answers. */
async function wrk(url, { seconds = 5, connections = 32, threads = 2, cpu } = {}) {
  const pin = cpu === undefined ? [] : ["taskset", "-c", String(cpu)];
  const child = spawn(pin[0] ?? "wrk", [...pin.slice(1), ...(pin.length ? ["wrk"] : []), `-t${threads}`, `-c${connections}`, `-d${seconds}s`, "--latency", url], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout.on("data", (c) => (out += c));
  await once(child, "exit");
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
  const p99 = /99%\s+([\d.]+)(us|ms|s)/.exec(out);
  const scale = { us: 0.001, ms: 1, s: 1000 };
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  return { rps, p99Ms: p99 ? Number(p99[1]) * scale[p99[2]] : NaN, non2xx };
}

/** Probes `url` at `perSecond` for `seconds`, from this process; latencies sorted. */
async function paced(url, perSecond, seconds) {
  const latencies = [];
  const statuses = {};
  const pending = [];
  const tickMs = 10;
  const start = performance.now();
  let sent = 0;
  while (performance.now() - start < seconds * 1000) {
    // Catch up with the schedule, however late this tick is: the rate holds over the run.
    const due = Math.floor(((performance.now() - start) / 1000) * perSecond);
    for (; sent < due; sent++) {
      const t0 = performance.now();
      pending.push(
        http("GET", url).then((r) => {
          latencies.push(performance.now() - t0);
          statuses[r.status] = (statuses[r.status] ?? 0) + 1;
        }),
      );
    }
    await new Promise((r) => setTimeout(r, tickMs));
  }
  await Promise.all(pending);
  return { latencies: latencies.sort((a, b) => a - b), statuses };
}

// --- sections -----------------------------------------------------------------------------------

async function benchStartup() {
  const times = [];
  for (let i = 0; i < 5; i++) times.push(await measureStartup());
  times.sort((a, b) => a - b);
  console.log(`  exec to first 200 on /health/live: median ${ms(times[2])} (of 5; min ${ms(times[0])}, max ${ms(times[4])})`);
}

async function benchSolve() {
  const solveMs = 200;
  const firstPollMs = 250;
  const sim = await simulator(["--solve-time", `${solveMs}ms`]);
  const w = await worker(sim, ["--threads", "200", "--queue-max", "5000", "--first-poll", `${firstPollMs}ms`, "--poll-interval", "100ms", "--task-timeout", "60s"]);
  const submitAll = async (n) => {
    const results = await Promise.all(
      Array.from({ length: n }, async () => {
        const t0 = performance.now();
        const r = await http("POST", w.url + "/v1/tasks", { body: { type: "image", image: PNG }, headers: { prefer: "wait=120" } });
        return { ms: performance.now() - t0, status: JSON.parse(r.text).status, worker: workerMs(r.headers) };
      }),
    );
    const bad = results.filter((r) => r.status !== "solved").length;
    if (bad) throw new Error(`${bad} of ${n} tasks not solved`);
    return results.map((r) => r.worker).sort((a, b) => a - b);
  };

  const idleRss = peakRssMb(w.child.pid);
  // Overhead: tasks arriving steadily (100/s for 3 s, about 30 in flight, none queued); each is
  // solved at its first poll, so its client latency minus the first-poll wait is what the worker
  // and the two simulator round trips add.
  const steady = async (fn) => {
    const out = [];
    for (let i = 0; i < 300; i++) {
      out.push(fn());
      await new Promise((r) => setTimeout(r, 10));
    }
    return (await Promise.all(out)).sort((a, b) => a - b);
  };
  const oneTask = async () => {
    const t0 = performance.now();
    const r = await http("POST", w.url + "/v1/tasks", { body: { type: "image", image: PNG }, headers: { prefer: "wait=120" } });
    if (JSON.parse(r.text).status !== "solved") throw new Error(`not solved: ${r.text}`);
    return [performance.now() - t0 - firstPollMs, workerMs(r.headers)];
  };
  await steady(oneTask); // warm-up
  const pairs = await steady(oneTask);
  const over = pairs.map((p) => p[0]).sort((a, b) => a - b);
  const own = pairs.map((p) => p[1]).sort((a, b) => a - b);
  // The simulator's own share: one in.php and one res.php round trip, paced the same way.
  const rtt = await steady(async () => {
    const t0 = performance.now();
    const sub = JSON.parse((await http("POST", sim.url + "in.php", { body: { key: KEY, method: "base64", body: PNG, json: 1 } })).text);
    await http("POST", sim.url + "res.php", { body: { key: KEY, action: "get", id: sub.request, json: 1 } });
    return performance.now() - t0;
  });

  // Throughput and requests per task: 1,000 tasks at once through 200 threads.
  const before = await sim.counts();
  const t0 = performance.now();
  const burstOwn = await submitAll(1000);
  const seconds = (performance.now() - t0) / 1000;
  const after = await sim.counts();
  const calls = (sel) => (after.requests[sel] ?? 0) - (before.requests[sel] ?? 0);
  const perTask = (calls("in.php") + calls("res.php:get")) / 1000;
  const minimum = 2; // one submit, one poll: the solve time is under the first-poll wait
  console.log(`  1,000 image tasks, --threads 200, solve time ${solveMs} ms, first poll ${firstPollMs} ms:`);
  console.log(`    end to end ${(1000 / seconds).toFixed(0)} tasks/s (${seconds.toFixed(2)} s; the schedule's floor is ${(200 / (firstPollMs / 1000)).toFixed(0)} tasks/s)`);
  console.log(`    upstream requests per task ${perTask.toFixed(3)} (minimum ${minimum}; ${(((perTask - minimum) / minimum) * 100).toFixed(1)}% over)`);
  console.log(`    the worker's own time per task (Server-Timing worker): p50 ${ms(quantile(burstOwn, 0.5))}, p99 ${ms(quantile(burstOwn, 0.99))}`);
  console.log(`    peak RSS of the worker ${peakRssMb(w.child.pid).toFixed(1)} MB (${idleRss.toFixed(1)} MB after start-up)`);
  console.log(`  300 tasks arriving at 100/s, none queued:`);
  console.log(`    the worker's own time per task (Server-Timing worker: total - queue - upstream calls - poll waits): p50 ${ms(quantile(own, 0.5))}, p99 ${ms(quantile(own, 0.99))} (target p99 < 5 ms)`);
  console.log(`    client latency minus the first-poll wait: p50 ${ms(quantile(over, 0.5))}, p99 ${ms(quantile(over, 0.99))}`);
  console.log(`    of which the simulator's submit+poll round trips, paced the same: p50 ${ms(quantile(rtt, 0.5))}, p99 ${ms(quantile(rtt, 0.99))}`);
  await stop(w.child);
  await stop(sim.child);
}

async function benchHealth() {
  if (!wrkAvailable()) return;
  const sim = await simulator();
  const w = await worker(sim);
  const bare = await bareServer();
  await wrk(bare.url + "/", { seconds: 2 }); // warm-up both
  await wrk(w.url + "/health/ready", { seconds: 2 });
  // Interleaved rounds, median of each: this machine's throughput drifts by a third from one
  // second to the next, so only side-by-side figures are worth comparing.
  const rounds = { bare: [], live: [], ready: [] };
  const targets = { bare: bare.url + "/", live: w.url + "/health/live", ready: w.url + "/health/ready" };
  for (let i = 0; i < 5; i++) for (const k of Object.keys(rounds)) rounds[k].push(await wrk(targets[k], { seconds: 3 }));
  const median = (k) => {
    const sorted = [...rounds[k]].sort((a, b) => a.rps - b.rps);
    return sorted[2];
  };
  const b = median("bare");
  const live = median("live");
  const ready = median("ready");
  console.log(`  wrk -t2 -c32, 5 interleaved rounds of 3 s, medians (2 CPUs shared by wrk and the server):`);
  console.log(`    bare node:http       ${b.rps.toFixed(0)} req/s, p99 ${ms(b.p99Ms)}`);
  console.log(`    /health/live         ${live.rps.toFixed(0)} req/s, p99 ${ms(live.p99Ms)}, ${(live.rps / b.rps).toFixed(2)} of bare (target 0.95)`);
  console.log(`    /health/ready        ${ready.rps.toFixed(0)} req/s, p99 ${ms(ready.p99Ms)}, ${(ready.rps / b.rps).toFixed(2)} of bare (target 0.92)`);
  await stop(w.child);

  // Everything upstream hangs: the balance check times out over and over, submits hang.
  const w2 = await worker(sim, ["--balance-ttl", "2s", "--check-timeout", "1s"]);
  await http("POST", sim.url + "__sim/faults", { body: { endpoint: "all", hang: true } });
  for (let i = 0; i < 50; i++) await http("POST", w2.url + "/v1/tasks", { body: { type: "image", image: PNG } });
  const hung = await paced(w2.url + "/health/ready", 500, 10);
  await http("DELETE", sim.url + "__sim/faults");
  const calm = await paced(w2.url + "/health/ready", 500, 10);
  const floor = await paced(bare.url + "/", 500, 10);
  const p99 = (r) => ms(quantile(r.latencies, 0.99));
  console.log(`    /health/ready at 500 probes/s for 10 s while the simulator hangs every request (balance TTL 2 s, check timeout 1 s, 50 submits hanging):`);
  console.log(`      p99 ${p99(hung)} (target < 5 ms), max ${ms(hung.latencies.at(-1))}, statuses ${JSON.stringify(hung.statuses)}`);
  console.log(`      the same probes once the fault is cleared: p99 ${p99(calm)}; the bare server at the same rate: p99 ${p99(floor)}`);
  await stop(w2.child);
  await stop(bare.child);
  await stop(sim.child);
}

async function benchMetrics() {
  const sim = await simulator(["--solve-time", "50ms"]);
  const w = await worker(sim, ["--first-poll", "50ms", "--poll-interval", "50ms"]);
  // Fill the histograms and counters with real traffic first.
  await Promise.all(Array.from({ length: 100 }, () => http("POST", w.url + "/v1/tasks", { body: { type: "image", image: PNG }, headers: { prefer: "wait=30" } })));
  const size = (await http("GET", w.url + "/metrics")).text.length;
  if (wrkAvailable()) {
    const m = await wrk(w.url + "/metrics");
    console.log(`  /metrics (${(size / 1024).toFixed(1)} KiB): ${m.rps.toFixed(0)} scrapes/s, p99 ${ms(m.p99Ms)} (wrk -c32)`);
  }
  const quiet = await paced(w.url + "/health/ready", 200, 10);
  const scraper = paced(w.url + "/metrics", 20, 10);
  const loaded = await paced(w.url + "/health/ready", 200, 10);
  await scraper;
  console.log(`  /health/ready at 200 probes/s: p99 ${ms(quantile(quiet.latencies, 0.99))} alone, ${ms(quantile(loaded.latencies, 0.99))} while scraped 20 times a second`);
  await stop(w.child);
  await stop(sim.child);
}

async function benchBalance() {
  const seconds = Number(process.env.BALANCE_SECONDS ?? 60);
  const sim = await simulator();
  const w = await worker(sim, ["--balance-ttl", "10s"]);
  const before = (await sim.counts()).requests["res.php:getbalance"] ?? 0;
  const r = await paced(w.url + "/health/ready", 500, seconds);
  const calls = ((await sim.counts()).requests["res.php:getbalance"] ?? 0) - before;
  console.log(
    `  ${r.latencies.length} readiness probes over ${seconds} s (500/s), balance TTL 10 s: ${calls} getbalance calls (one per TTL would be ${Math.ceil(seconds / 10)}), probe p99 ${ms(quantile(r.latencies, 0.99))}, statuses ${JSON.stringify(r.statuses)}`,
  );
  await stop(w.child);
  await stop(sim.child);
}

async function benchJournal() {
  const { mkdtempSync, rmSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const sim = await simulator(["--solve-time", "60s"]);
  const acceptRate = async (extra) => {
    const w = await worker(sim, ["--threads", "10", "--queue-max", "100000", ...extra]);
    const n = 3000;
    const concurrency = 64;
    let next = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next++ < n) {
          const r = await http("POST", w.url + "/v1/tasks", { body: { type: "image", image: PNG } });
          if (r.status !== 202) throw new Error(`POST answered ${r.status}: ${r.text}`);
        }
      }),
    );
    const rate = n / ((performance.now() - t0) / 1000);
    await stop(w.child);
    return rate;
  };
  const dir = mkdtempSync(tmpdir() + "/cw-bench-journal-");
  try {
    const plain = await acceptRate([]);
    const journaled = await acceptRate(["--state-dir", dir]);
    console.log(`  3,000 POST /v1/tasks, 64 at a time: ${plain.toFixed(0)} accepted/s without a journal, ${journaled.toFixed(0)}/s with --state-dir (fsync before each 202, group commits), ${(journaled / plain).toFixed(2)} of it`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await stop(sim.child);
  }
}

/**
 * Issue 18's table in one run: each figure of the worker beside the bare node:http server (same
 * runtime) and the floor, a bare single executable built the same way that only answers
 * /health/live (scripts/bench_floor.mjs); interleaved rounds, medians.
 */
async function benchFigures() {
  if (!wrkAvailable()) return;
  const floorBin = await buildFloor();
  const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const rss = (pid) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))[1]) / 1024;

  // Start: exec to the first 200 on /health/live, worker and floor interleaved, 5 each.
  const start = { worker: [], floor: [] };
  for (let i = 0; i < 5; i++) {
    start.worker.push(await measureStartup([], {}, BIN));
    start.floor.push(await measureStartup([], {}, floorBin));
  }

  const sim = await simulator();
  // Idle RSS: 5 fresh workers (http upstream, no --state-dir), each read 1 s after it is ready; the median.
  const idleStarts = [];
  for (let i = 0; i < 5; i++) {
    const idleWorker = await worker(sim);
    await new Promise((r) => setTimeout(r, 1000));
    idleStarts.push(rss(idleWorker.child.pid));
    await stop(idleWorker.child);
  }
  const w = await worker(sim);
  const bare = await bareServer();
  const port = await freePort();
  const floor = { child: start_(floorBin, port), url: `http://127.0.0.1:${port}` };
  await until("floor", async () => (await http("GET", floor.url + "/health/live")).status === 200);
  await new Promise((r) => setTimeout(r, 1000));
  const idle = { worker: med(idleStarts), bare: rss(bare.child.pid), floor: rss(floor.child.pid) };

  // Throughput: wrk -t1 -c32, 5 interleaved rounds of 3 s. With taskset and 2 CPUs or more, every
  // server runs on CPU 0 and wrk on CPU 1: unpinned, the two fought over both CPUs and a ratio moved
  // by a fifth from one run to the next.
  const pinned = spawnSync("sh", ["-c", "command -v taskset"]).status === 0 && (await import("node:os")).cpus().length >= 2;
  if (pinned) for (const c of [w.child, bare.child, floor.child]) spawnSync("taskset", ["-a", "-p", "-c", "0", String(c.pid)], { stdio: "ignore" });
  const cpu = pinned ? 1 : undefined;
  const targets = { bare: bare.url + "/", floor: floor.url + "/health/live", live: w.url + "/health/live", ready: w.url + "/health/ready" };
  for (const url of Object.values(targets)) await wrk(url, { seconds: 1, threads: 1, cpu }); // warm-up
  const rounds = { bare: [], floor: [], live: [], ready: [] };
  for (let i = 0; i < 5; i++) for (const k of Object.keys(rounds)) rounds[k].push((await wrk(targets[k], { seconds: 3, threads: 1, cpu })).rps);
  const rps = Object.fromEntries(Object.entries(rounds).map(([k, v]) => [k, med(v)]));
  // Per-round ratios, then their median: each round's pair ran side by side.
  const ratio = (k, base = "bare") => med(rounds[k].map((x, i) => x / rounds[base][i]));
  await stop(w.child);

  // /health/ready p99 at 500 probes/s while everything upstream hangs; bare and floor paced the same, interleaved.
  const w2 = await worker(sim, ["--balance-ttl", "2s", "--check-timeout", "1s"]);
  await http("POST", sim.url + "__sim/faults", { body: { endpoint: "all", hang: true } });
  for (let i = 0; i < 50; i++) await http("POST", w2.url + "/v1/tasks", { body: { type: "image", image: PNG } });
  const p99 = { hung: [], bare: [], floor: [] };
  for (let i = 0; i < 3; i++) {
    p99.hung.push(quantile((await paced(w2.url + "/health/ready", 500, 4)).latencies, 0.99));
    p99.bare.push(quantile((await paced(bare.url + "/", 500, 4)).latencies, 0.99));
    p99.floor.push(quantile((await paced(floor.url + "/health/live", 500, 4)).latencies, 0.99));
  }
  await http("DELETE", sim.url + "__sim/faults");
  await stop(w2.child);
  await stop(bare.child);
  await stop(floor.child);
  await stop(sim.child);

  const mib = (p) => statSync(p).size / 1024 / 1024;
  const row = (figure, now, target, floorFig) => console.log(`  | ${figure} | ${now} | ${target} | ${floorFig} |`);
  console.log(`  issue 18's figures (worker; floor = bare single executable built the same way, answering only /health/live):`);
  console.log(`  | figure | worker | target | floor |`);
  console.log(`  |---|---|---|---|`);
  row(`\`/health/live\` req/s, ratio to bare (wrk -t1 -c32, median of 5 interleaved rounds${pinned ? ", servers on CPU 0, wrk on CPU 1" : ""})`, `${ratio("live").toFixed(2)} (${rps.live.toFixed(0)}/s vs ${rps.bare.toFixed(0)}/s; ${ratio("live", "floor").toFixed(2)} of the floor's)`, ">= 0.95", `${ratio("floor").toFixed(2)}`);
  row("`/health/ready` req/s, ratio to bare", `${ratio("ready").toFixed(2)} (${rps.ready.toFixed(0)}/s; ${ratio("ready", "floor").toFixed(2)} of the floor's)`, ">= 0.92", `${ratio("floor").toFixed(2)}`);
  row("`/health/ready` p99 at 500 probes/s, upstream hanging (median of 3 rounds of 4 s)", `${ms(med(p99.hung))} (bare ${ms(med(p99.bare))})`, "< 5 ms, within 1 ms of bare", ms(med(p99.floor)));
  row("idle RSS after start (http upstream, 1 s after ready), median of 5 starts", `${idle.worker.toFixed(1)} MB (${idleStarts.map((x) => x.toFixed(1)).join(", ")}; bare node:http ${idle.bare.toFixed(1)} MB)`, "<= 52 MB", `${idle.floor.toFixed(1)} MB`);
  row("start to the first 200 on `/health/live`, median of 5", ms(med(start.worker)), "<= 60 ms", ms(med(start.floor)));
  row("binary size", `${mib(BIN).toFixed(1)} MiB`, "<= 105 MiB", `${mib(floorBin).toFixed(1)} MiB`);
}

/** A child on the floor executable. */
function start_(bin, port) {
  return spawnTracked(bin, ["run", "--listen", `127.0.0.1:${port}`], { stdio: "ignore" });
}

// --- main ---------------------------------------------------------------------------------------

const gateway = () => benchGateway({ simulator, worker, http, raw, stop, quantile, ms, workerMs, PNG });
const keys = () => benchKeys({ simulator, http, start, stop, quantile, ms, freePort, KEY, BIN });
const plan = () => benchPlan({ start, http, stop, freePort, pollUntil, KEY, BIN, PNG });
const SECTIONS = { figures: benchFigures, startup: benchStartup, solve: benchSolve, health: benchHealth, metrics: benchMetrics, balance: benchBalance, journal: benchJournal, gateway, keys, memory: benchMemory, signals: benchSignals, overflow: benchOverflow, plan };
/** Run only when named: they take minutes of real time. */
const EXPLICIT = new Set(["signals", "overflow", "plan"]);
const chosen = process.argv.slice(2);
for (const name of chosen) if (!(name in SECTIONS)) throw new Error(`unknown section ${name}; one of ${Object.keys(SECTIONS).join(", ")}`);
const newestSource = () => Math.max(...readdirSync(ROOT + "src", { recursive: true }).map((f) => statSync(ROOT + "src/" + f).mtimeMs));
if (!process.env.BENCH_BIN && (!existsSync(BIN) || statSync(BIN).mtimeMs < newestSource())) {
  const r = spawnSync(process.execPath, [ROOT + "build.mjs"], { stdio: "inherit" });
  if (r.status !== 0) process.exit(1);
}
console.log(`captcha-worker bench on Node ${process.version}, ${(await import("node:os")).cpus().length} CPUs`);
try {
  for (const [name, fn] of Object.entries(SECTIONS)) {
    if (chosen.length ? !chosen.includes(name) : EXPLICIT.has(name)) continue;
    console.log(`\n${name}`);
    await fn();
  }
} finally {
  agent.destroy();
}
