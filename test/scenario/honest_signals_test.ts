/**
 * Honest signals, one fault a row (the issue's table): a worker on the fake clock takes image tasks
 * at 2/s through its HTTP API while readiness is read every 100 ms; each fault is held 30 s, then
 * cleared. Asserted per row: time to the first 503, 200->503 changes during the fault, time back to a
 * steady 200 after the clear, liveness throughout, and a queue depth that never goes below zero.
 * The thresholds are the issue's (short windows, the classic counts and money); the speed comes from
 * evidence, not from shorter thresholds. `npm run bench -- signals` measures the same in real time.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { formatIssue } from "../../src/health/readiness_issue.ts";
import type { Simulator } from "../../src/sim/simulator.ts";
import { advance, eventually, startHarness, type Harness } from "../_support/harness.ts";
import { freePort } from "../_support/net.ts";
import { PNG_B64, pngOfSize } from "../_support/images.ts";

const IMAGE = JSON.stringify({ type: "image", image: pngOfSize(150, 2).toString("base64") });
const FLAGS = {
  "max-consecutive-failures": "10", "max-seconds-without-solve": "10s", "min-balance": "1.0", "balance-ttl": "2s",
  "error-window": "30s", "first-poll": "500ms", "poll-interval": "500ms", "max-queue-wait": "10s",
};
const STEP_MS = 100;
const WARM_MS = 5_000;
const FAULT_MS = 30_000;
const AFTER_MS = 30_000;

interface Row {
  name: string;
  apply(sim: Simulator): void;
  clear(sim: Simulator): void;
  flags?: Record<string, string>;
  /** Fake-clock steps between posts (5: 2 tasks a second). */
  postEvery?: number;
}

interface Run {
  /** Seconds from the fault to the first 503 (undefined: none). */
  to503: number | undefined;
  /** 200 -> 503 changes while the fault held. */
  flips: number;
  /** Seconds from the clear to the last 503 (0: none after the clear; Infinity: still 503 at the end). */
  backTo200: number;
  liveFailures: number;
  minQueue: number;
  /** Seconds from the fault until /health said warn (undefined: never). */
  warnAt: number | undefined;
  refused: number;
  solved: number;
}

const clearFaults = (sim: Simulator) => sim.control.clearFaults();

/** Drives one row: warm-up, the fault, the clear, each in 100 ms steps of fake time. */
async function drive(h: Harness, row: Row, o: { faultMs?: number; idleMs?: number } = {}): Promise<Run> {
  let samples: { at: number; ok: boolean }[] = [];
  let liveFailures = 0;
  let minQueue = Number.POSITIVE_INFINITY;
  let warnAt: number | undefined;
  let refused = 0;
  let step = 0;
  let posting = true;
  const faultMs = o.faultMs ?? FAULT_MS;
  const t0 = h.clock.now();
  const run = async (ms: number) => {
    for (let t = 0; t < ms; t += STEP_MS) {
      if (posting && step % (row.postEvery ?? 5) === 0) {
        void fetch(h.base + "/v1/tasks", { method: "POST", headers: { "content-type": "application/json" }, body: IMAGE })
          .then((r) => (r.status === 503 && refused++, r.arrayBuffer()), () => {});
      }
      step++;
      await advance(h.clock, STEP_MS, STEP_MS);
      const r = h.worker.view.evaluate();
      const at = h.clock.now() - t0;
      samples.push({ at, ok: r.ready });
      if (!h.worker.view.live().ok) liveFailures++;
      minQueue = Math.min(minQueue, r.snapshot.queueDepth, r.snapshot.inFlight);
      if (warnAt === undefined && r.ready && r.warnings.length > 0) warnAt = at;
    }
  };
  await run(WARM_MS);
  assert.ok(samples.every((s) => s.ok), `${row.name}: ready before the fault`);
  assert.ok(h.worker.health.snapshot().solved >= 5, `${row.name}: solving before the fault (${h.worker.health.snapshot().solved})`);
  if (o.idleMs !== undefined) {
    posting = false;
    await run(o.idleMs);
    posting = true;
  }
  samples = [];
  const faultAt = h.clock.now() - t0;
  row.apply(h.sim);
  await run(faultMs);
  const clearAt = h.clock.now() - t0;
  row.clear(h.sim);
  await run(AFTER_MS);
  const during = samples.filter((s) => s.at <= clearAt);
  const first503 = during.find((s) => !s.ok);
  let flips = during.length > 0 && !during[0]!.ok ? 1 : 0;
  for (let i = 1; i < during.length; i++) if (during[i - 1]!.ok && !during[i]!.ok) flips++;
  const after = samples.filter((s) => s.at > clearAt);
  const lastBad = after.findLast((s) => !s.ok);
  const backTo200 = lastBad === undefined ? 0 : lastBad === after.at(-1) ? Number.POSITIVE_INFINITY : (lastBad.at + STEP_MS - clearAt) / 1000;
  return { to503: first503 && (first503.at - faultAt) / 1000, flips, backTo200, liveFailures, minQueue, warnAt: warnAt === undefined ? undefined : (warnAt - faultAt) / 1000, refused, solved: h.worker.health.snapshot().solved };
}

async function withRow(row: Row, fn: (h: Harness) => Promise<void>): Promise<void> {
  const h = await startHarness({ flags: { ...FLAGS, ...row.flags }, sim: { solveTimeMs: { image: 1000, token: 2000 }, threads: 1000 } });
  try {
    await fn(h);
  } finally {
    h.sim.control.clearFaults();
    await h.close();
  }
}

function assertSane(r: Run, t?: { diagnostic(m: string): void }): void {
  t?.diagnostic(JSON.stringify(r));
  assert.equal(r.liveFailures, 0, "liveness 200 throughout");
  assert.ok(r.minQueue >= 0, `queue depth and in-flight never below 0 (saw ${r.minQueue})`);
}

const HANG: Row = { name: "upstream hangs", apply: (s) => s.control.setFault("all", { hang: true }), clear: clearFaults };

describe("honest signals under each fault (issue 13's table)", () => {
  test("upstream hangs: 503 within the check timeout + 3 s, one change, back within 5 s of the clear", (t) =>
    withRow(HANG, async (h) => {
      const r = await drive(h, HANG);
      assertSane(r, t);
      assert.ok(r.to503 !== undefined && r.to503 <= 8, `time to 503: ${r.to503}`);
      assert.equal(r.flips, 1, "no flapping: half-open is not ready, the trials are getbalance calls");
      assert.ok(r.backTo200 <= 5, `back to 200: ${r.backTo200}`);
    }));

  /** The transport and account rows: each fault's time to 503 and time back, one change each. */
  const TARGETS: (Row & { to503S: number; backS: number })[] = [
    { name: "HTTP 500", apply: (s) => s.control.setFault("all", { status: 500 }), clear: clearFaults, to503S: 2, backS: 5 },
    { name: "HTML bodies", apply: (s) => s.control.setFault("all", { html: true, status: 502 }), clear: clearFaults, to503S: 2, backS: 5 },
    { name: "balance falls to 0", apply: (s) => s.control.setBalance(0), clear: (s) => s.control.setBalance(10), to503S: 2, backS: 4 },
    { name: "key revoked", apply: (s) => s.control.setFault("all", { error: "ERROR_KEY_DOES_NOT_EXIST" }), clear: clearFaults, to503S: 2, backS: 4 },
  ];
  for (const row of TARGETS) {
    test(`${row.name}: 503 within ${row.to503S} s, one change, back within ${row.backS} s of the clear`, (t) =>
      withRow(row, async (h) => {
        const r = await drive(h, row);
        assertSane(r, t);
        assert.ok(r.to503 !== undefined && r.to503 <= row.to503S, `time to 503: ${r.to503}`);
        assert.equal(r.flips, 1);
        assert.ok(r.backTo200 <= row.backS, `back to 200: ${r.backTo200}`);
      }));
  }

  test("every solve ERROR_CAPTCHA_UNSOLVABLE: 503 within 8 s, at most one probation, back within 20 s of the end", (t) => {
    const row: Row = { name: "unsolvable", apply: (s) => s.control.setUnsolvableRatio(1), clear: (s) => s.control.setUnsolvableRatio(0) };
    return withRow(row, async (h) => {
      const r = await drive(h, row);
      assertSane(r, t);
      assert.ok(r.to503 !== undefined && r.to503 <= 8, `time to 503: ${r.to503}`);
      assert.ok(r.flips >= 1 && r.flips <= 2, `200->503 changes: ${r.flips}`);
      assert.ok(r.backTo200 <= 20, `back to 200: ${r.backTo200} (a state the worker can leave)`);
      const history = h.worker.notifier.history();
      t.diagnostic(JSON.stringify(history.map((c) => [c.at - history.at(-1)!.at, c.to, c.issues.map(formatIssue).join(" ")])));
      assert.ok(history.some((c) => c.to === "probation"), "it went on probation");
    });
  });

  test("idle longer than the no-solve window: no 503 on the first task after it", (t) => {
    const row: Row = { name: "idle", apply: () => {}, clear: () => {} };
    return withRow(row, async (h) => {
      const r = await drive(h, row, { idleMs: 15_000 });
      assertSane(r, t);
      assert.equal(r.to503, undefined, "no false no_solve_for");
      assert.equal(r.backTo200, 0);
    });
  });

  test("3 s upstream latency: no 503 within 30 s, but /health warns once the oldest queued task passes --max-queue-wait", (t) => {
    const row: Row = { name: "latency", apply: (s) => s.control.setFault("all", { latencyMs: 3000 }), clear: clearFaults };
    return withRow(row, async (h) => {
      const r = await drive(h, row);
      assertSane(r, t);
      assert.equal(r.to503, undefined, `no 503 within 30 s (first at ${r.to503})`);
      assert.ok(r.warnAt !== undefined && r.warnAt <= 30, `warn at ${r.warnAt}`);
    });
  });

  test("upstream hangs with the default 600 s no-solve window: one change, no half-open flapping", (t) => {
    const row: Row = { ...HANG, flags: { "max-seconds-without-solve": "600s" } };
    return withRow(row, async (h) => {
      const r = await drive(h, row);
      assertSane(r, t);
      assert.equal(r.flips, 1);
      assert.ok(r.backTo200 <= 5, `back to 200: ${r.backTo200}`);
    });
  });
});

describe("readiness history", () => {
  test("/health/history lists each state change newest first; the metric counts them by the state entered", (t) =>
    withRow(HANG, async (h) => {
      await drive(h, HANG, { faultMs: 10_000 });
      const body = (await (await fetch(h.base + "/health/history")).json()) as { state: string; changes: { at: string; from: string; to: string; issues: string[] }[] };
      assert.equal(body.state, "ready");
      assert.deepEqual(body.changes.map((c) => `${c.from}->${c.to}`), ["not_ready->ready", "ready->not_ready", "starting->ready"]);
      assert.ok(body.changes[1]!.issues.length > 0, "the not-ready stretch says why");
      assert.ok(Date.parse(body.changes[0]!.at) > Date.parse(body.changes[1]!.at));
      const metrics = await (await fetch(h.base + "/metrics")).text();
      assert.match(metrics, /^captcha_worker_readiness_changes_total\{to="ready"\} 2$/m);
      assert.match(metrics, /^captcha_worker_readiness_changes_total\{to="not_ready"\} 1$/m);
      assert.match(metrics, /^captcha_worker_readiness_state\{state="ready"\} 1$/m);
    }));
});

describe("evidence beyond the table", () => {
  test("saturation: the plan full while work waits, above --max-saturation of the time, is a metric and a /health warn; readiness stays 200", () =>
    withRow({ ...HANG, flags: { "max-queue-wait": "120s", "error-window": "5m" } }, async (h) => {
      h.sim.control.setFault("in.php", { error: "ERROR_NO_SLOT_AVAILABLE" });
      for (let i = 0; i < 3; i++) h.worker.pool.enqueue("image", { type: "image", image: PNG_B64 });
      await advance(h.clock, 60_000, 500);
      const r = h.worker.view.evaluate();
      assert.equal(r.ready, true, `saturation is no reason to refuse work outright: ${r.issues.map(formatIssue)}`);
      assert.ok(r.snapshot.saturation > 0.9 && r.snapshot.saturationObservedMs >= 30_000, `saturation ${r.snapshot.saturation} over ${r.snapshot.saturationObservedMs} ms`);
      assert.deepEqual(r.warnings.map((w) => w.kind), ["saturation"]);
      const report = (await (await fetch(h.base + "/health")).json()) as { status: string; checks: Record<string, { status: string }[]> };
      assert.equal(report.status, "warn");
      assert.equal(report.checks["solver:saturation"]![0]!.status, "warn");
      const metrics = await (await fetch(h.base + "/metrics")).text();
      const ratio = Number(/^captcha_worker_saturation_ratio (\S+)$/m.exec(metrics)?.[1]);
      assert.ok(ratio > 0.9 && ratio <= 1, `captcha_worker_saturation_ratio ${ratio}`);
      const refused = Number(/^captcha_worker_capacity_refusals_total\{provider="captchaai"\} (\d+)$/m.exec(metrics)?.[1]);
      const submits = h.sim.counts().requests["in.php"]!;
      assert.ok(refused === submits && refused <= 35, `paced probes: ${refused} refusals of ${submits} submits in 60 s`);
    }));

  test("saturation: paced probes alone (no work waiting for long) do not raise it", () =>
    withRow({ ...HANG, flags: { "max-queue-wait": "120s", "error-window": "5m" } }, async (h) => {
      h.sim.control.setFault("in.php", { error: "ERROR_NO_SLOT_AVAILABLE" });
      const task = h.worker.pool.enqueue("image", { type: "image", image: PNG_B64 });
      await advance(h.clock, 3000, 250);
      h.sim.control.clearFaults();
      await advance(h.clock, 57_000, 500);
      assert.equal(task.status !== "queued", true, "taken once the plan had room");
      const r = h.worker.view.evaluate();
      assert.ok(r.snapshot.saturation < 0.1, `saturation ${r.snapshot.saturation}`);
      assert.deepEqual(r.warnings, []);
    }));

  test("ERROR_ZERO_BALANCE re-reads the balance at once: with money it is saturation, without it low_balance", () =>
    withRow(HANG, async (h) => {
      const before = h.sim.counts().requests["res.php:getbalance"] ?? 0;
      h.sim.control.setFault("in.php", { error: "ERROR_ZERO_BALANCE" });
      h.worker.pool.enqueue("image", { type: "image", image: PNG_B64 });
      await advance(h.clock, 200, 100);
      assert.ok((h.sim.counts().requests["res.php:getbalance"] ?? 0) > before, "the refusal made the worker read the balance now");
      assert.equal(h.worker.view.evaluate().ready, true, "there is money: threads ran out, not money");
      assert.ok(h.worker.health.snapshot().saturation > 0, "no free thread: the plan is full while the task waits");
      h.sim.control.setBalance(0.2);
      await advance(h.clock, 2000, 100);
      assert.deepEqual(h.worker.view.evaluate().issues.map(formatIssue), ["low_balance=$0.20"]);
    }));
});

describe("getbalance alone broken", () => {
  test("an idle worker stays ready when only getbalance fails (res.php answers the free probe), and takes and solves work", () =>
    withRow(HANG, async (h) => {
      h.sim.control.setFault("res.php:getbalance", { status: 502 });
      await advance(h.clock, 15_000, 100); // idle: no task, several failed balance checks
      assert.equal(h.worker.checks.result("captchaai_api")!.status, "degraded");
      assert.deepEqual(h.worker.view.evaluate().issues, [], "reachable: the free res.php probe answered");
      const posted = await Promise.all(
        Array.from({ length: 4 }, () => fetch(h.base + "/v1/tasks", { method: "POST", headers: { "content-type": "application/json" }, body: IMAGE }).then((r) => r.status)),
      );
      assert.deepEqual(posted, [202, 202, 202, 202]);
      await advance(h.clock, 3000, 100);
      assert.equal(h.worker.health.snapshot().solved, 4);
    }));
});

describe("upstream unreachable at start", () => {
  test("startup completes, readiness says upstream_unreachable (not ready), and a first good check clears it", async () => {
    const port = await freePort(); // nothing listens there: refused
    const h = await startHarness({ flags: FLAGS, sim: { solveTimeMs: { image: 1000, token: 2000 } }, upstreamUrl: new URL(`http://127.0.0.1:${port}/`), noStartup: true });
    try {
      await eventually(() => h.worker.view.phase === "running", "startup completes");
      const r = await (await fetch(h.base + "/health/ready")).json() as { status: string; issues: string[] };
      assert.deepEqual([r.status, r.issues], ["not_ready", ["upstream_unreachable"]]);
      const deps = await (await fetch(h.base + "/health/dependencies")).json() as { status: string };
      assert.equal(deps.status, "down");
    } finally {
      await h.close();
    }
  });
});
