/**
 * systemd's notify protocol (docs/deploy-vm.md, systemd): READY=1, STATUS= lines, STOPPING=1, and WATCHDOG=1 only while
 * liveness holds. Node cannot send to a Unix datagram socket, so each message is one run of
 * systemd-notify(1), one at a time; the trade-off is a process per message, and the unit needs
 * NotifyAccess=all because the sender is a child.
 */
import { loadBuiltin } from "../base/builtin.ts";
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";
import type { Clock, Timer } from "../base/clock.ts";
import type { HealthView, Readiness } from "../health/health_view.ts";
import { formatIssue } from "../health/readiness_issue.ts";
import type { ReadinessNotifier } from "../health/readiness_notifier.ts";
import type { Logger } from "../base/log.ts";

/**
 * Longer than systemd-notify's own wait: v252 sends the message, then waits up to 5 s on a barrier
 * (BARRIER=1 with an fd) that systemd answers once it has processed the message. Without that wait
 * (`--no-block`) systemd may drop a message whose sender already exited, so it is not used.
 */
export const NOTIFY_CHILD_TIMEOUT_MS = 7000;

export interface NotifyResult {
  /** The exit code, or -1 when the child was killed (timeout) or could not run. */
  code: number;
  /** What went wrong, for the log (systemd-notify's stderr, or the signal). */
  detail?: string;
}

export interface SystemdNotifyOptions {
  /** Reads NOTIFY_SOCKET, WATCHDOG_USEC, WATCHDOG_PID and PATH. */
  env: Record<string, string | undefined>;
  clock: Clock;
  log: Logger;
  view: Pick<HealthView, "live" | "evaluate">;
  /** STATUS= follows its transitions at once. */
  readiness: Pick<ReadinessNotifier, "subscribe">;
  /** READY=1 is sent when this resolves (the worker's first dependency check ended). */
  startup: Promise<void>;
  /** Sends one message. @default systemd-notify from PATH with NOTIFY_SOCKET, killed after NOTIFY_CHILD_TIMEOUT_MS */
  spawnNotify?: (args: string[]) => Promise<NotifyResult>;
  /** This process's pid: WATCHDOG_PID must name it for the watchdog to be ours. */
  pid: number;
  /** How often readiness is re-read, so STATUS follows it even when no probe asks. @default 10_000 */
  statusEveryMs?: number;
}

export interface SystemdNotifier {
  /** STOPPING=1 with STATUS=draining; call before the drain begins. */
  stopping(): void;
  /** Stops the timers and the readiness subscription; resolves once messages already queued were sent. */
  close(): Promise<void>;
}

type Kind = "watchdog" | "status" | "other";

/**
 * Starts notifying systemd; undefined when NOTIFY_SOCKET is unset (not under systemd) or when
 * systemd-notify cannot be found (logged once).
 */
export function startSystemdNotify(o: SystemdNotifyOptions): SystemdNotifier | undefined {
  const socket = o.env.NOTIFY_SOCKET;
  if (!socket) return undefined;
  const { clock, log, view } = o;
  let spawnNotify = o.spawnNotify;
  if (!spawnNotify) {
    const path = findOnPath("systemd-notify", o.env.PATH);
    if (path === undefined) {
      log.warn("NOTIFY_SOCKET is set but systemd-notify is not on PATH: no systemd notifications", { path: o.env.PATH ?? "" });
      return undefined;
    }
    spawnNotify = spawnSystemdNotify(path, socket, NOTIFY_CHILD_TIMEOUT_MS);
  }
  const run = spawnNotify;

  const queue: { args: string[]; kind: Kind }[] = [];
  let pumping: Promise<void> | undefined;
  let failing = false;
  let closed = false;
  let readySent = false;
  let lastStatus: string | undefined;

  const pump = async () => {
    while (queue.length > 0) {
      const m = queue.shift()!;
      let result: NotifyResult;
      try {
        result = await run(m.args);
      } catch (err) {
        result = { code: -1, detail: err instanceof Error ? err.message : String(err) };
      }
      if (result.code === 0) {
        if (failing) log.info("systemd-notify works again");
        failing = false;
      } else {
        // One warning per streak: a wrong socket would otherwise warn on every watchdog ping.
        const fields = { message: m.args.map((a) => a.split("=")[0]).join(","), code: result.code, detail: result.detail };
        if (failing) log.debug("systemd-notify failed", fields);
        else log.warn("systemd-notify failed", fields);
        failing = true;
      }
    }
    pumping = undefined;
  };

  const send = (args: string[], kind: Kind) => {
    if (closed) return;
    // A slow barrier must not pile up children: one ping waiting is enough, and a newer status
    // replaces one not yet sent.
    if (kind === "watchdog" && queue.some((m) => m.kind === "watchdog")) return;
    const last = queue.at(-1);
    if (kind === "status" && last?.kind === "status") last.args = args;
    else queue.push({ args, kind });
    pumping ??= pump();
  };

  const sendStatus = (r: Readiness) => {
    const line = statusLine(r);
    if (!readySent || line === lastStatus) return;
    lastStatus = line;
    send([`STATUS=${line}`], "status");
  };

  const off = o.readiness.subscribe(sendStatus);
  o.startup.then(
    () => {
      if (closed) return;
      const line = statusLine(view.evaluate());
      readySent = true;
      lastStatus = line;
      send(["READY=1", `STATUS=${line}`], "other");
    },
    (err: unknown) => log.error("startup failed: READY=1 not sent", { err }),
  );

  const timers: Timer[] = [];
  const every = (ms: number, fn: () => void) => {
    const tick = () => {
      if (closed) return;
      fn();
      timers[slot] = clock.setTimeout(tick, ms);
    };
    const slot = timers.push(clock.setTimeout(tick, ms)) - 1;
  };
  every(o.statusEveryMs ?? 10_000, () => sendStatus(view.evaluate()));

  const watchdogMs = watchdogIntervalMs(o.env, o.pid, log);
  if (watchdogMs !== undefined) {
    let withheld = false;
    every(watchdogMs, () => {
      const live = view.live();
      if (live.ok) {
        if (withheld) log.info("liveness recovered: WATCHDOG=1 pings resume");
        withheld = false;
        send(["WATCHDOG=1"], "watchdog");
      } else if (!withheld) {
        withheld = true;
        log.warn("liveness failed: WATCHDOG=1 withheld, so systemd restarts the worker", { stalled_ms: live.stalledMs });
      }
    });
    log.info("systemd watchdog on", { ping_every_ms: watchdogMs });
  }

  return {
    stopping: () => {
      lastStatus = "draining";
      send(["STOPPING=1", "STATUS=draining"], "other");
    },
    close: async () => {
      for (const t of timers) t.cancel();
      off();
      for (let i = queue.length - 1; i >= 0; i--) if (queue[i]!.kind === "watchdog") queue.splice(i, 1);
      closed = true;
      await pumping;
    },
  };
}

/** The one-line STATUS= text for a readiness (newlines would start another assignment). */
export function statusLine(r: Readiness): string {
  const s = r.snapshot;
  let line: string;
  if (r.issues.some((i) => i.kind === "draining")) line = `draining: ${s.inFlight} in flight`;
  else if (r.ready) line = `ready: ${s.queueDepth} queued, ${s.inFlight} in flight`;
  else line = `not ready: ${r.issues.map(formatIssue).join(", ")}`;
  return line.replace(/[\r\n]+/g, " ");
}

/** WATCHDOG_USEC/2 in ms, as sd_watchdog_enabled(3) reads it; undefined when off or meant for another pid. */
function watchdogIntervalMs(env: Record<string, string | undefined>, pid: number, log: Logger): number | undefined {
  const usec = env.WATCHDOG_USEC;
  if (usec === undefined || usec === "") return undefined;
  if (!/^\d+$/.test(usec) || Number(usec) === 0) {
    log.warn("WATCHDOG_USEC is not a positive whole number: watchdog pings off", { watchdog_usec: usec });
    return undefined;
  }
  const owner = env.WATCHDOG_PID;
  if (owner !== undefined && owner !== "" && Number(owner) !== pid) {
    log.info("WATCHDOG_PID names another process: watchdog pings off", { watchdog_pid: owner, pid });
    return undefined;
  }
  return Math.max(1, Math.floor(Number(usec) / 2000));
}

function findOnPath(program: string, path: string | undefined): string | undefined {
  for (const dir of (path ?? "").split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, program);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/** Runs `path ARGS...` with only NOTIFY_SOCKET in its environment, killed after `timeoutMs`. */
function spawnSystemdNotify(path: string, socket: string, timeoutMs: number): (args: string[]) => Promise<NotifyResult> {
  return (args) =>
    new Promise((resolve) => {
      let stderr = "";
      let settled = false;
      const done = (r: NotifyResult) => {
        if (settled) return;
        settled = true;
        resolve(r);
      };
      // The child is real process I/O, so its deadline is on the real clock (spawn's own timeout).
      const child = loadBuiltin("node:child_process").spawn(path, args, {
        env: { NOTIFY_SOCKET: socket },
        stdio: ["ignore", "ignore", "pipe"],
        timeout: timeoutMs,
        killSignal: "SIGKILL",
      });
      child.stderr!.on("data", (c: Buffer) => {
        if (stderr.length < 500) stderr += c.toString("utf8");
      });
      child.once("error", (err) => done({ code: -1, detail: err.message }));
      child.once("close", (code, signal) =>
        done(code === 0 ? { code } : { code: code ?? -1, detail: signal ? `killed by ${signal} after ${timeoutMs}ms` : stderr.trim() || undefined }),
      );
    });
}
