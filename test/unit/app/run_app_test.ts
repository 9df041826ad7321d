import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { isWorkerError, WorkerError } from "../../../src/base/errors.ts";
import type { Runtime } from "../../../src/base/runtime.ts";
import { parseConfig } from "../../../src/config/parse_config.ts";
import { plainMessage, runApp, SLOW_START_MS, stopSignals } from "../../../src/app/run_app.ts";
import { listen } from "../../../src/base/listen.ts";
import { createServer, type Server } from "node:net";
import type { Worker, WorkerOptions } from "../../../src/app/start.ts";
import { FakeClock, settle } from "../../_support/fake_clock.ts";
import { testProcess } from "../../_support/process_stats.ts";

function fakeRuntime(): { rt: Runtime; err: string[] } {
  const err: string[] = [];
  const rt: Runtime = {
    env: {},
    stdout: () => {},
    stderr: (t) => void err.push(t),
    readFile: () => "",
    exists: () => false,
    onSignal: () => () => {},
    exit: (code) => {
      throw new Error(`exit ${code}`);
    },
    isTTY: false,
    process: testProcess,
  };
  return { rt, err };
}

/** A start that logs one line, then waits until the test lets it fail as an unusable state dir. */
function hangingStart() {
  let fail!: () => void;
  const gate = new Promise<void>((resolve) => (fail = resolve));
  const start = async (o: WorkerOptions): Promise<Worker> => {
    o.log.warn("journal: record skipped (unreadable or not applicable)", { line: "{" });
    await gate;
    throw new WorkerError("ERR_STATE_DIR", "The journal in the state directory /x (--state-dir) cannot be read (EIO).", { field: "--state-dir" });
  };
  return { start, fail };
}

/** runApp on a fake clock with a start that hangs until `fail()`. */
async function beginRun() {
  const clock = new FakeClock();
  const { rt, err } = fakeRuntime();
  const { start, fail } = hangingStart();
  const { config } = parseConfig({ listen: "127.0.0.1:0" }, {});
  const exited = runApp({ config, apiKey: "k".repeat(32), apiToken: undefined, runtime: rt, clock, start });
  await settle();
  return { clock, err, fail, exited };
}

describe("runApp", () => {
  test("a start slower than SLOW_START_MS writes what it held back and says it is still starting, rather than nothing", async () => {
    const { clock, err, fail, exited } = await beginRun();
    await clock.advance(SLOW_START_MS - 1);
    assert.deepEqual(err, [], "held: the start line is meant to come first");
    await clock.advance(1);
    const lines = err.map((l) => JSON.parse(l) as { level: string; msg: string });
    assert.deepEqual(lines.map((l) => `${l.level} ${l.msg}`), [
      "warn journal: record skipped (unreadable or not applicable)",
      "warn still starting: what it logged so far is above; the start line follows once it listens",
    ]);
    fail();
    assert.equal(await exited, 78);
    assert.match(err.at(-1)!, /^captcha-worker: The journal in the state directory \/x \(--state-dir\) cannot be read \(EIO\)\.\n$/);
  });

  test("a start that ends before SLOW_START_MS never says it is still starting", async () => {
    const { clock, err, fail, exited } = await beginRun();
    fail();
    assert.equal(await exited, 78);
    await clock.advance(2 * SLOW_START_MS);
    assert.ok(!err.some((l) => l.includes("still starting")), err.join(""));
    assert.equal(err.length, 2, "the held line, then the plain exit-78 line");
  });

  test("a failed start's plain line is the last: a call it had under way logs nothing after it", async () => {
    const { rt, err } = fakeRuntime();
    let logLate!: () => void;
    const start = async (o: WorkerOptions): Promise<Worker> => {
      logLate = () => o.log.warn("upstream check failed", { check: "captchaai_api" });
      throw new WorkerError("ERR_STATE_DIR", "The state directory /x (--state-dir) cannot be read (EIO).", { field: "--state-dir" });
    };
    const { config } = parseConfig({ listen: "127.0.0.1:0" }, {});
    assert.equal(await runApp({ config, apiKey: "k".repeat(32), apiToken: undefined, runtime: rt, clock: new FakeClock(), start }), 78);
    logLate();
    assert.equal(err.length, 1, err.join(""));
    assert.match(err[0]!, /^captcha-worker: The state directory/);
  });
});

/** The ERR_LISTEN a second listener gets on an address `first` holds, as base/listen.ts makes it. */
async function takenAddressError(first: Server, o: { purpose?: string; field?: string; host?: string } = {}): Promise<WorkerError> {
  const taken = await listen(first, { host: o.host ?? "127.0.0.1", port: 0 });
  try {
    await listen(createServer(), taken, o);
  } catch (err) {
    if (isWorkerError(err, "ERR_LISTEN")) return err;
    throw err;
  }
  throw new Error("listened twice on one address");
}

describe("runApp: a start that cannot listen", () => {
  test("plainMessage names the command line to run again with the next port, and the variable", async (t) => {
    const first = createServer();
    t.after(() => first.close());
    const err = await takenAddressError(first, { field: "--listen" });
    const address = String(err.data.address);
    const port = Number(address.split(":")[1]);
    assert.equal(
      plainMessage(err, "npm start --"),
      `Cannot listen on ${address}: EADDRINUSE (another process listens there); choose another address: npm start -- --listen 127.0.0.1:${port + 1} (or set CAPTCHA_WORKER_LISTEN)`,
    );
    assert.ok(plainMessage(err, "captcha-worker run").endsWith(`choose another address: captcha-worker run --listen 127.0.0.1:${port + 1} (or set CAPTCHA_WORKER_LISTEN)`));
  });

  test("plainMessage: the agent's address with its purpose and flag; an error without a flag, or another code, as it is", async (t) => {
    const first = createServer();
    const second = createServer();
    t.after(() => (first.close(), second.close()));
    const agent = await takenAddressError(first, { purpose: "for HAProxy agent checks", field: "--agent-listen" });
    assert.match(plainMessage(agent, "captcha-worker run"), /^Cannot listen for HAProxy agent checks on 127\.0\.0\.1:\d+: EADDRINUSE \(another process listens there\); choose another address: captcha-worker run --agent-listen 127\.0\.0\.1:\d+ \(or set CAPTCHA_WORKER_AGENT_LISTEN\)$/);
    const bare = await takenAddressError(second);
    assert.equal(plainMessage(bare, "npm start --"), bare.message);
    const state = new WorkerError("ERR_STATE_DIR", "The state directory /x (--state-dir): EIO", { field: "--state-dir" });
    assert.equal(plainMessage(state, "npm start --"), state.message);
  });

  test("a taken address is one line on stderr, plain, naming the invocation it was given, exit 1", async (t) => {
    const first = createServer();
    t.after(() => first.close());
    const taken = await takenAddressError(first, { field: "--listen" });
    for (const format of ["json", "text"]) {
      const { rt, err } = fakeRuntime();
      const { config } = parseConfig({ listen: "127.0.0.1:0", "log-format": format }, {});
      const start = async (): Promise<Worker> => {
        throw taken;
      };
      const code = await runApp({ config, apiKey: "k".repeat(32), apiToken: undefined, runtime: rt, clock: new FakeClock(), start, invocation: "npm start --" });
      assert.equal(code, 1);
      assert.equal(err.join("").split("\n").filter((l) => l !== "").length, 1, err.join(""));
      assert.match(err[0]!, /^captcha-worker: Cannot listen on .*: npm start -- --listen 127\.0\.0\.1:\d+ \(or set CAPTCHA_WORKER_LISTEN\)\n$/);
    }
  });
});

describe("stopSignals", () => {
  /** A runtime whose signals the test sends: `send("SIGHUP")`. */
  function signalled(tty: { isTTY?: boolean; stderrIsTTY?: boolean; stdinIsTTY?: boolean }) {
    const stops = new Set<(s: "SIGTERM" | "SIGINT" | "SIGHUP") => void>();
    const hups = new Set<() => void>();
    const rt = {
      isTTY: tty.isTTY ?? false,
      stderrIsTTY: tty.stderrIsTTY,
      stdinIsTTY: tty.stdinIsTTY,
      onSignal: (h: (s: "SIGTERM" | "SIGINT" | "SIGHUP") => void) => (stops.add(h), () => void stops.delete(h)),
      onReload: (h: () => void) => (hups.add(h), () => void hups.delete(h)),
    };
    const send = (s: "SIGTERM" | "SIGINT" | "SIGHUP") => (s === "SIGHUP" ? [...hups].forEach((h) => h()) : [...stops].forEach((h) => h(s)));
    return { rt, send, hups };
  }

  test("the demo on a terminal stops at SIGHUP (the terminal hung up), whichever of stdin, stdout or stderr is one; SIGHUP no longer reloads it", () => {
    for (const tty of [{ isTTY: true }, { stderrIsTTY: true }, { stdinIsTTY: true }]) {
      const { rt, send, hups } = signalled(tty);
      const { onSignal, reloads } = stopSignals(rt, true);
      assert.equal(reloads, false, JSON.stringify(tty));
      const got: string[] = [];
      const off = onSignal((s) => got.push(s));
      send("SIGHUP");
      send("SIGINT");
      assert.deepEqual(got, ["SIGHUP", "SIGINT"]);
      off();
      assert.equal(hups.size, 0, "the unsubscribe lets SIGHUP go too");
    }
  });

  test("off a terminal, or not the demo, SIGHUP reloads and stops nothing", () => {
    for (const [tty, demo] of [[{}, true], [{ isTTY: true, stderrIsTTY: true, stdinIsTTY: true }, false]] as const) {
      const { rt, send } = signalled(tty);
      const { onSignal, reloads } = stopSignals(rt, demo);
      assert.equal(reloads, true);
      const got: string[] = [];
      onSignal((s) => got.push(s));
      send("SIGHUP");
      send("SIGTERM");
      assert.deepEqual(got, ["SIGTERM"]);
    }
  });
});
