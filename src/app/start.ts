/**
 * THE composition root: the whole worker assembled from its parts (demo simulator, upstream client,
 * journal, pool, health, checks, metrics, routes, HTTP server, HAProxy agent, systemd notify) with
 * its stop ladder. `run`, the demo and the in-process test harness all start the worker here.
 */
import type { Clock } from "../base/clock.ts";
import { WorkerError } from "../base/errors.ts";
import { createRedactor, type Logger } from "../base/log.ts";
import type { Config, HostPort } from "../config/config.ts";
import { formatHostPort } from "../config/host_port.ts";
import { HealthChecks } from "../health/checks.ts";
import { HealthView, UPSTREAM_CHECK } from "../health/health_view.ts";
import { ReadinessNotifier } from "../health/readiness_notifier.ts";
import type { ProcessStats } from "../base/process_stats.ts";
import { WorkerHealth } from "../health/worker_health.ts";
import { registerHealthRoutes } from "../http/health_routes.ts";
import { registerMetricsRoute } from "../http/metrics_route.ts";
import { Router } from "../http/router.ts";
import { startHttpServer, type HttpServer, type HttpServerOptions } from "../http/server.ts";
import { registerStatusRoute } from "../http/status_route.ts";
import { registerTaskRoutes } from "../http/task_routes.ts";
import { startHaproxyAgent, type HaproxyAgent } from "../integrations/haproxy_agent.ts";
import { startSystemdNotify } from "../integrations/systemd_notify.ts";
import { FileJournal } from "../journal/file_journal.ts";
import { registerProcessMetrics } from "../metrics/process_metrics.ts";
import { Registry } from "../metrics/registry.ts";
import { registerWorkerMetrics, type WorkerMetrics } from "../metrics/worker_metrics.ts";
import { SolverPool } from "../solver/pool.ts";
import type { Task } from "../tasks/task.ts";
import { createCaptchaAiClient } from "../upstream/captchaai_client.ts";
import { createAdmission } from "./admission.ts";
import { startDemo, type Demo } from "./demo.ts";
import { createStopLadder, type StopLadder } from "./lifecycle.ts";

export interface WorkerOptions {
  config: Config;
  /** The CaptchaAI key; required unless config.demo (the demo's simulator takes only its own). */
  apiKey: string | undefined;
  /** Bearer token required on the task API, if any. */
  apiToken?: string | undefined;
  clock: Clock;
  log: Logger;
  /** Read by systemd notify (NOTIFY_SOCKET, WATCHDOG_USEC, WATCHDOG_PID, PATH). @default {} (no notifications) */
  env?: Record<string, string | undefined>;
  /** What metrics and systemd read of the process (bin.ts passes the real one through the Runtime). */
  process: ProcessStats;
  /** The CaptchaAI base URL. @default config.upstream (the simulator's with --demo) */
  upstreamUrl?: URL;
  /** @default globalThis.fetch */
  fetch?: typeof fetch;
  http?: HttpServerOptions;
  random?: () => number;
}

/** The started worker: its parts (for the agent, tests and the demo) and the stop ladder's rungs. */
export interface Worker extends StopLadder {
  /** The bound HTTP address (the real port when asked for port 0). */
  address: HostPort;
  /** The effective configuration (with --demo: pointed at the simulator). */
  config: Config;
  pool: SolverPool;
  health: WorkerHealth;
  checks: HealthChecks;
  view: HealthView;
  /** Publishes readiness transitions (log line, systemd STATUS); check() after a state change. */
  notifier: ReadinessNotifier;
  router: Router;
  registry: Registry;
  agent: HaproxyAgent | undefined;
  demo: Demo | undefined;
  /** Resolves when startup ends: the first dependency check ended (or timed out), then readiness may pass. */
  startup: Promise<void>;
}

/**
 * Starts the worker. Rejects, after logging what failed and closing what had started, with
 * ERR_STATE_DIR when --state-dir is unusable, or the listen error when an address is taken.
 */
export async function startWorker(o: WorkerOptions): Promise<Worker> {
  const { clock, log } = o;
  const demo = o.config.demo ? await startDemo(o.config, clock, log) : undefined;
  const config = demo?.config ?? o.config;
  const apiKey = demo?.apiKey ?? o.apiKey;
  if (apiKey === undefined) throw new WorkerError("ERR_NO_API_KEY", "No CaptchaAI key and no --demo");
  const health = new WorkerHealth(clock, config.errorWindowMs);
  let metrics: WorkerMetrics | undefined;
  const client = createCaptchaAiClient({
    baseUrl: o.upstreamUrl ?? config.upstream,
    apiKey,
    fetch: o.fetch,
    clock,
    timeoutMs: config.checkTimeoutMs,
    connectTimeoutMs: config.connectTimeoutMs,
    onCall: (endpoint, kind, ms) => metrics?.upstreamCall(endpoint, kind, ms),
  });

  // --state-dir: open and replay the journal before anything is accepted (ERR_STATE_DIR, exit 78, when unwritable).
  let opened: Awaited<ReturnType<typeof FileJournal.open>> | undefined;
  try {
    opened = config.stateDir === undefined ? undefined : await FileJournal.open(config.stateDir, { log: log.child({ component: "journal" }), clock });
  } catch (err) {
    log.error("cannot use the state directory", { err });
    client.close();
    await demo?.close();
    throw err;
  }
  const journal = opened?.journal;
  const pool = new SolverPool({
    journal,
    clock,
    upstream: client,
    health,
    log: log.child({ component: "solver" }),
    threads: config.threads,
    queueMax: config.queueMax,
    queueMaxBytes: config.queueMaxBytes,
    taskTimeoutMs: config.taskTimeoutMs,
    firstPollMs: { image: config.firstPoll.imageMs, token: config.firstPoll.tokenMs },
    pollIntervalMs: config.pollIntervalMs,
    bulkhead: config.bulkhead,
    random: o.random,
    onTaskEnded: (task: Task) => {
      metrics?.taskEnded(task);
      if (log.enabled("debug")) log.debug("task ended", { id: task.id, type: task.type, status: task.status, code: task.error?.code });
      notifier.check();
    },
  });
  health.setLoadSource(() => pool.load());

  const checks = new HealthChecks({ clock, sanitize: createRedactor([apiKey]), random: o.random });
  checks.register({
    name: UPSTREAM_CHECK,
    ttlMs: config.balanceTtlMs,
    timeoutMs: config.checkTimeoutMs,
    // One getbalance per TTL answers both questions: is the upstream reachable, and what is left.
    run: async (signal) => {
      const outcome = await client.balance(signal);
      if (outcome.kind === "ok") {
        pool.accountAccepted();
        return { observedValue: outcome.value, observedUnit: "USD" };
      }
      if (outcome.kind === "fatal_account") pool.accountRejected(outcome.code);
      const code = "code" in outcome ? outcome.code : outcome.kind;
      throw new WorkerError("ERR_CHECK_FAILED", `getbalance failed: ${code}`);
    },
  });

  const view = new HealthView({
    clock,
    health,
    checks,
    thresholds: config,
    stallMs: Math.max(60_000, 3 * config.pollIntervalMs),
    extraIssues: () => (journal?.error === undefined ? [] : [`state_dir=${journal.error}`]),
  });
  const notifier = new ReadinessNotifier({ view, clock, log });
  checks.onResult(() => notifier.check());
  health.onStateChange(() => notifier.check());
  if (opened) {
    const restored = pool.restore(opened.replayed);
    log.info("journal replayed", { dir: config.stateDir, records: opened.report.records, skipped: opened.report.skipped, torn: opened.report.torn, ...restored });
  }

  const registry = new Registry();
  metrics = registerWorkerMetrics(registry, { view, config, nodeVersion: o.process.nodeVersion });
  const processMetrics = registerProcessMetrics(registry, { stats: o.process, startTimeMs: health.startedAt });

  const router = new Router();
  registerMetricsRoute(router, registry);
  registerHealthRoutes(router, view, log);
  registerStatusRoute(router, view, log);
  registerTaskRoutes(router, { pool, apiToken: o.apiToken, admission: createAdmission(view) });

  const parts = {
    log,
    view,
    notifier,
    pool,
    waits: pool.tasks,
    journal,
    stateDir: config.stateDir,
    notify: undefined as ReturnType<typeof startSystemdNotify>,
    demo,
    timers: [checks, processMetrics],
    http: undefined as HttpServer | undefined,
    client,
    agent: undefined as HaproxyAgent | undefined,
  };
  const ladder = createStopLadder(parts);
  try {
    parts.http = await startHttpServer(config.listen, router, log, o.http);
  } catch (err) {
    log.error("cannot listen", { listen: formatHostPort(config.listen), err });
    await ladder.close();
    throw err;
  }
  const startup = checks.start().then(() => {
    if (view.phase === "starting") view.setPhase("running");
    notifier.check();
    notifier.start();
  });
  if (config.agentListen) {
    try {
      parts.agent = await startHaproxyAgent({ listen: config.agentListen, view, threads: config.threads, queueMax: config.queueMax, log });
    } catch (err) {
      log.error("cannot listen for HAProxy agent checks", { listen: formatHostPort(config.agentListen), err });
      await ladder.close();
      throw err;
    }
  }
  parts.notify = startSystemdNotify({ env: o.env ?? {}, clock, log, view, readiness: notifier, startup, pid: o.process.pid });

  return {
    address: parts.http.address,
    config,
    pool,
    health,
    checks,
    view,
    notifier,
    router,
    registry,
    agent: parts.agent,
    demo,
    startup,
    get state() {
      return ladder.state;
    },
    beginDrain: ladder.beginDrain,
    drain: ladder.drain,
    close: ladder.close,
  };
}
