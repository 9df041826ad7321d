// npm run bench -- plan: one thread plan, three replicas (docs/providers.md, Thread plan). Three worker
// processes (--first-poll 1s --poll-interval 250ms) on one simulated CaptchaAI account with a plan of
// 12 threads (solve time 2 s), uneven load: a burst of 200 image tasks at once and a trickle of 100
// over 30 s, 80% of both to the first replica and 10% to each other; run with the old
// static split (--threads 4 each) and with the plan on every replica (--threads 12 each: the
// adaptive limit). Per run: the time until every task ended against the ideal (tasks x 2 s / 12),
// the simulator's busy threads as a share of the plan while any replica had work queued (sampled
// every 250 ms), capacity refusals per replica per second and as a share of submits, tasks lost or
// submitted twice; then one replica alone on the plan: when it first holds all 12 threads and the
// refusals after that. PLAN_BEFORE_BIN=<an earlier build> adds both runs on that build (the
// "--threads 12 each" row there is the whole plan on every replica without adaptation). Real time.

const PLAN = 12;
const SOLVE_S = 2;
const BURST = 200;
const TRICKLE = 100;
const TRICKLE_S = 30;
const SHARES = [0.8, 0.1, 0.1];

/** `h`: bench.mjs's plumbing (start, http, stop, freePort, pollUntil, KEY, BIN, PNG). */
export async function benchPlan(h) {
  const runs = [
    { name: "static split (--threads 4 each)", bin: h.BIN, threads: 4 },
    { name: "the plan on every replica (--threads 12 each, adaptive)", bin: h.BIN, threads: PLAN },
  ];
  const before = process.env.PLAN_BEFORE_BIN;
  if (before) {
    runs.push({ name: `static split on ${before}`, bin: before, threads: 4 });
    runs.push({ name: `the plan on every replica on ${before} (no adaptation)`, bin: before, threads: PLAN });
  }
  console.log(`  ${BURST} tasks at once and ${TRICKLE} over ${TRICKLE_S} s, ${SHARES.map((s) => s * 100 + "%").join("/")} to three replicas; a plan of ${PLAN} threads, ${SOLVE_S} s solves`);
  // PLAN_ONLY=adaptive: that run alone (tuning, with PLAN_TRACE=1 for a line per sample).
  if (process.env.PLAN_ONLY === "adaptive") return void (await oneRun(h, runs[1]));
  const results = [];
  for (const run of runs) results.push(await oneRun(h, run));
  const [stat, adaptive] = results;
  console.log(`  adaptive against the static split: ${(stat.seconds / adaptive.seconds).toFixed(2)}x faster (target >= 1.6), ${(adaptive.seconds / adaptive.ideal).toFixed(2)} of the ideal (target <= 1.15), busy ${adaptive.busy.toFixed(2)} of the plan (target >= 0.90), refusals ${(adaptive.refusedShare * 100).toFixed(1)}% of submits (target <= 10%)`);
  await alone(h);
}

/** Three workers on one simulated plan, the load above; returns the run's figures. */
async function oneRun(h, run) {
  const sim = await simulator(h);
  const workers = [];
  for (let i = 0; i < SHARES.length; i++) workers.push(await worker(h, run.bin, sim, run.threads));
  const t0 = performance.now();
  const tasks = [];
  const send = (i) => tasks.push(task(h, workers[i]));
  const stopSampling = sample(h, sim, workers, t0);
  // The burst, then the trickle: each task to the replica whose turn it is by its share.
  const order = (n) => Array.from({ length: n }, (_, k) => SHARES.findIndex((_, i) => (k % 10) < SHARES.slice(0, i + 1).reduce((a, b) => a + b, 0) * 10));
  for (const i of order(BURST)) send(i);
  const trickle = order(TRICKLE);
  for (let k = 0; k < TRICKLE; k++) {
    await sleep(t0 + ((k + 1) * TRICKLE_S * 1000) / TRICKLE - performance.now());
    send(trickle[k]);
  }
  const ends = await Promise.all(tasks);
  const seconds = (Math.max(...ends.map((e) => e.at)) - t0) / 1000;
  const samples = stopSampling();
  const counts = await simCounts(h, sim);
  const refusalsBy = await Promise.all(workers.map(async (w) => metric(await h.http("GET", w.url + "/metrics"), "captcha_worker_capacity_refusals_total")));
  const waited = samples.filter((s) => s.queued > 0);
  const busy = waited.reduce((n, s) => n + s.busy, 0) / Math.max(1, waited.length) / PLAN;
  const refusals = counts.capacityRefusals;
  const submits = counts.requests["in.php"] ?? 0;
  const lost = ends.filter((e) => e.status !== "solved").length;
  const ideal = ((BURST + TRICKLE) * SOLVE_S) / PLAN;
  const perReplica = refusalsBy.map((r) => (Number.isNaN(r) ? "-" : (r / seconds).toFixed(2))).join("/");
  console.log(`  ${run.name}:`);
  console.log(`    ${tasks.length} tasks ended in ${seconds.toFixed(1)} s (ideal ${ideal.toFixed(1)} s, x${(seconds / ideal).toFixed(2)}); ${((tasks.length / seconds) * 60).toFixed(0)} solves a minute`);
  console.log(`    busy ${busy.toFixed(2)} of the plan while work was queued (${waited.length} of ${samples.length} samples); the simulator's busy thread-seconds ${counts.busyThreadSeconds.toFixed(0)}, peak ${counts.peakBusyThreads}`);
  console.log(`    capacity refusals ${refusals} (${((refusals / Math.max(1, submits)) * 100).toFixed(1)}% of ${submits} submits; ${(refusals / 3 / seconds).toFixed(2)} per replica per second, each: ${perReplica})`);
  console.log(`    lost or failed ${lost}, submitted twice ${Math.max(0, counts.submitted - tasks.length)}`);
  for (const w of workers) await h.stop(w.child);
  await h.stop(sim.child);
  return { seconds, ideal, busy, refusedShare: refusals / Math.max(1, submits) };
}

/** One worker alone on the plan: when it first holds the whole plan, and the refusals after that. */
async function alone(h) {
  const sim = await simulator(h);
  const w = await worker(h, h.BIN, sim, PLAN);
  const t0 = performance.now();
  const tasks = Array.from({ length: 120 }, () => task(h, w));
  let fullAt;
  let refusalsThen;
  while (fullAt === undefined && performance.now() - t0 < 30_000) {
    const c = await simCounts(h, sim);
    if (c.peakBusyThreads >= PLAN) {
      fullAt = (performance.now() - t0) / 1000;
      refusalsThen = c.capacityRefusals;
    } else await sleep(20);
  }
  await Promise.all(tasks);
  const c = await simCounts(h, sim);
  console.log(`  one replica alone (--threads 12), 120 tasks at once: the whole plan busy after ${fullAt?.toFixed(2) ?? "never"} s (target <= 5 s), ${refusalsThen ?? "-"} refusals before and ${c.capacityRefusals - (refusalsThen ?? 0)} after (target 0)`);
  await h.stop(w.child);
  await h.stop(sim.child);
}

/** Every 250 ms: the simulator's busy threads and the replicas' queued tasks; the stop returns the samples. */
function sample(h, sim, workers, t0) {
  const samples = [];
  let on = true;
  (async () => {
    while (on) {
      const [c, ...scrapes] = await Promise.all([simCounts(h, sim), ...workers.map((w) => h.http("GET", w.url + "/metrics"))]);
      const queues = scrapes.map((m) => metric(m, "captcha_worker_queue_depth"));
      samples.push({ at: performance.now() - t0, busy: c.busyThreads, queued: queues.reduce((a, b) => a + b, 0) });
      if (process.env.PLAN_TRACE) {
        const limits = scrapes.map((m) => metric(m, 'captcha_worker_provider_threads\\{provider="captchaai",state="limit"\\}'));
        const held = scrapes.map((m) => metric(m, 'captcha_worker_provider_threads\\{provider="captchaai",state="busy"\\}'));
        console.log(`    ${((performance.now() - t0) / 1000).toFixed(1)} s: busy ${c.busyThreads}, queued ${queues.join("/")}, held ${held.join("/")}, limits ${limits.join("/")}, refusals ${c.capacityRefusals}`);
      }
      await sleep(250);
    }
  })();
  return () => {
    on = false;
    return samples;
  };
}

/** Posts one image task and follows it to its end; resolves with its status and when it ended. */
async function task(h, w) {
  const headers = { prefer: "wait=60" };
  let body = JSON.parse((await h.http("POST", w.url + "/v1/tasks", { body: { type: "image", image: h.PNG }, headers })).text);
  while (body.status !== "solved" && body.status !== "failed") {
    if (!body.id) return { status: `refused ${JSON.stringify(body)}`, at: performance.now() };
    body = JSON.parse((await h.http("GET", `${w.url}/v1/tasks/${body.id}`, { headers })).text);
  }
  return { status: body.status, at: performance.now() };
}

async function simulator(h) {
  const port = await h.freePort();
  const url = `http://127.0.0.1:${port}/`;
  const child = h.start(["simulate", "--listen", `127.0.0.1:${port}`, "--key", h.KEY, "--balance", "1000000", "--threads", String(PLAN), "--solve-time", `image=${SOLVE_S}s,token=${SOLVE_S}s`, "--seed", "1", "--log-level", "warn"]);
  await h.pollUntil("simulator", async () => (await h.http("GET", url + "__sim/state")).status === 200, { timeoutMs: 20_000, intervalMs: 50 });
  return { child, url };
}

async function worker(h, bin, sim, threads) {
  const port = await h.freePort();
  const url = `http://127.0.0.1:${port}`;
  const args = ["run", "--listen", `127.0.0.1:${port}`, "--upstream", sim.url, "--threads", String(threads), "--first-poll", "1s", "--poll-interval", "250ms", "--queue-max", "1000", "--task-timeout", "600s", "--log-level", "error"];
  const child = h.start(args, { CAPTCHAAI_API_KEY: h.KEY }, bin);
  await h.pollUntil("worker ready", async () => (await h.http("GET", url + "/health/ready")).status === 200, { timeoutMs: 20_000, intervalMs: 50 });
  return { child, url };
}

const simCounts = async (h, sim) => JSON.parse((await h.http("GET", sim.url + "__sim/counts")).text);
/** The sum of a metric's samples in a /metrics answer (NaN when absent: an earlier build). */
function metric(res, name) {
  const values = [...res.text.matchAll(new RegExp(`^${name}(?:[{,][^}]*\\})? (\\S+)$`, "gm"))].map((m) => Number(m[1]));
  return values.length === 0 ? Number.NaN : values.reduce((a, b) => a + b, 0);
}
const sleep = (ms) => new Promise((r) => setTimeout(r, Math.max(0, ms)));
