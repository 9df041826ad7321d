/**
 * `captcha-worker run`: the worker on the CaptchaAI API, or with --demo on the built-in simulator
 * with sample traffic. Logs one line on start; SIGTERM/SIGINT drain it (SPEC §8).
 */
import { systemClock } from "../base/clock.ts";
import { formatHostPort, parseConfig, type FlagValues } from "../config/config.ts";
import { isWorkerError, WorkerError } from "../base/errors.ts";
import { createLogger } from "../base/log.ts";
import { startHaproxyAgent, type HaproxyAgent } from "../integrations/haproxy_agent.ts";
import { runUntilSignal } from "../app/lifecycle.ts";
import { startDemoTraffic } from "../app/demo_traffic.ts";
import { startSystemdNotify } from "../integrations/systemd_notify.ts";
import { startSimulator, type Simulator } from "../sim/simulator.ts";
import { VERSION } from "../base/version.ts";
import { startWorker, type Worker } from "../app/worker.ts";
import { loadApiKey } from "../config/load_key.ts";
import { EXIT_CONFIG, EXIT_FAILURE, type Runtime } from "../base/runtime.ts";

const DEMO_KEY = "demo-key-for-the-built-in-simulator";

export async function runRunCommand(flags: FlagValues, rt: Runtime): Promise<number> {
  const { config } = parseConfig(flags, rt.env);
  const key = loadApiKey(config, flags, rt);
  const apiToken = config.apiTokenFile === undefined ? undefined : readToken(rt, config.apiTokenFile);
  const log = createLogger({ level: config.logLevel, format: config.logFormat, secrets: [key?.value, apiToken].filter((s): s is string => s !== undefined), write: rt.stderr });
  const clock = systemClock;

  let sim: Simulator | undefined;
  let upstreamUrl = config.upstream;
  let apiKey = key?.value ?? DEMO_KEY;
  if (config.demo) {
    // The demo never sends a real key anywhere: the in-process simulator takes only its own.
    apiKey = DEMO_KEY;
    sim = await startSimulator({ host: "127.0.0.1", port: 0 }, { keys: [DEMO_KEY], solveTimeMs: { image: 2000, token: 6000 }, balanceUsd: 5, log });
    upstreamUrl = sim.url;
  }
  const demoConfig = config.demo
    ? { ...config, upstream: upstreamUrl, firstPoll: { imageMs: 1000, tokenMs: 3000 }, pollIntervalMs: Math.min(config.pollIntervalMs, 1000) }
    : config;

  let worker: Worker;
  try {
    worker = await startWorker({ config: demoConfig, upstreamUrl, apiKey, clock, log, apiToken });
  } catch (err) {
    await sim?.close();
    if (isWorkerError(err, "ERR_STATE_DIR")) {
      log.error("cannot use the state directory", { err });
      return EXIT_CONFIG;
    }
    log.error("cannot listen", { listen: formatHostPort(config.listen), err });
    return EXIT_FAILURE;
  }
  let agent: HaproxyAgent | undefined;
  if (config.agentListen) {
    try {
      agent = await startHaproxyAgent({ listen: config.agentListen, view: worker.view, threads: config.threads, queueMax: config.queueMax, log });
    } catch (err) {
      log.error("cannot listen for HAProxy agent checks", { listen: formatHostPort(config.agentListen), err });
      await worker.close();
      await sim?.close();
      return EXIT_FAILURE;
    }
  }
  const listen = formatHostPort(worker.address);
  // Signals are handled from before the start line on: whoever reads it may stop the worker at once.
  let stopDemo = () => {};
  let notify: ReturnType<typeof startSystemdNotify>;
  const stopped = runUntilSignal(rt, { ...worker, beginDrain: () => (notify?.stopping(), stopDemo(), worker.beginDrain()) }, config.drainTimeoutMs, log);
  log.info("captcha-worker started", {
    version: VERSION,
    node: process.version,
    listen,
    upstream: config.demo ? `simulator ${upstreamUrl.host}` : config.upstream.host,
    threads: config.threads,
    demo: config.demo,
  });
  if (config.demo) {
    const base = `http://${listen.replace(/^0\.0\.0\.0:/, "127.0.0.1:")}`;
    rt.stdout(
      `\nDemo: the worker solves sample tasks on the built-in simulator (no key, no network).\n` +
        `  readiness     ${base}/health/ready\n  health report ${base}/health\n  metrics       ${base}/metrics\n  simulator     ${upstreamUrl.href}__sim/counts\n` +
        `Try: curl -X POST ${upstreamUrl.href}__sim/balance -H 'content-type: application/json' -d '{"balance":0.5}'  (then watch readiness)\n` +
        `Stop with Ctrl-C.\n\n`,
    );
    stopDemo = startDemoTraffic(worker.pool, clock, log);
  }
  // TODO(lead): pid from Runtime
  notify = startSystemdNotify({ env: rt.env, clock, log, view: worker.view, readiness: worker.notifier, startup: worker.startup, pid: process.pid });
  const code = await stopped;
  await notify?.close();
  await agent?.close();
  await sim?.close();
  return code;
}

function readToken(rt: Runtime, path: string): string {
  let token: string;
  try {
    token = rt.readFile(path).trim();
  } catch (err) {
    throw new WorkerError("ERR_CONFIG_INVALID", `Invalid --api-token-file: cannot read ${JSON.stringify(path)} (${(err as NodeJS.ErrnoException).code ?? "unreadable"})`, {
      field: "--api-token-file",
    });
  }
  if (!/^[\x21-\x7e]{16,4096}$/.test(token)) {
    throw new WorkerError("ERR_CONFIG_INVALID", "Invalid --api-token-file: expected one token of 16 to 4096 printable characters", { field: "--api-token-file" });
  }
  return token;
}
