// npm run bench -- signals (not in the default run: about ten minutes): how honest readiness is, measured in real time on the built executable
// against the built-in simulator (issue "Honest signals"). Per fault: a fresh simulator and worker,
// image tasks posted at 2/s, /health/ready polled every 100 ms (1 s timeout), the fault held
// FAULT_S seconds then cleared; prints time to the first 503, 200->503 changes during the fault,
// time back to a steady 200 after the clear, and whether liveness and the queue stayed sane.
// SIGNALS_ROWS=hang,http500 picks rows; SIGNALS_FAULT_S=30 sets the hold.
import { Agent, request } from "node:http";
import { freePort, pollUntil } from "../test/_support/net.ts";
import { killAll, spawnTracked, stop } from "./bench_children.mjs";

const ROOT = new URL("../", import.meta.url).pathname;
const BIN = ROOT + "dist/captcha-worker";
const KEY = "signals-key-0123456789abcdef0123";
/** A real 16x16 grey PNG of 117 bytes: the simulator, as CaptchaAI, refuses images under 100 bytes and files that are no jpg, png or gif. */
const PNG = "iVBORw0KGgoAAAANSUhEUgAAABAAAAAQCAAAAAA6mKC9AAAAIXRFWHRDb21tZW50AGNhcHRjaGEtd29ya2VyIHRlc3QgaW1hZ2VuB5snAAAAD0lEQVR4nGNoQAMMI1sAAAUMgAFaSOXNAAAAAElFTkSuQmCC";
const FAULT_S = Number(process.env.SIGNALS_FAULT_S ?? 30);
const AFTER_S = Number(process.env.SIGNALS_AFTER_S ?? 30);
const agent = new Agent({ keepAlive: true, maxSockets: 64 });

/** The thresholds of the measurement: short windows, the default counts and money (10 failures, $1.00). */
const THRESHOLDS = [
  "--max-consecutive-failures", "10", "--max-seconds-without-solve", "10s", "--min-balance", "1.0",
  "--balance-ttl", "2s", "--error-window", "30s", "--first-poll", "500ms", "--poll-interval", "500ms",
  "--max-queue-wait", "10s",
];

function http(method, url, { body, timeoutMs = 1000 } = {}) {
  return new Promise((resolve) => {
    const text = body === undefined ? undefined : JSON.stringify(body);
    const req = request(url, { method, agent, timeout: timeoutMs, headers: text ? { "content-type": "application/json" } : {} }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode, text: Buffer.concat(chunks).toString() }));
      res.on("error", () => resolve({ status: 0, text: "" }));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", () => resolve({ status: 0, text: "" }));
    req.end(text);
  });
}

const delay = (ms) => new Promise((r) => setTimeout(r, ms));

const until = (what, fn) => pollUntil(what, fn, { timeoutMs: 20_000, intervalMs: 50 });

function start(args, env = {}) {
  return spawnTracked(BIN, args, { env: { PATH: process.env.PATH, ...env }, stdio: ["ignore", "ignore", "ignore"] });
}

async function simulator() {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/`;
  const child = start(["simulate", "--listen", `127.0.0.1:${port}`, "--key", KEY, "--balance", "10", "--threads", "1000", "--solve-time", "image=1s,token=2s", "--log-level", "error"]);
  await until("simulator", async () => (await http("GET", url + "__sim/state")).status === 200);
  const control = (method, path, body) => http(method, url + "__sim/" + path, { body });
  return { child, url, control };
}

async function worker(upstream, extra = []) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = start(["run", "--listen", `127.0.0.1:${port}`, "--upstream", upstream, "--log-level", "error", ...THRESHOLDS, ...extra], { CAPTCHAAI_API_KEY: KEY });
  await until("worker startup", async () => (await http("GET", url + "/health/startup")).status === 200);
  return { child, url };
}

/** The rows of the table: how to apply and clear each fault. */
const ROWS = [
  { name: "hang", apply: (s) => s.control("POST", "faults", { endpoint: "all", hang: true }), clear: (s) => s.control("DELETE", "faults") },
  { name: "http500", apply: (s) => s.control("POST", "faults", { endpoint: "all", status: 500 }), clear: (s) => s.control("DELETE", "faults") },
  { name: "html", apply: (s) => s.control("POST", "faults", { endpoint: "all", html: true, status: 502 }), clear: (s) => s.control("DELETE", "faults") },
  { name: "zero_balance", apply: (s) => s.control("POST", "balance", { balance: 0 }), clear: (s) => s.control("POST", "balance", { balance: 10 }) },
  { name: "key_revoked", apply: (s) => s.control("POST", "faults", { endpoint: "all", error: "ERROR_KEY_DOES_NOT_EXIST" }), clear: (s) => s.control("DELETE", "faults") },
  { name: "unsolvable", apply: (s) => s.control("POST", "unsolvable", { ratio: 1 }), clear: (s) => s.control("POST", "unsolvable", { ratio: 0 }) },
  { name: "latency_3s", apply: (s) => s.control("POST", "faults", { endpoint: "all", latency_ms: 3000 }), clear: (s) => s.control("DELETE", "faults") },
  { name: "idle", idle: true },
  { name: "hang_default_window", extra: ["--max-seconds-without-solve", "600s"], apply: (s) => s.control("POST", "faults", { endpoint: "all", hang: true }), clear: (s) => s.control("DELETE", "faults") },
  { name: "unreachable_at_start", unreachable: true },
];

async function runRow(row) {
  const sim = row.unreachable ? undefined : await simulator();
  const upstream = row.unreachable ? `http://127.0.0.1:${await freePort()}/` : sim.url;
  const w = await worker(upstream, row.extra ?? []);
  const samples = [];
  let healthWarnAt;
  let liveFailures = 0;
  let minQueue = Infinity;
  let posting = true;
  let running = true;
  const t0 = performance.now();
  const now = () => (performance.now() - t0) / 1000;
  const poller = (async () => {
    while (running) {
      const at = now();
      const r = await http("GET", w.url + "/health/ready");
      samples.push({ at, status: r.status });
      try {
        const q = JSON.parse(r.text).stats?.queue_depth;
        if (typeof q === "number") minQueue = Math.min(minQueue, q);
      } catch {}
      if ((await http("GET", w.url + "/health/live")).status !== 200) liveFailures++;
      if (healthWarnAt === undefined) {
        const h = await http("GET", w.url + "/health");
        try {
          if (JSON.parse(h.text).status === "warn" && at > 5) healthWarnAt = at;
        } catch {}
      }
      await delay(Math.max(0, 100 - (now() - at) * 1000));
    }
  })();
  const poster = (async () => {
    while (running) {
      if (posting) void http("POST", w.url + "/v1/tasks", { body: { type: "image", image: PNG }, timeoutMs: 5000 });
      await delay(500);
    }
  })();

  const warm = 5;
  let faultAt = warm;
  let clearAt = warm + FAULT_S;
  if (row.idle) {
    await delay(warm * 1000);
    posting = false; // an idle spell longer than the 10 s no-solve window, then work again
    await delay(15_000);
    faultAt = now();
    posting = true;
    await delay(15_000);
    clearAt = faultAt;
  } else if (row.unreachable) {
    faultAt = 0;
    await delay(15_000);
    clearAt = Infinity;
  } else {
    await delay(warm * 1000);
    faultAt = now();
    await row.apply(sim);
    await delay(FAULT_S * 1000);
    clearAt = now();
    await row.clear(sim);
    await delay(AFTER_S * 1000);
  }
  running = false;
  await Promise.all([poller, poster]);
  await stop(w.child, "SIGKILL");
  if (sim) await stop(sim.child, "SIGKILL");

  const during = samples.filter((s) => s.at >= faultAt && s.at < clearAt);
  const first503 = during.find((s) => s.status !== 200);
  let flips = 0;
  for (let i = 1; i < during.length; i++) if (during[i - 1].status === 200 && during[i].status !== 200) flips++;
  if (during.length && during[0].status !== 200 && samples.filter((s) => s.at < faultAt).at(-1)?.status === 200) flips++;
  const after = samples.filter((s) => s.at >= clearAt);
  const lastBad = after.findLast((s) => s.status !== 200);
  const steady = after.length === 0 ? undefined : lastBad === undefined ? 0 : lastBad === after.at(-1) ? Infinity : lastBad.at - clearAt + 0.1;
  const any503 = samples.some((s) => s.at >= faultAt && s.status !== 200);
  return {
    fault: row.name,
    to503: first503 ? (first503.at - faultAt).toFixed(1) + " s" : "never",
    flips,
    backTo200: row.unreachable ? "-" : steady === undefined ? "-" : steady === Infinity ? "never" : steady.toFixed(1) + " s",
    any503,
    healthWarn: healthWarnAt === undefined ? "-" : (healthWarnAt - faultAt).toFixed(1) + " s",
    liveFailures,
    minQueue: minQueue === Infinity ? "-" : minQueue,
  };
}

/** Runs the rows (SIGNALS_ROWS picks some) and prints the table. */
export async function benchSignals() {
  const chosen = (process.env.SIGNALS_ROWS ?? "").split(",").filter(Boolean);
  const rows = chosen.length ? ROWS.filter((r) => chosen.includes(r.name)) : ROWS;
  console.log(`  fault held ${FAULT_S} s, observed ${AFTER_S} s after the clear; thresholds ${THRESHOLDS.join(" ")}`);
  console.log("| fault | time to 503 | 200->503 changes during the fault | back to steady 200 after the clear | /health warn | liveness failures | min queue depth |");
  console.log("|---|---|---|---|---|---|---|");
  try {
    for (const row of rows) {
      const r = await runRow(row);
      console.log(`| ${r.fault} | ${r.to503} | ${r.flips} | ${r.backTo200} | ${r.healthWarn} | ${r.liveFailures} | ${r.minQueue} |`);
    }
  } finally {
    killAll();
    agent.destroy();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchSignals();
