// Peak RSS (VmHWM) of the built worker under the loads of docs/sizing-and-performance.md, Sizing, each on a fresh process
// with the default budgets: idle; 3,000 slow-body connections; 4,000 connections sending headers
// slowly; 3,000 concurrent posts; 4,000 clients waiting on their tasks; a flood of 2 MB bodies;
// 10,000 solutions of 60 KB (without and with --state-dir). Each row also says what was refused and
// whether the worker was still alive after it (nothing a client sends may crash it). Run: npm run
// bench -- memory (or node this file; MEMORY_LOADS=flood2mb,... picks loads, MEMORY_RUNS=N runs each
// N times and reports the highest peak and the median, MEMORY_CONTAINER_MIB=512 has V8 size its heap
// as in a container of that size, MEMORY_WORKER_ARGS and MEMORY_NODE_OPTIONS go to the worker,
// BENCH_BIN measures another build).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Agent } from "node:http";
import { connect } from "node:net";
import { crc32 } from "node:zlib";
import { freePort, pollUntil } from "../test/_support/net.ts";
import { spawnTracked, stop } from "./bench_children.mjs";
import { http } from "./bench_http.mjs";

const BIN = process.env.BENCH_BIN ?? new URL("../dist/captcha-worker", import.meta.url).pathname;
/** The container the defaults are sized for (docs/sizing-and-performance.md, Sizing). */
const CEILING_MIB = 512;
const KEY = "bench-memory-key-0123456789abcde";
function start(args, env = {}) {
  return spawnTracked(BIN, args, { env: { PATH: process.env.PATH, ...env }, stdio: ["ignore", "ignore", "inherit"] });
}

/**
 * MEMORY_CONTAINER_MIB=512: the worker sizes V8's heap as in a container with that memory limit.
 * Node configures V8 from the cgroup limit libuv reads (uv_get_constrained_memory); here the worker
 * runs in a private mount namespace (unshare -m, root) where the cgroup v1 `memory.limit_in_bytes`
 * file reads that limit. Nothing is limited (RSS is still measured, never capped): V8 only believes it.
 */
const CONTAINER_MIB = Number(process.env.MEMORY_CONTAINER_MIB ?? 0);
function startWorker(args, env) {
  if (!CONTAINER_MIB) return start(args, env);
  const dir = mkdtempSync(join(tmpdir(), "bench-memory-limit-"));
  const limitFile = join(dir, "memory.limit_in_bytes");
  writeFileSync(limitFile, `${CONTAINER_MIB * 1024 * 1024}\n`);
  const cgroup = /^\d+:memory:(.*)$/m.exec(readFileSync("/proc/self/cgroup", "utf8"))?.[1];
  if (cgroup === undefined) throw new Error("MEMORY_CONTAINER_MIB needs a cgroup v1 memory controller");
  const script = 'mount --bind "$1" "/sys/fs/cgroup/memory$2/memory.limit_in_bytes" && shift 2 && exec "$@"';
  const child = spawnTracked("unshare", ["-m", "sh", "-c", script, "sh", limitFile, cgroup, BIN, ...args], { env: { PATH: process.env.PATH, ...env }, stdio: ["ignore", "ignore", "inherit"] });
  child.on("exit", () => rmSync(dir, { recursive: true, force: true }));
  return child;
}


const peakMb = (pid) => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))[1]) / 1024;
const agent = new Agent({ keepAlive: true, maxSockets: Infinity });

async function simulator(extra) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/`;
  const child = start(["simulate", "--listen", `127.0.0.1:${port}`, "--key", KEY, "--balance", "1000000", "--threads", "100000", "--seed", "1", "--log-level", "error", ...extra]);
  await pollUntil("simulator", async () => (await http(agent, "GET", url + "__sim/state")).status === 200, { timeoutMs: 20_000, intervalMs: 50 });
  return { child, url };
}

async function worker(sim, extra = []) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = startWorker(["run", "--listen", `127.0.0.1:${port}`, "--upstream", sim.url, "--log-level", "error", "--queue-max", "100000", ...extra, ...(process.env.MEMORY_WORKER_ARGS?.split(" ").filter(Boolean) ?? [])], {
    CAPTCHAAI_API_KEY: KEY,
    // MEMORY_NODE_OPTIONS (e.g. --max-old-space-size=448), the worker's only: how much of a peak is garbage V8 had not yet collected.
    ...(process.env.MEMORY_NODE_OPTIONS ? { NODE_OPTIONS: process.env.MEMORY_NODE_OPTIONS } : {}),
  });
  await pollUntil("worker ready", async () => (await http(agent, "GET", url + "/health/ready")).status === 200, { timeoutMs: 20_000, intervalMs: 50 });
  return { child, url, port };
}

/** Runs `load` against a fresh worker (and simulator) and returns the worker's peak RSS in MiB. */
/** Runs `load` against a fresh worker (and simulator): the worker's peak RSS in MiB, and whether it survived. */
async function measure(simArgs, workerArgs, load) {
  const sim = await simulator(simArgs);
  const w = await worker(sim, workerArgs);
  // Read as it goes too: a worker that dies under the load takes its /proc entry with it.
  let peak = peakMb(w.child.pid);
  const watch = setInterval(() => {
    try {
      peak = peakMb(w.child.pid);
    } catch {}
  }, 100);
  try {
    const note = await load(w);
    try {
      peak = peakMb(w.child.pid);
    } catch {}
    const live = w.child.exitCode === null && w.child.signalCode === null && (await http(agent, "GET", w.url + "/health/live")).status === 200;
    return { peak, note: `${note}; ${live ? "alive after" : `CRASHED (exit ${w.child.exitCode ?? w.child.signalCode})`}` };
  } finally {
    clearInterval(watch);
    await stop(w.child);
    await stop(sim.child);
  }
}

/** Counts answers by status (and problem code, when one came back). */
function tally(statuses, r) {
  let code = "";
  try {
    code = r.status >= 400 ? ` ${JSON.parse(r.text).code}` : "";
  } catch {}
  const key = `${r.status}${code}`;
  statuses[key] = (statuses[key] ?? 0) + 1;
}

/** Opens `n` raw connections, `perTick` at a time (a burst of thousands overflows the listen backlog). */
async function openSockets(port, n, first) {
  const sockets = [];
  for (let i = 0; i < n; i++) {
    const s = connect(port, "127.0.0.1");
    s.on("error", () => {});
    s.write(first);
    sockets.push(s);
    if (i % 500 === 499) await new Promise((r) => setTimeout(r, 20));
  }
  return sockets;
}


/** A 1x1 PNG without its IEND chunk, and IEND: a tEXt chunk goes between them. */
const PNG_1X1 = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGNoAAAAggCBd81ytgAAAABJRU5ErkJggg==", "base64");

/**
 * A real PNG of about `bytes` base64 characters, distinct per `seed`: the 1x1 image with a tEXt
 * comment (the seed, then padding), as the simulator, like CaptchaAI, refuses files that are no jpg,
 * png or gif.
 */
const image = (bytes, seed) => {
  const text = Buffer.alloc(Math.max(16, Math.floor((bytes * 3) / 4) - PNG_1X1.length - 12), seed % 251);
  text.write(`Comment\0${seed}:`, 0, "latin1");
  const head = Buffer.alloc(8);
  head.writeUInt32BE(text.length, 0);
  head.write("tEXt", 4, "latin1");
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), text])), 0);
  const png = Buffer.concat([PNG_1X1.subarray(0, -12), head, text, crc, PNG_1X1.subarray(-12)]);
  return { type: "image", image: png.toString("base64") };
};

async function inParallel(n, concurrency, fn) {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < n) await fn(next++);
  }));
}

const loads = {
  async idle() {
    return measure([], [], async () => {
      await new Promise((r) => setTimeout(r, 1000));
      return "started, ready, no tasks";
    });
  },
  async slowBodies() {
    return measure([], [], async (w) => {
      const sockets = await openSockets(w.port, 3000, `POST /v1/tasks HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 2097152\r\n\r\n{"type":"image","image":"`);
      const answers = sockets.map((s) => {
        const got = { text: "" };
        s.on("data", (c) => (got.text += c));
        return got;
      });
      // Trickle 64 KiB into each, 8 KiB at a time, as a slow client would.
      const chunk = "A".repeat(8192);
      for (let round = 0; round < 8; round++) {
        for (const s of sockets) if (!s.destroyed) s.write(chunk);
        await new Promise((r) => setTimeout(r, 250));
      }
      await new Promise((r) => setTimeout(r, 500));
      const busy = answers.filter((a) => a.text.startsWith("HTTP/1.1 503") && a.text.includes("ERR_BUSY")).length;
      // A client still writing when the worker closes may get a reset that drops the answer it had not read.
      const closed = sockets.filter((s) => s.destroyed || s.readableEnded).length;
      for (const s of sockets) s.destroy();
      return `3,000 connections declaring 2 MiB bodies, 64 KiB sent each; ${closed} closed by the worker, ${busy} of them read its 503 ERR_BUSY`;
    });
  },
  async slowHeaders() {
    return measure([], [], async (w) => {
      // Each connection sends 7 KB of headers (under the 8 KiB limit), 1 KB a round, never ending them.
      const sockets = await openSockets(w.port, 4000, "GET /v1/tasks/1 HTTP/1.1\r\nhost: x\r\n");
      for (let round = 0; round < 7; round++) {
        const line = `x-pad-${round}: ${"h".repeat(990)}\r\n`;
        for (const s of sockets) if (!s.destroyed) s.write(line);
        await new Promise((r) => setTimeout(r, 250));
      }
      const open = sockets.filter((s) => !s.destroyed && !s.readableEnded).length;
      for (const s of sockets) s.destroy();
      return `4,000 connections, 7 KB of headers each sent slowly, never ended (${open} still open)`;
    });
  },
  async waiters() {
    return measure(["--solve-time", "60s"], [], async (w) => {
      const statuses = {};
      // A connection per client: 4,000 sockets (the server takes 4,096), each waiting 10 s on its task.
      const a = new Agent({ keepAlive: false, maxSockets: Infinity });
      let i = 0;
      await Promise.all(Array.from({ length: 4000 }, async () => {
        const n = i++;
        if (n % 500 === 499) await new Promise((r) => setTimeout(r, 20 * Math.floor(n / 500)));
        tally(statuses, await http(a, "POST", w.url + "/v1/tasks?wait=10", image(2048, n)));
      }));
      a.destroy();
      return `4,000 clients, each on its own connection, posting a 2 KB image and waiting 10 s on it: ${JSON.stringify(statuses)}`;
    });
  },
  async concurrentPosts() {
    return measure(["--solve-time", "60s"], [], async (w) => {
      const statuses = {};
      const a = new Agent({ keepAlive: true, maxSockets: Infinity });
      await Promise.all(Array.from({ length: 3000 }, async (_, i) => {
        tally(statuses, await http(a, "POST", w.url + "/v1/tasks", image(2048, i)));
      }));
      a.destroy();
      return `3,000 POSTs of 2 KB images at once: ${JSON.stringify(statuses)}`;
    });
  },
  async flood2mb() {
    return measure(["--solve-time", "60s"], [], async (w) => {
      const statuses = {};
      const body = (i) => JSON.stringify(image(2_000_000, i));
      await inParallel(400, 64, async (i) => {
        tally(statuses, await http(agent, "POST", w.url + "/v1/tasks", body(i)));
      });
      return `400 POSTs of 2 MB images, 64 at a time: ${JSON.stringify(statuses)}`;
    });
  },
  longSolutions: () => longSolutions([]),
  longSolutionsStateDir: async () => {
    const dir = mkdtempSync(join(tmpdir(), "bench-memory-"));
    try {
      return await longSolutions(["--state-dir", dir], "; --state-dir");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

function longSolutions(extra, label = "") {
  return measure(["--solve-time", "0s", "--answer-length", "60000"], ["--threads", "50", "--first-poll", "0s", "--poll-interval", "10ms", ...extra], async (w) => {
    let solved = 0;
    await inParallel(10_000, 200, async (i) => {
      const r = await http(agent, "POST", w.url + "/v1/tasks?wait=60", image(200, i));
      if (r.status === 200 && JSON.parse(r.text).status === "solved") solved++;
    });
    return `10,000 tasks solved with 60 KB answers${label} (${solved} solved)`;
  });
}

export async function benchMemory() {
  const rows = [];
  const only = process.env.MEMORY_LOADS?.split(",");
  const runs = Number(process.env.MEMORY_RUNS ?? 1);
  for (const [name, fn] of Object.entries(loads)) {
    if (only && !only.includes(name)) continue;
    const peaks = [];
    let note = "";
    for (let r = 0; r < runs; r++) {
      const run = await fn();
      peaks[r] = run.peak;
      if (!note.includes("CRASHED")) note = run.note; // a crash in any run is what the row says
    }
    const sorted = [...peaks].sort((a, b) => a - b);
    const peak = sorted.at(-1);
    rows.push([name, peak, note]);
    const spread = runs > 1 ? ` (median ${sorted[Math.floor(runs / 2)].toFixed(0)} of ${runs}: ${peaks.map((p) => p.toFixed(0)).join(", ")})` : "";
    console.log(`  ${name.padEnd(21)} peak RSS ${peak.toFixed(0).padStart(5)} MiB${spread}  (${note})`);
  }
  const over = rows.filter(([, peak]) => peak >= CEILING_MIB).map(([name]) => name);
  const crashed = rows.filter(([, , note]) => note.includes("CRASHED")).map(([name]) => name);
  console.log(over.length ? `  over ${CEILING_MIB} MiB: ${over.join(", ")}` : `  every load under ${CEILING_MIB} MiB`);
  if (crashed.length) console.log(`  the worker crashed under: ${crashed.join(", ")}`);
  agent.destroy();
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) await benchMemory();
