import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { createLogger, type Logger } from "../../../src/base/log.ts";
import { HealthChecks } from "../../../src/health/checks.ts";
import { HealthView, type Readiness } from "../../../src/health/health_view.ts";
import { ReadinessNotifier } from "../../../src/health/readiness_notifier.ts";
import { WorkerHealth } from "../../../src/health/worker_health.ts";
import { startSystemdNotify, statusLine, type NotifyResult } from "../../../src/integrations/systemd_notify.ts";
import { FakeClock, settle } from "../../_support/fake_clock.ts";
import { issues } from "../../_support/readiness_issues.ts";

const PID = 4242;

function captureLog(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  return { log: createLogger({ level: "debug", write: (l) => lines.push(l) }), lines };
}

function logged(lines: string[], level: string, msg: string): number {
  return lines.filter((l) => l.includes(`"level":"${level}"`) && l.includes(`"msg":"${msg}"`)).length;
}

/** A HealthView on a fake clock whose liveness the test sets. */
function fakeView(clock: FakeClock, log: Logger) {
  const health = new WorkerHealth(clock, 60_000);
  let stalled = false;
  health.setLoadSource(() => ({ queueDepth: 1, inFlight: 0, oldestQueuedAgeMs: 0, lastProgressAt: stalled ? clock.now() - 61_000 : clock.now() }));
  const thresholds = { maxConsecutiveFailures: 10, maxWithoutSolveMs: 600_000, minBalanceUsd: 1, maxErrorRate: 0.5, queueMax: 10, maxQueueWaitMs: 60_000, maxSaturation: 0.1 };
  const view = new HealthView({ clock, health, checks: new HealthChecks({ clock }), thresholds, stallMs: 60_000 });
  view.setPhase("running");
  const readiness = new ReadinessNotifier({ view, clock, log });
  return { view, readiness, ports: { view, readiness }, setStalled: (s: boolean) => void (stalled = s) };
}

/** A spawnNotify whose children end when the test says so. */
function manualSpawner() {
  const calls: { args: string[]; end: (r: NotifyResult) => void }[] = [];
  let running = 0;
  let maxRunning = 0;
  const spawnNotify = (args: string[]) =>
    new Promise<NotifyResult>((resolve) => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      calls.push({ args, end: (r) => (running--, resolve(r)) });
    });
  return { spawnNotify, calls, maxRunning: () => maxRunning };
}

describe("startSystemdNotify", () => {
  test("returns undefined and spawns nothing when NOTIFY_SOCKET is unset", async () => {
    const clock = new FakeClock();
    const { log } = captureLog();
    const s = manualSpawner();
    const notify = startSystemdNotify({ env: { WATCHDOG_USEC: "2000000" }, clock, log, ...fakeView(clock, log).ports, pid: PID, startup: Promise.resolve(), spawnNotify: s.spawnNotify });
    assert.equal(notify, undefined);
    await clock.advance(30_000);
    assert.equal(s.calls.length, 0);
    assert.equal(clock.pendingCount, 0);
  });

  test("returns undefined with one warning when systemd-notify is not on PATH", () => {
    const clock = new FakeClock();
    const { log, lines } = captureLog();
    const empty = mkdtempSync(join(tmpdir(), "captcha-worker-path-"));
    try {
      const notify = startSystemdNotify({ env: { NOTIFY_SOCKET: "/run/x.sock", PATH: empty }, clock, log, ...fakeView(clock, log).ports, pid: PID, startup: Promise.resolve() });
      assert.equal(notify, undefined);
      assert.equal(lines.filter((l) => l.includes('"level":"warn"')).length, 1);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  test("sends one message at a time, keeps at most one watchdog ping queued, and logs failures at warn without throwing", async () => {
    const clock = new FakeClock();
    const { log, lines } = captureLog();
    const s = manualSpawner();
    const notify = startSystemdNotify({
      env: { NOTIFY_SOCKET: "/run/x.sock", WATCHDOG_USEC: "2000000" },
      clock, log, ...fakeView(clock, log).ports, pid: PID, startup: Promise.resolve(), spawnNotify: s.spawnNotify,
    })!;
    await settle();
    assert.deepEqual(s.calls.map((c) => c.args), [["READY=1", "STATUS=ready: 1 queued, 0 in flight"]]);
    await clock.advance(9000); // nine pings due while READY=1 hangs
    assert.equal(s.calls.length, 1);
    s.calls[0]!.end({ code: 1, detail: "Failed to notify init system" });
    await settle();
    assert.deepEqual(s.calls.map((c) => c.args[0]), ["READY=1", "WATCHDOG=1"]);
    notify.stopping();
    s.calls[1]!.end({ code: 1 });
    await settle();
    assert.deepEqual(s.calls[2]!.args, ["STOPPING=1", "STATUS=draining"]);
    s.calls[2]!.end({ code: 0 });
    await settle();
    assert.equal(s.maxRunning(), 1);
    assert.equal(logged(lines, "warn", "systemd-notify failed"), 1, "one warning per failure streak");
    assert.equal(logged(lines, "info", "systemd-notify works again"), 1);
    await notify.close();
    assert.equal(clock.pendingCount, 0, "close stops the timers");
  });

  test("no watchdog pings when WATCHDOG_PID names another process", async () => {
    const clock = new FakeClock();
    const { log } = captureLog();
    const s = manualSpawner();
    const notify = startSystemdNotify({
      env: { NOTIFY_SOCKET: "/run/x.sock", WATCHDOG_USEC: "2000000", WATCHDOG_PID: "1" },
      clock, log, ...fakeView(clock, log).ports, startup: Promise.resolve(), spawnNotify: s.spawnNotify, pid: 4242,
    })!;
    await settle();
    s.calls[0]!.end({ code: 0 });
    await clock.advance(9000);
    assert.deepEqual(s.calls.map((c) => c.args[0]), ["READY=1"]);
    await notify.close();
  });

  test("withholds WATCHDOG=1 while liveness fails, warning once, and resumes when it holds again", async () => {
    const clock = new FakeClock();
    const { log, lines } = captureLog();
    const sent: string[] = [];
    const spawnNotify = async (args: string[]) => (sent.push(args[0]!), { code: 0 });
    const { view, readiness, setStalled } = fakeView(clock, log);
    const notify = startSystemdNotify({ env: { NOTIFY_SOCKET: "/run/x.sock", WATCHDOG_USEC: "2000000" }, clock, log, view, readiness, startup: Promise.resolve(), spawnNotify, pid: PID })!;
    await clock.advance(2000); // WATCHDOG_USEC/2: a ping every second
    setStalled(true);
    await clock.advance(4000);
    setStalled(false);
    await clock.advance(1000);
    assert.deepEqual(sent, ["READY=1", "WATCHDOG=1", "WATCHDOG=1", "WATCHDOG=1"]);
    assert.equal(logged(lines, "warn", "liveness failed: WATCHDOG=1 withheld, so systemd restarts the worker"), 1);
    await notify.close();
  });
});

describe("statusLine", () => {
  const readiness = (over: Partial<Readiness>, load = { queueDepth: 2, inFlight: 3 }): Readiness => {
    const clock = new FakeClock();
    const health = new WorkerHealth(clock, 60_000);
    health.setLoadSource(() => ({ ...load, oldestQueuedAgeMs: 0, lastProgressAt: clock.now() }));
    return { phase: "running", state: "ready", ready: true, issues: [], warnings: [], probationSince: undefined, snapshot: health.snapshot(), balanceUsd: undefined, balanceAgeMs: undefined, ...over };
  };

  test("statusLine says ready with the load, not ready with every issue, draining with what is in flight", () => {
    assert.equal(statusLine(readiness({})), "ready: 2 queued, 3 in flight");
    assert.equal(statusLine(readiness({ ready: false, issues: issues("low_balance=$0.42", "circuit_open") })), "not ready: low_balance=$0.42, circuit_open");
    assert.equal(statusLine(readiness({ phase: "draining", ready: false, issues: issues("draining") })), "draining: 3 in flight");
  });

  test("statusLine keeps STATUS= one line: newlines in an issue become spaces", () => {
    assert.equal(statusLine(readiness({ ready: false, issues: [{ kind: "state_dir", reason: "a\r\nb" }] })), "not ready: state_dir=a b");
  });
});

describe("startSystemdNotify and readiness", () => {
  test("STATUS= follows a published readiness transition at once, and only after READY=1", async () => {
    const clock = new FakeClock();
    const { log } = captureLog();
    const sent: string[][] = [];
    const spawnNotify = async (args: string[]) => (sent.push(args), { code: 0 });
    const health = new WorkerHealth(clock, 60_000);
    const view = new HealthView({ clock, health, checks: new HealthChecks({ clock }), thresholds: { maxConsecutiveFailures: 10, maxWithoutSolveMs: 600_000, minBalanceUsd: 1, maxErrorRate: 0.5, queueMax: 10, maxQueueWaitMs: 60_000, maxSaturation: 0.1 }, stallMs: 60_000 });
    const readiness = new ReadinessNotifier({ view, clock, log });
    let started!: () => void;
    const startup = new Promise<void>((r) => (started = r));
    const notify = startSystemdNotify({ env: { NOTIFY_SOCKET: "/run/x.sock" }, clock, log, view, readiness, startup, spawnNotify, pid: PID })!;
    health.circuit("open");
    readiness.check();
    await settle();
    assert.deepEqual(sent, [], "nothing before READY=1");
    view.setPhase("running");
    started();
    await settle();
    assert.deepEqual(sent, [["READY=1", "STATUS=not ready: circuit_open"]]);
    health.circuit("closed");
    readiness.check();
    await settle();
    assert.deepEqual(sent.at(-1), ["STATUS=ready: 0 queued, 0 in flight"]);
    await notify.close();
  });
});
