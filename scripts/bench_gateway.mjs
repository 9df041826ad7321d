// npm run bench -- gateway: the drop-in gateway against /v1/tasks and against a bare node:http
// server in the same run, on one worker (the built executable, --client-keys-file) and the built-in
// simulator: submits per second (POST /v1/tasks, in.php form, createTask JSON) for an image task
// and for a Turnstile task with a proxy (the catalogue's proxy and user-agent path), reads per
// second (GET /v1/tasks/:id, res.php get, getTaskResult), the worker's CPU time per task from its
// submit to its end through each API (from /proc: steadier than throughput on a shared machine),
// and the worker's own time per task (Server-Timing `worker`, read through /v1/tasks for gateway
// tasks: one id scheme) for tasks arriving steadily through each API. The bare server is started
// by the same Node runtime, reads each request's body and answers a small JSON with its length:
// the floor any HTTP API on this machine stands on. Targets take turns within each round; ratios
// are the median of the per-round ratios (each round's pair ran side by side, so the machine's
// drift cancels).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { spawnTracked } from "./bench_children.mjs";
import { freePort, pollUntil } from "../test/_support/net.ts";

const CLIENT_KEY = "bench-client-key-0123456789abcdef";
/** Rounds of each target, taking turns; BENCH_ROUNDS to change (more rounds: a steadier median on a busy machine). */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const PROXY = { login: "bench", password: "bench-proxy-pass", host: "10.20.30.40", port: 3128 };
const PAGE = "https://example.com/login";
const SITEKEY = "0x4AAAAAAAC3DHQFLr1GavRN";
const UA = "Mozilla/5.0 (X11; Linux x86_64) Bench/1.0";

/** A bare node:http server on this runtime: reads the body, answers `{"id":"1","status":"queued"}` (a submit) or a task-sized JSON (a read). */
async function bareServer() {
  const port = await freePort();
  const code = `
    const submit = '{"id":"1","status":"queued"}';
    const read = JSON.stringify({ id: "1", type: "image", status: "solved", solution: "abc123", created_at: new Date(0).toISOString(), solved_at: new Date(0).toISOString() });
    // Idle keep-alive connections kept a minute (Node closes them after 5 s): the bench's agent
    // reuses them after waiting on the worker's rounds, and a close in that moment is a reset.
    const server = require("node:http").createServer((req, res) => {
      let n = 0;
      req.on("data", (c) => (n += c.length));
      req.on("end", () => {
        const body = req.method === "POST" ? submit : read;
        res.writeHead(req.method === "POST" ? 202 : 200, { "content-type": "application/json", "content-length": Buffer.byteLength(body), "cache-control": "no-store" });
        res.end(body);
      });
    });
    server.keepAliveTimeout = 60_000;
    server.listen(${port}, "127.0.0.1");`;
  const child = spawnTracked(process.execPath, ["-e", code], { stdio: "ignore" });
  const url = `http://127.0.0.1:${port}`;
  await pollUntil("bare server", async () => {
    try {
      return (await fetch(url + "/")).status === 200;
    } catch {
      return false;
    }
  }, { timeoutMs: 20_000, intervalMs: 50 });
  return { child, url };
}

/** A process's CPU time so far (user + system), in ms, from /proc (Linux). */
function cpuMs(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").replace(/^.*\) /, "").split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
}
/** The kernel's clock ticks per second (USER_HZ: 100 on Linux x86-64). */
const CLOCK_TICKS = Number(process.env.CLK_TCK ?? 100);

/** `h`: bench.mjs's plumbing (simulator, worker, http, stop, quantile, ms, workerMs, PNG). */
export async function benchGateway(h) {
  const dir = mkdtempSync(tmpdir() + "/cw-bench-gateway-");
  const keys = dir + "/clients";
  writeFileSync(keys, `bench ${CLIENT_KEY}\n`);
  const sim = await h.simulator(["--solve-time", "200ms"]);
  const w = await h.worker(sim, ["--threads", "200", "--queue-max", "100000", "--first-poll", "250ms", "--poll-interval", "100ms", "--task-timeout", "60s", "--client-keys-file", keys]);
  const bare = await bareServer();
  const bearer = { authorization: `Bearer ${CLIENT_KEY}` };
  const form = (params) => ({ body: new URLSearchParams(params).toString(), headers: { "content-type": "application/x-www-form-urlencoded" } });
  const proxyText = `${PROXY.login}:${PROXY.password}@${PROXY.host}:${PROXY.port}`;
  const tasks = {
    image: {
      v1: { type: "image", image: h.PNG },
      legacy: { method: "base64", body: h.PNG },
      v2: { type: "ImageToTextTask", body: h.PNG },
    },
    "proxied Turnstile": {
      v1: { type: "turnstile", sitekey: SITEKEY, pageurl: PAGE, useragent: UA, proxy: proxyText, proxytype: "HTTP" },
      legacy: { method: "turnstile", sitekey: SITEKEY, pageurl: PAGE, userAgent: UA, proxy: proxyText, proxytype: "HTTP" },
      v2: { type: "TurnstileTask", websiteKey: SITEKEY, websiteURL: PAGE, userAgent: UA, proxyType: "http", proxyAddress: PROXY.host, proxyPort: PROXY.port, proxyLogin: PROXY.login, proxyPassword: PROXY.password },
    },
  };
  /** Each target's submit for one task kind; the bare server gets /v1/tasks' body. */
  const submitters = (t) => ({
    bare: () => h.http("POST", bare.url + "/v1/tasks", { body: t.v1, headers: bearer }).then(() => "1"),
    v1: () => h.http("POST", w.url + "/v1/tasks", { body: t.v1, headers: bearer }).then((r) => JSON.parse(r.text).id),
    legacy: () => h.raw("POST", w.url + "/in.php", form({ key: CLIENT_KEY, ...t.legacy })).then((r) => r.text.slice(3)),
    v2: () => h.http("POST", w.url + "/createTask", { body: { clientKey: CLIENT_KEY, task: t.v2 } }).then((r) => String(JSON.parse(r.text).taskId)),
  });
  const read = {
    bare: () => h.http("GET", `${bare.url}/v1/tasks/1`, { headers: bearer }),
    v1: (id) => h.http("GET", `${w.url}/v1/tasks/${id}`, { headers: bearer }),
    legacy: (id) => h.http("GET", `${w.url}/res.php?key=${CLIENT_KEY}&action=get&id=${id}`),
    v2: (id) => h.http("POST", w.url + "/getTaskResult", { body: { clientKey: CLIENT_KEY, taskId: Number(id) } }),
  };
  /** `n` calls of `fn`, `concurrency` at a time: calls per second. */
  const rate = async (n, concurrency, fn) => {
    let next = 0;
    const t0 = performance.now();
    await Promise.all(Array.from({ length: concurrency }, async () => { while (next++ < n) await fn(next); }));
    return n / ((performance.now() - t0) / 1000);
  };
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  /** Median of the per-round ratios a[i] / b[i]. */
  const ratio = (a, b) => median(a.map((x, i) => x / b[i]));
  const NAMES = { bare: "bare node:http", v1: "/v1/tasks", legacy: "in.php", v2: "createTask" };
  const line = (label, rates) =>
    `  ${label}: ${Object.keys(NAMES).map((k) => `${NAMES[k]} ${median(rates[k]).toFixed(0)}/s${k === "bare" ? "" : ` (${ratio(rates[k], rates.bare).toFixed(2)} of bare${k === "v1" ? "" : `, ${ratio(rates[k], rates.v1).toFixed(2)} of /v1/tasks`})`}`).join("; ")}`;
  try {
    const ids = { v1: [], legacy: [], v2: [] };
    const out = [];
    // BENCH_GATEWAY_KINDS=image: the image set alone (an older build, BENCH_BIN, that takes no proxies).
    const kinds = (process.env.BENCH_GATEWAY_KINDS ?? Object.keys(tasks).join(",")).split(",");
    for (const [kind, t] of Object.entries(tasks).filter(([k]) => kinds.includes(k))) {
      const submit = submitters(t);
      for (const name of Object.keys(submit)) await rate(500, 32, submit[name]); // warm-up
      // Rounds, the targets taking turns (no order advantage).
      const rates = { bare: [], v1: [], legacy: [], v2: [] };
      for (let round = 0; round < ROUNDS; round++) {
        for (const name of Object.keys(submit)) rates[name].push(await rate(1000, 64, async () => {
          const id = await submit[name]();
          if (kind === "image" && name !== "bare") ids[name].push(id);
        }));
      }
      out.push(line(`submits of ${kind === "image" ? "an image" : "a Turnstile task with a proxy and a user agent"}, 1,000 at 64 concurrent, median of ${ROUNDS} rounds`, rates));
    }
    const reads = { bare: [], v1: [], legacy: [], v2: [] };
    for (let round = 0; round < ROUNDS; round++) {
      for (const name of Object.keys(read)) reads[name].push(await rate(3000, 64, (i) => read[name](name === "bare" ? "1" : ids[name][i % ids[name].length])));
    }
    out.push(line(`reads of a solved image task, 3,000 at 64 concurrent, median of ${ROUNDS} rounds`, reads));
    for (const l of out) console.log(l);

    // CPU time, which a busy machine disturbs far less than throughput: the worker's per task of
    // each set, from its submit to its end (admission, the upstream submit and poll, the end), each round
    // waited out until the worker holds no task; the bare server's per request beside it.
    const idle = async () => {
      for (let i = 0; i < 600; i++) {
        const stats = JSON.parse((await h.http("GET", w.url + "/health/ready")).text).stats;
        if (stats.queue_depth === 0 && stats.in_flight === 0) return;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error("the worker did not empty its queue in 30 s");
    };
    await idle();
    for (const [kind, t] of Object.entries(tasks).filter(([k]) => kinds.includes(k))) {
      const cpu = { bare: [], v1: [], legacy: [], v2: [] };
      const submit = submitters(t);
      for (let round = 0; round < ROUNDS; round++) {
        for (const name of Object.keys(cpu)) {
          const pid = name === "bare" ? bare.child.pid : w.child.pid;
          const before = cpuMs(pid);
          await rate(1000, 64, submit[name]);
          if (name !== "bare") await idle();
          cpu[name].push((cpuMs(pid) - before) / 1000);
        }
      }
      const per = (k) => `${median(cpu[k]).toFixed(3)} ms`;
      console.log(`  CPU per ${kind === "image" ? "image" : "proxied Turnstile"} task, submit to end, median of ${ROUNDS} rounds of 1,000: /v1/tasks ${per("v1")}; in.php ${per("legacy")} (${ratio(cpu.legacy, cpu.v1).toFixed(2)} of /v1/tasks); createTask ${per("v2")} (${ratio(cpu.v2, cpu.v1).toFixed(2)} of /v1/tasks); the bare server ${per("bare")} per request`);
    }

    // The worker's own time: 300 image tasks at 100/s through each API, each followed to its end.
    const submit = submitters(tasks.image);
    for (const name of ["v1", "legacy", "v2"]) {
      const own = [];
      for (let i = 0; i < 300; i++) {
        own.push((async () => {
          const id = await submit[name]();
          const r = await h.http("GET", `${w.url}/v1/tasks/${id}?wait=60`, { headers: bearer });
          if (JSON.parse(r.text).status !== "solved") throw new Error(`${name}: not solved: ${r.text}`);
          return h.workerMs(r.headers);
        })());
        await new Promise((r) => setTimeout(r, 10));
      }
      const sorted = (await Promise.all(own)).sort((a, b) => a - b);
      console.log(`  the worker's own time per task via ${NAMES[name]} (300 at 100/s): p50 ${h.ms(h.quantile(sorted, 0.5))}, p99 ${h.ms(h.quantile(sorted, 0.99))}`);
    }
  } finally {
    await h.stop(bare.child);
    await h.stop(w.child);
    await h.stop(sim.child);
    rmSync(dir, { recursive: true, force: true });
  }
}
