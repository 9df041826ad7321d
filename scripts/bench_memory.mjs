// Peak RSS (VmHWM) of the built worker under the loads of issue 14 finding 8, each on a fresh
// process with the default budgets: idle; 3,000 slow-body connections; 3,000 concurrent posts; a
// flood of 2 MB bodies; 10,000 solutions of 60 KB. Run: npm run bench -- memory (or node this file;
// MEMORY_LOADS=flood2mb,... picks loads, MEMORY_WORKER_ARGS and MEMORY_NODE_OPTIONS go to the worker).
import { readFileSync } from "node:fs";
import { Agent, request } from "node:http";
import { connect } from "node:net";
import { crc32 } from "node:zlib";
import { freePort, pollUntil } from "../test/_support/net.ts";
import { spawnTracked, stop } from "./bench_children.mjs";

const BIN = new URL("../dist/captcha-worker", import.meta.url).pathname;
const KEY = "bench-memory-key-0123456789abcde";
function start(args, env = {}) {
  return spawnTracked(BIN, args, { env: { PATH: process.env.PATH, ...env }, stdio: ["ignore", "ignore", "inherit"] });
}

function http(agent, method, url, body) {
  return new Promise((resolve) => {
    const text = body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body);
    const req = request(url, { method, agent, headers: text ? { "content-type": "application/json" } : {} }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode, text: Buffer.concat(chunks).toString() }));
    });
    req.on("error", () => resolve({ status: 0, text: "" }));
    req.end(text);
  });
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
  const child = start(["run", "--listen", `127.0.0.1:${port}`, "--upstream", sim.url, "--log-level", "error", "--queue-max", "100000", ...extra, ...(process.env.MEMORY_WORKER_ARGS?.split(" ").filter(Boolean) ?? [])], {
    CAPTCHAAI_API_KEY: KEY,
    // MEMORY_NODE_OPTIONS (e.g. --max-old-space-size=448), the worker's only: how much of a peak is garbage V8 had not yet collected.
    ...(process.env.MEMORY_NODE_OPTIONS ? { NODE_OPTIONS: process.env.MEMORY_NODE_OPTIONS } : {}),
  });
  await pollUntil("worker ready", async () => (await http(agent, "GET", url + "/health/ready")).status === 200, { timeoutMs: 20_000, intervalMs: 50 });
  return { child, url, port };
}

/** Runs `load` against a fresh worker (and simulator) and returns the worker's peak RSS in MiB. */
async function measure(simArgs, workerArgs, load) {
  const sim = await simulator(simArgs);
  const w = await worker(sim, workerArgs);
  try {
    const note = await load(w);
    return { peak: peakMb(w.child.pid), note };
  } finally {
    await stop(w.child);
    await stop(sim.child);
  }
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
      const sockets = [];
      for (let i = 0; i < 3000; i++) {
        const s = connect(w.port, "127.0.0.1");
        s.on("error", () => {});
        s.write(`POST /v1/tasks HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 2097152\r\n\r\n{"type":"image","image":"`);
        sockets.push(s);
      }
      // Trickle 64 KiB into each, 8 KiB at a time, as a slow client would.
      const chunk = "A".repeat(8192);
      for (let round = 0; round < 8; round++) {
        for (const s of sockets) if (!s.destroyed) s.write(chunk);
        await new Promise((r) => setTimeout(r, 250));
      }
      const refused = sockets.filter((s) => s.destroyed || s.readableEnded).length;
      for (const s of sockets) s.destroy();
      return `3,000 connections declaring 2 MiB bodies, 64 KiB sent each; ${refused} answered 503 ERR_BUSY and closed`;
    });
  },
  async concurrentPosts() {
    return measure(["--solve-time", "60s"], [], async (w) => {
      const statuses = {};
      const a = new Agent({ keepAlive: true, maxSockets: Infinity });
      await Promise.all(Array.from({ length: 3000 }, async (_, i) => {
        const r = await http(a, "POST", w.url + "/v1/tasks", image(2048, i));
        statuses[r.status] = (statuses[r.status] ?? 0) + 1;
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
        const r = await http(agent, "POST", w.url + "/v1/tasks", body(i));
        statuses[r.status] = (statuses[r.status] ?? 0) + 1;
      });
      return `400 POSTs of 2 MB images, 64 at a time: ${JSON.stringify(statuses)}`;
    });
  },
  async longSolutions() {
    return measure(["--solve-time", "0s", "--answer-length", "60000"], ["--threads", "50", "--first-poll", "0s", "--poll-interval", "10ms"], async (w) => {
      let solved = 0;
      await inParallel(10_000, 200, async (i) => {
        const r = await http(agent, "POST", w.url + "/v1/tasks?wait=60", image(200, i));
        if (r.status === 200 && JSON.parse(r.text).status === "solved") solved++;
      });
      return `10,000 tasks solved with 60 KB answers (${solved} solved)`;
    });
  },
};

export async function benchMemory() {
  const rows = [];
  const only = process.env.MEMORY_LOADS?.split(",");
  for (const [name, fn] of Object.entries(loads)) {
    if (only && !only.includes(name)) continue;
    const { peak, note } = await fn();
    rows.push([name, peak, note]);
    console.log(`  ${name.padEnd(16)} peak RSS ${peak.toFixed(0).padStart(5)} MiB  (${note})`);
  }
  agent.destroy();
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) await benchMemory();
