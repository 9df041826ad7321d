// npm run bench -- gateway: the drop-in gateway against /v1/tasks in the same run, on one worker
// (the built executable, --client-keys-file) and the built-in simulator: submits per second
// (in.php form, createTask JSON, POST /v1/tasks), reads per second (res.php get, getTaskResult,
// GET /v1/tasks/:id), and the worker's own time per task (Server-Timing `worker`, read through
// /v1/tasks for gateway tasks: one id scheme) for tasks arriving steadily through each API.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";

const CLIENT_KEY = "bench-client-key-0123456789abcdef";

/** `h`: bench.mjs's plumbing (simulator, worker, http, stop, quantile, ms, workerMs, PNG). */
export async function benchGateway(h) {
  const dir = mkdtempSync(tmpdir() + "/cw-bench-gateway-");
  const keys = dir + "/clients";
  writeFileSync(keys, `bench ${CLIENT_KEY}\n`);
  const sim = await h.simulator(["--solve-time", "200ms"]);
  const w = await h.worker(sim, ["--threads", "200", "--queue-max", "100000", "--first-poll", "250ms", "--poll-interval", "100ms", "--task-timeout", "60s", "--client-keys-file", keys]);
  const bearer = { authorization: `Bearer ${CLIENT_KEY}` };
  const form = (params) => ({ body: new URLSearchParams(params).toString(), headers: { "content-type": "application/x-www-form-urlencoded" } });
  const api = {
    v1: { submit: () => h.http("POST", w.url + "/v1/tasks", { body: { type: "image", image: h.PNG }, headers: bearer }).then((r) => JSON.parse(r.text).id) },
    legacy: { submit: () => h.raw("POST", w.url + "/in.php", form({ key: CLIENT_KEY, method: "base64", body: h.PNG })).then((r) => r.text.slice(3)) },
    v2: { submit: () => h.http("POST", w.url + "/createTask", { body: { clientKey: CLIENT_KEY, task: { type: "ImageToTextTask", body: h.PNG } } }).then((r) => String(JSON.parse(r.text).taskId)) },
  };
  const read = {
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
  try {
    for (const name of Object.keys(api)) await rate(500, 32, api[name].submit); // warm-up
    // Three rounds, the APIs taking turns (no order advantage); the median round of each is reported.
    const median = (xs) => xs.sort((a, b) => a - b)[1];
    const submits = { v1: [], legacy: [], v2: [] };
    const ids = { v1: [], legacy: [], v2: [] };
    for (let round = 0; round < 3; round++) {
      for (const name of Object.keys(api)) submits[name].push(await rate(1000, 64, async () => ids[name].push(await api[name].submit())));
    }
    const reads = { v1: [], legacy: [], v2: [] };
    for (let round = 0; round < 3; round++) {
      for (const name of Object.keys(read)) reads[name].push(await rate(3000, 64, (i) => read[name](ids[name][i % ids[name].length])));
    }
    for (const name of Object.keys(api)) [submits[name], reads[name]] = [median(submits[name]), median(reads[name])];

    // The worker's own time: 300 tasks at 100/s through each API, each followed to its end.
    const own = {};
    for (const name of Object.keys(api)) {
      const out = [];
      for (let i = 0; i < 300; i++) {
        out.push((async () => {
          const id = await api[name].submit();
          const r = await h.http("GET", `${w.url}/v1/tasks/${id}?wait=60`, { headers: bearer });
          if (JSON.parse(r.text).status !== "solved") throw new Error(`${name}: not solved: ${r.text}`);
          return h.workerMs(r.headers);
        })());
        await new Promise((r) => setTimeout(r, 10));
      }
      own[name] = (await Promise.all(out)).sort((a, b) => a - b);
    }
    const ratio = (a, b) => `${((a / b) * 100).toFixed(0)}% of /v1/tasks`;
    console.log(`  submits, 1,000 at 64 concurrent, median of 3 alternating rounds: /v1/tasks ${submits.v1.toFixed(0)}/s; in.php ${submits.legacy.toFixed(0)}/s (${ratio(submits.legacy, submits.v1)}); createTask ${submits.v2.toFixed(0)}/s (${ratio(submits.v2, submits.v1)})`);
    console.log(`  reads, 3,000 at 64 concurrent, median of 3 rounds: GET /v1/tasks/:id ${reads.v1.toFixed(0)}/s; res.php get ${reads.legacy.toFixed(0)}/s (${ratio(reads.legacy, reads.v1)}); getTaskResult ${reads.v2.toFixed(0)}/s (${ratio(reads.v2, reads.v1)})`);
    for (const name of Object.keys(own)) {
      console.log(`  the worker's own time per task via ${name === "v1" ? "/v1/tasks" : name === "legacy" ? "in.php " : "createTask"} (300 at 100/s): p50 ${h.ms(h.quantile(own[name], 0.5))}, p99 ${h.ms(h.quantile(own[name], 0.99))}`);
    }
  } finally {
    await h.stop(w.child);
    await h.stop(sim.child);
    rmSync(dir, { recursive: true, force: true });
  }
}
