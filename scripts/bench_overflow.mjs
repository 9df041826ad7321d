// npm run bench -- overflow (not in the default run: two minutes of real time): a thread plan alone
// against the same plan with a per-solve provider behind it (docs/providers.md), under a load twice
// what the plan can solve. Each run: a simulated CaptchaAI plan of PLAN threads (images solved in
// 2 s, so PLAN/2 a second at most), image tasks posted at twice that for OVERFLOW_S seconds, then
// everything left given time to end; prints tasks solved per minute from the first post to the last end, how long a task took
// (p50, p95), the tasks failed or never ended, and the dollars the per-solve simulator charged (its
// own count, /__sim/counts spentUsd). Throughput is set by the simulated plan, not by the worker:
// there is no bare node:http ratio here. OVERFLOW_S=60 sets the load's length, OVERFLOW_PLAN=4 the plan.
import { writeFileSync } from "node:fs";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Agent } from "node:http";
import { freePort, pollUntil } from "../test/_support/net.ts";
import { PNG_B64 as PNG } from "../test/_support/images.ts";
import { spawnTracked, stop } from "./bench_children.mjs";
import { http as httpJson } from "./bench_http.mjs";

const BIN = process.env.BENCH_BIN ?? new URL("../dist/captcha-worker", import.meta.url).pathname;
const PLAN_KEY = "bench-plan-key-0123456789abcdef0";
const PAID_KEY = "bench-paid-key-0123456789abcdef0";
const LOAD_S = Number(process.env.OVERFLOW_S ?? 60);
const PLAN = Number(process.env.OVERFLOW_PLAN ?? 4);
const SOLVE_S = 2;
const agent = new Agent({ keepAlive: true, maxSockets: 64 });

const http = (method, url, body) => httpJson(agent, method, url, body);

const until = (what, fn, timeoutMs = 20_000) => pollUntil(what, fn, { timeoutMs, intervalMs: 100 });
const delay = (ms) => new Promise((r) => setTimeout(r, ms));

async function simulator(key, args) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/`;
  const child = spawnTracked(BIN, ["simulate", "--listen", `127.0.0.1:${port}`, "--key", key, "--balance", "1000", "--solve-time", `image=${SOLVE_S}s,token=${SOLVE_S}s`, "--seed", "3", "--log-level", "error", ...args], { stdio: "ignore" });
  await until("simulator", async () => (await http("GET", url + "__sim/state")).status === 200);
  return { child, url, counts: async () => JSON.parse((await http("GET", url + "__sim/counts")).text) };
}

async function worker(args, env) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawnTracked(BIN, ["run", "--listen", `127.0.0.1:${port}`, "--log-level", "error", "--first-poll", "1s", "--poll-interval", "500ms", "--task-timeout", "180s", ...args], { env: { PATH: process.env.PATH, ...env }, stdio: "ignore" });
  await until("worker ready", async () => (await http("GET", url + "/health/ready")).status === 200);
  return { child, url };
}

const quantile = (xs, q) => (xs.length === 0 ? NaN : [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]);

/** Posts at twice the plan's rate for LOAD_S, then reads every task until each ended or 3 minutes passed. */
async function drive(w) {
  const rate = (2 * PLAN) / SOLVE_S; // tasks a second: twice what the plan solves
  const ids = [];
  const started = Date.now();
  let refused = 0;
  for (let i = 0; Date.now() - started < LOAD_S * 1000; i++) {
    const r = await http("POST", w.url + "/v1/tasks", { type: "image", image: PNG });
    if (r.status === 202) ids.push({ id: JSON.parse(r.text).id, at: Date.now() });
    else refused++;
    const next = started + ((i + 1) * 1000) / rate;
    await delay(Math.max(0, next - Date.now()));
  }
  const loadEnd = Date.now();
  const ended = new Map();
  await until("every task ended", async () => {
    for (const t of ids) {
      if (ended.has(t.id)) continue;
      const task = JSON.parse((await http("GET", `${w.url}/v1/tasks/${t.id}`)).text);
      // The worker's own times: accepted (created_at) to ended (solved_at or failed_at).
      const endAt = Date.parse(task.solved_at ?? task.failed_at ?? "");
      if (task.status === "solved" || task.status === "failed") ended.set(t.id, { ...task, endAt, tookS: (endAt - Date.parse(task.created_at)) / 1000 });
    }
    return ended.size === ids.length;
  }, 200_000).catch(() => {});
  const all = [...ended.values()];
  const solvedInLoad = all.filter((t) => t.status === "solved" && t.tookS !== undefined);
  return {
    posted: ids.length,
    refused,
    solved: all.filter((t) => t.status === "solved").length,
    failed: all.filter((t) => t.status === "failed").length,
    unfinished: ids.length - all.length,
    loadS: (loadEnd - started) / 1000,
    /** From the first post to the last task's end: what it took to solve the load. */
    spanS: (Math.max(loadEnd, ...all.map((t) => t.endAt)) - started) / 1000,
    p50: quantile(solvedInLoad.map((t) => t.tookS), 0.5),
    p95: quantile(solvedInLoad.map((t) => t.tookS), 0.95),
    byProvider: Object.fromEntries([...new Set(all.map((t) => t.provider ?? "captchaai"))].map((p) => [p, all.filter((t) => (t.provider ?? "captchaai") === p).length])),
  };
}

export async function benchOverflow() {
  console.log(`a ${PLAN}-thread plan, images solved in ${SOLVE_S} s, ${(2 * PLAN) / SOLVE_S} tasks/s posted for ${LOAD_S} s (twice the plan)`);
  const rows = [];
  {
    const plan = await simulator(PLAN_KEY, ["--threads", String(PLAN)]);
    const w = await worker(["--upstream", plan.url, "--threads", String(PLAN)], { CAPTCHAAI_API_KEY: PLAN_KEY });
    try {
      rows.push({ name: "plan alone", ...(await drive(w)), usd: 0 });
    } finally {
      await stop(w.child);
      await stop(plan.child);
    }
  }
  {
    const plan = await simulator(PLAN_KEY, ["--threads", String(PLAN)]);
    const paid = await simulator(PAID_KEY, ["--dialect", "2captcha"]);
    const dir = mkdtempSync(join(tmpdir(), "cw-bench-overflow-"));
    writeFileSync(join(dir, "plan.key"), PLAN_KEY);
    writeFileSync(join(dir, "paid.key"), PAID_KEY);
    writeFileSync(join(dir, "providers"), `captchaai legacy ${plan.url} key-file=plan.key threads=${PLAN}\n2captcha legacy ${paid.url} key-file=paid.key price=2.99 price.image=1 after=5s\n`);
    const w = await worker(["--providers-file", join(dir, "providers")], {});
    try {
      const r = await drive(w);
      rows.push({ name: "plan + per-solve overflow", ...r, usd: (await paid.counts()).spentUsd });
    } finally {
      await stop(w.child);
      await stop(plan.child);
      await stop(paid.child);
    }
  }
  console.log("| run | posted | solved per minute (first post to last end) | took p50 / p95 | failed / unfinished / refused | by provider | per-solve USD |");
  console.log("|---|---|---|---|---|---|---|");
  for (const r of rows) {
    const perMin = (r.solved / r.spanS) * 60;
    console.log(`| ${r.name} | ${r.posted} | ${perMin.toFixed(0)} in ${r.spanS.toFixed(0)} s | ${r.p50.toFixed(1)} s / ${r.p95.toFixed(1)} s | ${r.failed} / ${r.unfinished} / ${r.refused} | ${Object.entries(r.byProvider).map(([p, n]) => `${p} ${n}`).join(", ")} | $${r.usd.toFixed(3)} |`);
  }
  agent.destroy();
}

if (import.meta.url === `file://${process.argv[1]}`) await benchOverflow();
