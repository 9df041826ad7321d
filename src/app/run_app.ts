/** `run` from start to exit: the worker started, the start line, the demo's banner and traffic, then the stop ladder on a signal (docs/commands.md). */
import type { ProviderSpec, ProvidersReload } from "../config/providers.ts";
import { systemClock, type Clock } from "../base/clock.ts";
import { formatErrorMessage, isWorkerError, type WorkerError } from "../base/errors.ts";
import { createLogger } from "../base/log.ts";
import { SecretSet } from "../base/redact.ts";
import { EXIT_CONFIG, EXIT_FAILURE, EXIT_TEMPFAIL, type Runtime, type SignalSource } from "../base/runtime.ts";
import { VERSION } from "../base/version.ts";
import type { Config } from "../config/config.ts";
import { formatHostPort, parseHostPort } from "../config/host_port.ts";
import { ENV_PREFIX } from "../config/options.ts";
import { stopOnSignal } from "./lifecycle.ts";
import { PLAIN_START_ERRORS, startWorker, type Worker, type WorkerOptions } from "./start.ts";
import { DEMO_REMINDER_MS } from "./demo.ts";
import { formatDuration } from "../config/duration.ts";

/** Lines held back until the start line; a start that logs more than this writes them as they come. */
const MAX_HELD_LINES = 1000;
/** A start slower than this (a journal replay on a slow disk, a hung mount) writes what it held, and says it is still starting. */
export const SLOW_START_MS = 10_000;
/** How long the demo lets its sample tasks finish on Ctrl-C. */
const DEMO_DRAIN_MS = 300;

export interface RunAppOptions {
  config: Config;
  /** Undefined only with --demo. */
  apiKey: string | undefined;
  /** Where the key came from, for messages (e.g. `--api-key-file /etc/key`); never the key. */
  keyOrigin?: string | undefined;
  /** Re-reads the key on SIGHUP when it comes from a file. */
  reloadApiKey?: () => string | undefined;
  /** The files the key reload reads, watched for changes (app/key_files_watch.ts). */
  keyFiles?: () => readonly string[];
  apiToken: string | undefined;
  /** The peers' shared token (--peer-token-file), if any. */
  peerToken?: string | undefined;
  /** A providers file's providers with their keys (docs/providers.md). */
  providers?: readonly ProviderSpec[] | undefined;
  /** Re-reads the providers file and its keys on SIGHUP (docs/providers.md). */
  rereadProviders?: (() => ProvidersReload) | undefined;
  runtime: Runtime;
  /**
   * The command line a person types to start this run again with another flag (`npm start --`,
   * `captcha-worker run`): a taken address's message names it. @default "captcha-worker run"
   */
  invocation?: string;
  /** @default the system clock */
  clock?: Clock;
  /** Starts the worker. @default startWorker (tests slow it down) */
  start?: (o: WorkerOptions) => Promise<Worker>;
}

/**
 * A taken (or refused) address: the listen error's message with the command line that picks another,
 * e.g. `npm start -- --listen 127.0.0.1:8081` (the next port when this one is in use), and the variable.
 */
export function plainMessage(err: WorkerError, invocation: string): string {
  if (err.code !== "ERR_LISTEN" || err.field === undefined || !err.field.startsWith("--")) return err.message;
  const at = parseHostPort(String(err.data.address ?? ""));
  const taken = err.data.reason === "EADDRINUSE";
  const next = at && taken && at.port > 0 ? formatHostPort({ host: at.host, port: at.port < 65535 ? at.port + 1 : at.port - 1 }) : "HOST:PORT";
  const variable = ENV_PREFIX + err.field.slice(2).toUpperCase().replaceAll("-", "_");
  return formatErrorMessage("ERR_LISTEN", {
    ...err.data,
    reason: taken ? "EADDRINUSE (another process listens there)" : String(err.data.reason),
    hint: `; choose another address: ${invocation} ${err.field} ${next} (or set ${variable})`,
  });
}

/**
 * What stops the run, and whether SIGHUP re-reads the key files. The demo on a terminal (stdin,
 * stdout or stderr one) takes SIGHUP as the terminal hanging up (its window closed, the ssh session
 * gone) and stops as at Ctrl-C: re-reading its files, it lived on with nobody to see it, holding
 * its port, and the next `npm start` found the address taken. Anywhere else SIGHUP reloads.
 */
export function stopSignals(rt: Pick<Runtime, "onSignal" | "onReload" | "isTTY" | "stderrIsTTY" | "stdinIsTTY">, demo: boolean): { onSignal: SignalSource; reloads: boolean } {
  const onReload = rt.onReload;
  const hangup = demo && (rt.isTTY || rt.stderrIsTTY === true || rt.stdinIsTTY === true);
  if (!hangup || onReload === undefined) return { onSignal: rt.onSignal, reloads: true };
  return {
    onSignal(handler) {
      const offStop = rt.onSignal(handler);
      const offHangup = onReload(() => handler("SIGHUP"));
      return () => {
        offStop();
        offHangup();
      };
    },
    reloads: false,
  };
}

/** Runs the worker until a signal stopped it; resolves with the exit code (0 after a drain; 1, 75 (state dir owned by another process) or 78 when it could not start). */
export async function runApp(o: RunAppOptions): Promise<number> {
  const { config, runtime: rt } = o;
  const secrets = new SecretSet([o.apiKey, o.apiToken, o.peerToken, ...(o.providers ?? []).map((p) => p.key)]);
  // The start line is the first line of every run: what is logged while the worker starts (the
  // journal's replay, the systemd watchdog, the demo's simulator) is held and written just after it.
  let held: string[] | undefined = [];
  // A failed start says one thing: a call it had under way (a balance check) logs nothing after it.
  let muted = false;
  const release = () => {
    const lines = held ?? [];
    held = undefined;
    for (const line of lines) rt.stderr(line);
  };
  const write = (line: string) => {
    if (muted) return;
    if (held === undefined) return rt.stderr(line);
    held.push(line);
    if (held.length >= MAX_HELD_LINES) release();
  };
  const log = createLogger({ level: config.logLevel, format: config.logFormat, secrets, write });
  const clock = o.clock ?? systemClock;
  // Holding lines must not hide a start that hangs: past SLOW_START_MS they go out, with a word why.
  const slow = clock.setTimeout(() => {
    if (held === undefined) return;
    release();
    log.warn("still starting: what it logged so far is above; the start line follows once it listens", { after: formatDuration(SLOW_START_MS) });
  }, SLOW_START_MS);

  let worker: Worker;
  try {
    worker = await (o.start ?? startWorker)({
      config,
      apiKey: o.apiKey,
      keyOrigin: o.keyOrigin,
      reloadApiKey: o.reloadApiKey,
      keyFiles: o.keyFiles,
      secrets,
      apiToken: o.apiToken,
      peerToken: o.peerToken,
      providers: o.providers,
      rereadProviders: o.rereadProviders,
      clock,
      log,
      env: rt.env,
      process: rt.process,
    });
  } catch (err) {
    slow.cancel();
    release();
    muted = true;
    // The one line a person reads, plain whatever --log-format, as every configuration error is
    // (docs/commands.md, Exit codes): a taken address names the command line to run with another, an unusable
    // or owned --state-dir says why. A listener that cannot start is not logged besides.
    if (PLAIN_START_ERRORS.some((code) => isWorkerError(err, code))) rt.stderr(`captcha-worker: ${plainMessage(err as WorkerError, o.invocation ?? "captcha-worker run")}\n`);
    if (isWorkerError(err, "ERR_STATE_DIR_BUSY")) return EXIT_TEMPFAIL;
    return isWorkerError(err, "ERR_STATE_DIR") || isWorkerError(err, "ERR_CONFIG_INVALID") ? EXIT_CONFIG : EXIT_FAILURE;
  }
  slow.cancel();
  // Signals are handled from before the start line on: whoever reads it may stop the worker at once.
  // The demo's tasks are samples nobody waits for: Ctrl-C ends it within a second, not a drain timeout.
  const drainTimeoutMs = config.demo ? Math.min(config.drainTimeoutMs, DEMO_DRAIN_MS) : config.drainTimeoutMs;
  const signals = stopSignals(rt, config.demo);
  const stopped = stopOnSignal({ onSignal: signals.onSignal, exit: rt.exit, drainTimeoutMs, log }, worker);
  // SIGHUP is always handled (Node's default would exit): it re-reads the client keys file, the key file and the providers file.
  const offReload = signals.reloads ? rt.onReload?.(() => worker.reload()) : undefined;
  void stopped.finally(() => offReload?.());
  const listen = formatHostPort(worker.address);
  const pending = held ?? [];
  held = undefined;
  log.info("captcha-worker started", {
    version: VERSION,
    node: rt.process.nodeVersion,
    listen,
    // With a providers file, its providers in order and their plans' threads; else the lone upstream and --threads.
    ...(config.providersFile !== undefined && !worker.demo
      ? { providers: worker.pool.providers }
      : { upstream: worker.demo ? `simulator ${worker.demo.simulator.url.host}` : config.upstream.host }),
    threads: worker.config.threads,
    demo: config.demo,
  });
  for (const line of pending) rt.stderr(line);
  if (worker.demo) {
    // On a terminal the log scrolls the banner away: its short form comes back at Enter and every few minutes (README, The demo).
    worker.demo.remind(worker.address, { write: rt.stdout, everyMs: rt.isTTY ? DEMO_REMINDER_MS : undefined, onEnter: rt.onEnter });
    rt.stdout(worker.demo.banner(worker.address));
    worker.demo.startTraffic(worker.pool);
  }
  return stopped;
}
