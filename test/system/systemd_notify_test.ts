import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test, type TestContext } from "node:test";
import { createLogger, type Logger } from "../../src/base/log.ts";
import { startSystemdNotify, type NotifyResult } from "../../src/integrations/systemd_notify.ts";
import { startSimulator } from "../../src/sim/simulator.ts";
import { collectOutput, spawnCli, waitForStart } from "../_support/cli.ts";
import { advance, startHarness, type Harness } from "../_support/harness.ts";
import { requireProgram } from "../_support/programs.ts";

/**
 * A stand-in for systemd's notification socket: receives each datagram with recvmsg, closes the fds
 * systemd-notify passes with its BARRIER=1 (closing them is what answers the barrier, as systemd
 * does), and prints every datagram as one JSON line.
 */
const LISTENER_PY = `
import array, json, os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print(json.dumps({"listening": sys.argv[1]}), flush=True)
while True:
    data, ancdata, _flags, _addr = s.recvmsg(65536, socket.CMSG_SPACE(64 * 4))
    for level, kind, payload in ancdata:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds = array.array("i")
            fds.frombytes(payload[: len(payload) - len(payload) % fds.itemsize])
            for fd in fds:
                os.close(fd)
    print(json.dumps({"message": data.decode("utf-8", "replace")}), flush=True)
`;

type Message = Record<string, string>;

interface NotifyListener {
  socket: string;
  /** Every message but systemd-notify's BARRIER=1, as VAR=VALUE maps, in arrival order. */
  messages: Message[];
  /** Resolves once `cond(messages)` holds; rejects after `timeoutMs` of real time. */
  waitFor(cond: (m: Message[]) => boolean, what: string, timeoutMs?: number): Promise<void>;
}

/** Starts the python3 listener on `<tmpdir>/notify.sock`; it is stopped and removed after the test. */
async function startListener(t: TestContext, python: string): Promise<NotifyListener> {
  const dir = mkdtempSync(join(tmpdir(), "captcha-worker-notify-"));
  const script = join(dir, "listener.py");
  writeFileSync(script, LISTENER_PY);
  const socket = join(dir, "notify.sock");
  const child: ChildProcess = spawn(python, [script, socket], { stdio: ["ignore", "pipe", "pipe"] });
  t.after(async () => {
    if (child.exitCode === null) {
      child.kill("SIGTERM");
      await once(child, "exit");
    }
    rmSync(dir, { recursive: true, force: true });
  });
  const messages: Message[] = [];
  const waiters = new Set<() => void>();
  let listening!: () => void;
  const bound = new Promise<void>((resolve) => (listening = resolve));
  let stderr = "";
  child.stderr!.on("data", (c: Buffer) => (stderr += c));
  let buf = "";
  child.stdout!.on("data", (c: Buffer) => {
    buf += c;
    let nl: number;
    while ((nl = buf.indexOf("\n")) >= 0) {
      const rec = JSON.parse(buf.slice(0, nl)) as { listening?: string; message?: string };
      buf = buf.slice(nl + 1);
      if (rec.listening) listening();
      if (rec.message === undefined) continue;
      const m = Object.fromEntries(rec.message.split("\n").map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));
      if (m.BARRIER === undefined) messages.push(m);
      for (const w of waiters) w();
    }
  });
  await Promise.race([bound, once(child, "exit").then(() => Promise.reject(new Error(`listener exited: ${stderr}`)))]);
  return {
    socket,
    messages,
    waitFor: (cond, what, timeoutMs = 20_000) =>
      new Promise((resolve, reject) => {
        if (cond(messages)) return resolve();
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no ${what} within ${timeoutMs}ms; got ${JSON.stringify(messages)}`));
        }, timeoutMs);
        const check = () => {
          if (!cond(messages)) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        };
        waiters.add(check);
      }),
  };
}

const count = (key: string) => (m: Message[]) => m.filter((x) => x[key] !== undefined).length;
const has = (key: string) => (m: Message[]) => m.some((x) => x[key] !== undefined);

function captureLog(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  return { log: createLogger({ level: "debug", write: (l) => lines.push(l) }), lines };
}

function logged(lines: string[], level: string, msg: string): number {
  return lines.filter((l) => l.includes(`"level":"${level}"`) && l.includes(`"msg":"${msg}"`)).length;
}

describe("systemd notifications through the real systemd-notify", () => {
  async function setup(t: TestContext, env: Record<string, string> = {}) {
    const notifyPath = requireProgram(t, "systemd-notify", "systemd");
    const python = notifyPath && requireProgram(t, "python3", "python3");
    if (!python) return undefined;
    const listener = await startListener(t, python);
    const h = await startHarness();
    t.after(() => h.close());
    const { log, lines } = captureLog();
    const notify = startSystemdNotify({
      env: { NOTIFY_SOCKET: listener.socket, PATH: process.env.PATH, ...env },
      clock: h.clock, log, view: h.worker.view, readiness: h.worker.notifier, startup: h.worker.startup, pid: process.pid,
    })!;
    t.after(() => notify.close());
    assert.ok(notify);
    return { listener, h, notify, lines };
  }

  test("READY=1 with a STATUS after startup, STATUS on a readiness change, STOPPING=1 on drain", async (t) => {
    const s = await setup(t);
    if (!s) return;
    const { listener, h, notify } = s;
    await listener.waitFor(has("READY"), "READY=1");
    assert.deepEqual(listener.messages[0], { READY: "1", STATUS: "ready: 0 queued, 0 in flight" });

    h.sim.control.setBalance(0.42);
    await advance(h.clock, 75_000, 1000); // past the 60 s balance TTL, then the next status refresh
    await listener.waitFor((m) => m.some((x) => x.STATUS?.includes("low_balance")), "STATUS with low_balance");
    assert.equal(listener.messages.at(-1)!.STATUS, "not ready: low_balance=$0.42");

    notify.stopping();
    h.worker.beginDrain();
    await listener.waitFor((m) => m.some((x) => x.STATUS?.startsWith("draining:")), "STATUS=draining: after STOPPING=1");
    assert.deepEqual(listener.messages.slice(-2), [{ STOPPING: "1", STATUS: "draining" }, { STATUS: "draining: 0 in flight" }]);
  });

  test("WATCHDOG=1 every WATCHDOG_USEC/2 while live, none while liveness fails, again once it holds", async (t) => {
    const s = await setup(t, { WATCHDOG_USEC: "2000000" });
    if (!s) return;
    const { listener, h, notify, lines } = s;
    await listener.waitFor(has("READY"), "READY=1");
    for (let i = 1; i <= 3; i++) {
      await h.clock.advance(1000); // WATCHDOG_USEC/2
      await listener.waitFor((m) => count("WATCHDOG")(m) === i, `WATCHDOG=1 #${i}`);
    }

    // The liveness failure /health/live reports as 503: work pending, the scheduler overdue past the stall limit.
    const stuckSince = h.clock.now() - 61_000;
    h.worker.health.setLoadSource(() => ({ queueDepth: 1, inFlight: 0, oldestQueuedAgeMs: h.clock.now() - stuckSince, lastProgressAt: stuckSince }));
    assert.equal(h.worker.view.live().ok, false);
    for (let i = 0; i < 5; i++) await h.clock.advance(1000);
    h.worker.health.setLoadSource(() => h.worker.pool.load());
    await h.clock.advance(1000);
    await listener.waitFor((m) => count("WATCHDOG")(m) === 4, "WATCHDOG=1 after recovery");
    // Messages go out in order, so once STOPPING=1 arrived every ping queued before it has too.
    notify.stopping();
    await listener.waitFor(has("STOPPING"), "STOPPING=1");
    assert.equal(count("WATCHDOG")(listener.messages), 4, "no ping while liveness failed");
    assert.equal(logged(lines, "warn", "liveness failed: WATCHDOG=1 withheld, so systemd restarts the worker"), 1);
    assert.equal(logged(lines, "info", "liveness recovered: WATCHDOG=1 pings resume"), 1);
    assert.equal(logged(lines, "warn", "systemd-notify failed"), 0);
  });

  test("captcha-worker run under NOTIFY_SOCKET: READY=1, repeated WATCHDOG=1, SIGTERM gives STOPPING=1 and exit 0", async (t) => {
    const notifyPath = requireProgram(t, "systemd-notify", "systemd");
    const python = notifyPath && requireProgram(t, "python3", "python3");
    if (!python) return;
    const listener = await startListener(t, python);
    const key = "notify-e2e-key-3f9a1c7d2b0123456";
    const sim = await startSimulator({ host: "127.0.0.1", port: 0 }, { keys: [key] });
    t.after(() => sim.close());
    const child = spawnCli(["run", "--listen", "127.0.0.1:0", "--upstream", sim.url.href], {
      CAPTCHAAI_API_KEY: key,
      NOTIFY_SOCKET: listener.socket,
      WATCHDOG_USEC: "400000",
    });
    const out = collectOutput(child);
    t.after(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    });
    const exited = once(child, "exit");
    await waitForStart(child);
    await listener.waitFor(has("READY"), "READY=1");
    assert.match(listener.messages.find((m) => m.READY)!.STATUS ?? "", /^ready: 0 queued, 0 in flight$/);
    await listener.waitFor((m) => count("WATCHDOG")(m) >= 3, "three WATCHDOG=1 pings");
    child.kill("SIGTERM");
    const [code] = (await exited) as [number | null];
    assert.equal(code, 0, out.text());
    await listener.waitFor(has("STOPPING"), "STOPPING=1");
    assert.ok(!out.text().includes("systemd-notify failed"), out.text());
  });
});
