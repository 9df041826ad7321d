/**
 * One thread plan, several replicas (docs/providers.md, Thread plan): in-process workers on one fake clock share
 * one simulated CaptchaAI account, each with the whole plan as --threads, and adapt their limits from
 * the simulator's answers alone. Sampled every 100 ms of fake time.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { setImmediate as tick } from "node:timers/promises";
import { silentLogger } from "../../src/base/log.ts";
import { startWorker, type Worker } from "../../src/app/start.ts";
import { parseConfig } from "../../src/config/parse_config.ts";
import { mulberry32 } from "../../src/sim/prng.ts";
import { startSimulator, type Simulator } from "../../src/sim/simulator.ts";
import type { Task } from "../../src/tasks/task.ts";
import { FakeClock } from "../_support/fake_clock.ts";
import { eventually, SIM_KEY } from "../_support/harness.ts";
import { PNG_B64 } from "../_support/images.ts";
import { readAgent } from "../_support/providers_rig.ts";
import { testProcess } from "../_support/process_stats.ts";

const STEP_MS = 100;

interface Cluster {
  clock: FakeClock;
  sim: Simulator;
  workers: Worker[];
  close(): Promise<void>;
}

/** `replicas` workers with `--threads plan` on one simulator whose key has `plan` threads (2 s solves unless `solveMs`; polled after 1 s, then every 250 ms unless `polls`). */
async function startCluster(replicas: number, plan: number, capacityCode?: "ERROR_NO_SLOT_AVAILABLE", solveMs = 2000, polls = ["1s", "250ms"]): Promise<Cluster> {
  const clock = new FakeClock();
  const sim = await startSimulator({ host: "127.0.0.1", port: 0 }, { keys: [SIM_KEY], clock, seed: 5, threads: plan, solveTimeMs: { image: solveMs, token: solveMs }, balanceUsd: 100, capacityCode });
  const workers: Worker[] = [];
  for (let i = 0; i < replicas; i++) {
    const flags = { listen: "127.0.0.1:0", threads: String(plan), "first-poll": polls[0]!, "poll-interval": polls[1]!, "queue-max": "1000", "task-timeout": "600s" };
    const { config } = parseConfig(flags, {});
    workers.push(await startWorker({ process: testProcess, config, upstreamUrl: sim.url, apiKey: SIM_KEY, clock, log: silentLogger, random: mulberry32(100 + i) }));
  }
  await eventually(() => workers.every((w) => w.view.phase !== "starting"), "startup");
  return {
    clock,
    sim,
    workers,
    close: async () => {
      for (const w of workers) await w.close();
      await sim.close();
    },
  };
}

interface Run {
  /** Mean busy threads at the simulator over the plan, while any replica had work queued. */
  busyShare: number;
  /** The longest stretch (ms) the replicas together held more tasks than the plan. */
  overPlanMs: number;
  /** Refusals per replica per second, each replica's, over the run. */
  refusalsPerS: number[];
  seconds: number;
}

/** Advances until every task ended (or `maxMs`), sampling; `arrivals(t)` adds work at fake time t (ms from the start). */
async function run(c: Cluster, tasks: Task[], arrivals: (atMs: number) => void, maxMs: number, plan: number): Promise<Run> {
  let waitSamples = 0;
  let busySum = 0;
  let over = 0;
  let overPlanMs = 0;
  const t0 = c.clock.now();
  for (let at = 0; at < maxMs; at += STEP_MS) {
    arrivals(at);
    await c.clock.advance(STEP_MS);
    for (let i = 0; i < 20; i++) await tick();
    const counts = c.sim.counts();
    assert.ok(counts.busyThreads <= plan, "the simulator never lets the account past its plan");
    if (c.workers.some((w) => w.pool.queueDepth > 0)) {
      waitSamples++;
      busySum += counts.busyThreads;
    }
    const held = c.workers.reduce((n, w) => n + w.pool.inFlight, 0);
    over = held > plan ? over + STEP_MS : 0;
    overPlanMs = Math.max(overPlanMs, over);
    if (at > 5000 && tasks.every((t) => t.status === "solved" || t.status === "failed")) break;
  }
  const seconds = (c.clock.now() - t0) / 1000;
  return {
    busyShare: waitSamples === 0 ? 1 : busySum / waitSamples / plan,
    overPlanMs,
    refusalsPerS: c.workers.map((w) => w.pool.provider("captchaai")!.capacityRefusals / seconds),
    seconds,
  };
}

const IMAGE = { type: "image", image: PNG_B64 } as const;

describe("one thread plan, several replicas", () => {
  test("three replicas with the whole plan each, uneven load: the plan is used, refusals stay paced, no task fails, nothing is submitted twice", async (t) => {
    const plan = 6;
    const c = await startCluster(3, plan);
    try {
      const tasks: Task[] = [];
      const put = (i: number, n = 1) => {
        for (let k = 0; k < n; k++) tasks.push(c.workers[i]!.pool.enqueue("image", IMAGE));
      };
      // 80% to the first replica: a burst of 40 (32/4/4), then a trickle of 2 a second (80/10/10) for 15 s.
      const r = await run(c, tasks, (at) => {
        if (at === 0) [32, 4, 4].forEach((n, i) => put(i, n));
        if (at > 0 && at <= 15_000 && at % 500 === 0) put(at % 5000 === 0 ? 1 + ((at / 5000) % 2) : 0);
      }, 120_000, plan);
      const ideal = (tasks.length * 2) / plan;
      t.diagnostic(JSON.stringify({ ...r, ideal, tasks: tasks.length, refusals: c.sim.counts().capacityRefusals, limits: c.workers.map((w) => w.pool.provider("captchaai")!.limit) }));
      assert.deepEqual(tasks.filter((t) => t.status !== "solved").map((t) => `${t.status} ${t.error?.code}`), [], "every task solved: a refusal never fails one");
      assert.equal(c.sim.counts().submitted, tasks.length, "each submitted once");
      assert.ok(r.busyShare >= 0.85, `busy ${r.busyShare.toFixed(3)} of the plan while work waited`);
      assert.ok(r.seconds <= ideal * 1.3, `finished in ${r.seconds} s; ideal ${ideal} s`);
      assert.ok(r.overPlanMs <= 1000, `held past the plan for ${r.overPlanMs} ms at most (a solve not yet polled)`);
      assert.ok(r.refusalsPerS.every((x) => x <= 1), `refusals per replica per second: ${r.refusalsPerS.map((x) => x.toFixed(2))}`);
      const refusals = c.sim.counts().capacityRefusals;
      assert.equal(refusals, c.workers.reduce((n, w) => n + w.pool.provider("captchaai")!.capacityRefusals, 0), "every refusal counted where it happened");
      assert.ok(refusals <= 0.2 * (tasks.length + refusals), `${refusals} refusals for ${tasks.length} tasks`);
    } finally {
      await c.close();
    }
  });

  test("a replica alone on the account runs the whole plan within a few round trips and sees no refusal", async (t) => {
    const plan = 12;
    const c = await startCluster(1, plan);
    try {
      const tasks: Task[] = [];
      const r = await run(c, tasks, (at) => {
        if (at === 0) for (let i = 0; i < 60; i++) tasks.push(c.workers[0]!.pool.enqueue("image", IMAGE));
      }, 60_000, plan);
      t.diagnostic(JSON.stringify(r));
      assert.ok(tasks.every((t) => t.status === "solved"));
      assert.equal(c.workers[0]!.pool.provider("captchaai")!.capacityRefusals, 0);
      assert.equal(c.sim.counts().peakBusyThreads, plan, "the whole plan");
      assert.ok(r.seconds <= 11, `60 tasks of 2 s on 12 threads in ${r.seconds} s (10 s ideal)`);
    } finally {
      await c.close();
    }
  });

  test("two replicas, both with more work than the plan: they share it, and with 2captcha's code (ERROR_NO_SLOT_AVAILABLE) too", async (t) => {
    const plan = 8;
    const c = await startCluster(2, plan, "ERROR_NO_SLOT_AVAILABLE");
    try {
      const tasks: Task[] = [];
      const r = await run(c, tasks, (at) => {
        if (at === 0) for (const i of [0, 1]) for (let k = 0; k < 40; k++) tasks.push(c.workers[i]!.pool.enqueue("image", IMAGE));
      }, 120_000, plan);
      t.diagnostic(JSON.stringify({ ...r, refusals: c.sim.counts().capacityRefusals }));
      assert.ok(tasks.every((t) => t.status === "solved"), "none failed");
      assert.ok(r.busyShare >= 0.85, `busy ${r.busyShare.toFixed(3)}`);
      assert.ok(r.refusalsPerS.every((x) => x <= 1), `refusals per replica per second: ${r.refusalsPerS.map((x) => x.toFixed(2))}`);
      const limits = c.workers.map((w) => w.pool.provider("captchaai")!.limit);
      assert.ok(limits.every((l) => l >= 1 && l <= plan), `limits ${limits}`);
    } finally {
      await c.close();
    }
  });

  test("30 s solves (token tasks), three replicas with work always queued: few refusals, as probes are paced by how long tasks hold a thread; a neighbour leaves and the threads it frees are found within about a solve", async (t) => {
    const plan = 12;
    const c = await startCluster(3, plan, undefined, 30_000, ["5s", "1s"]);
    try {
      let busySum = 0;
      let samples = 0;
      /** The simulator's counts when the first solves ended (the start's overshoot and its pace before any hold time was known behind). */
      let steady: { refusals: number; submitted: number } | undefined;
      let last = { refusals: 0, submitted: 0 };
      let freedAt: number | undefined;
      let regrownAt: number | undefined;
      const LEAVES_MS = 240_000;
      for (let at = 0; at < 360_000; at += 500) {
        c.workers.forEach((w, i) => {
          if (i === 0 && at >= LEAVES_MS) return; // its clients went away
          while (w.pool.queueDepth < 3) w.pool.enqueue("image", IMAGE);
        });
        await c.clock.advance(500);
        for (let i = 0; i < 20; i++) await tick();
        const counts = c.sim.counts();
        if (at === 60_000) steady = { refusals: counts.capacityRefusals, submitted: counts.submitted };
        if (at === LEAVES_MS) last = { refusals: counts.capacityRefusals, submitted: counts.submitted };
        if (at < LEAVES_MS) {
          busySum += counts.busyThreads;
          samples++;
        }
        if (at >= LEAVES_MS && freedAt === undefined && c.workers[0]!.pool.inFlight === 0) freedAt = at;
        if (freedAt !== undefined && regrownAt === undefined && c.workers[1]!.pool.inFlight + c.workers[2]!.pool.inFlight >= plan) regrownAt = at;
      }
      const refusals = last.refusals - steady!.refusals;
      const submits = last.submitted - steady!.submitted + refusals;
      const busy = busySum / samples / plan;
      const regrowS = freedAt === undefined || regrownAt === undefined ? undefined : (regrownAt - freedAt) / 1000;
      t.diagnostic(JSON.stringify({ busy, refusals, submits, share: refusals / submits, freedAfterS: freedAt === undefined ? null : (freedAt - LEAVES_MS) / 1000, regrowS, limits: c.workers.map((w) => w.pool.provider("captchaai")!.limit) }));
      assert.ok(busy >= 0.9, `busy ${busy.toFixed(3)} of the plan`);
      assert.ok(refusals <= 0.25 * submits, `${refusals} refusals of ${submits} submits from 60 s to 240 s (a 2-4 s pace whatever the solve made most of them refusals)`);
      assert.ok(regrowS !== undefined && regrowS <= 45, `the two left held the whole plan ${regrowS ?? "never"} s after the third's last task ended`);
    } finally {
      await c.close();
    }
  });

  test("the HAProxy agent's weight follows the replica's limit, not --threads: refused past the plan, the limit is the threads it holds", async () => {
    const clock = new FakeClock();
    const sim = await startSimulator({ host: "127.0.0.1", port: 0 }, { keys: [SIM_KEY], clock, seed: 5, threads: 2, solveTimeMs: { image: 2000, token: 2000 }, balanceUsd: 100 });
    const { config } = parseConfig({ listen: "127.0.0.1:0", "agent-listen": "127.0.0.1:0", threads: "4", "first-poll": "1s", "poll-interval": "250ms" }, {});
    const w = await startWorker({ process: testProcess, config, upstreamUrl: sim.url, apiKey: SIM_KEY, clock, log: silentLogger, random: mulberry32(7) });
    try {
      await eventually(() => w.view.phase !== "starting", "startup");
      for (let i = 0; i < 4; i++) w.pool.enqueue("image", IMAGE);
      await eventually(() => sim.counts().capacityRefusals === 2 && w.pool.provider("captchaai")!.limit === 2, "two taken, two refused");
      assert.deepEqual([w.pool.inFlight, w.pool.queueDepth], [2, 2]);
      // T is the limit: 100 x 2 / (2 + 2 + 2) x (1 - 2/1000); with --threads as T it would read 50%.
      assert.equal(await readAgent(w.agent!.address.port), "up ready 33%\n");
      // The status page's row: the limit beside the plan now, and over the hour (sampled at the start: the whole plan).
      await clock.advance(500);
      const page = await (await fetch(`http://127.0.0.1:${w.address.port}/`)).text();
      assert.match(page, /<td>captchaai<\/td><td>up<\/td><td>2\/4 threads busy, limit 2<\/td><td>4 of 4<\/td>/);
    } finally {
      await w.close();
      await sim.close();
    }
  });
});
