/**
 * The worker assembled: health state, checks, solver pool and HTTP surface over one upstream.
 * `run`, the demo and the integration tests all start it this way.
 */
import type { Clock } from "../base/clock.ts";
import { formatDuration, type Config, type HostPort } from "../config/config.ts";
import { WorkerError } from "../base/errors.ts";
import { HealthChecks } from "../health/checks.ts";
import { HealthView, UPSTREAM_CHECK, type Readiness } from "../health/health_view.ts";
import { WorkerHealth } from "../health/worker_health.ts";
import { registerHealthRoutes } from "../http/health_routes.ts";
import { Router } from "../http/router.ts";
import { startHttpServer, type HttpServer, type HttpServerOptions } from "../http/server.ts";
import { registerTaskRoutes, type Refusal } from "../http/task_routes.ts";
import { createRedactor, type Logger } from "../base/log.ts";
import { registerMetricsRoute } from "../http/metrics_route.ts";
import { registerStatusRoute } from "../http/status_route.ts";
import { registerProcessMetrics } from "../metrics/process_metrics.ts";
import { Registry } from "../metrics/registry.ts";
import { registerWorkerMetrics, type WorkerMetrics } from "../metrics/worker_metrics.ts";
import { SolverPool } from "../solver/pool.ts";
import type { Task } from "../tasks/task.ts";
import type { TaskParams } from "../http/task_input.ts";
import type { SolverUpstream } from "../solver/upstream_port.ts";
import { createCaptchaAiClient } from "../upstream/captchaai_client.ts";
import { FileJournal } from "../journal/file_journal.ts";

export interface WorkerOptions {
  config: Config;
  /** The CaptchaAI base URL (config.upstream, or the simulator's). */
  upstreamUrl: URL;
  apiKey: string;
  /** @default globalThis.fetch */
  fetch?: typeof fetch;
  clock: Clock;
  log: Logger;
  apiToken?: string | undefined;
  /** Overrides config.listen (tests use port 0). */
  listen?: HostPort;
  http?: HttpServerOptions;
  random?: () => number;
  /** Extra routes before the server starts. */
  extend?: (router: Router, worker: Omit<Worker, "address" | "close">) => void;
}

export interface Worker {
  address: HostPort;
  pool: SolverPool<TaskParams>;
  health: WorkerHealth;
  checks: HealthChecks;
  view: HealthView;
  router: Router;
  registry: Registry;
  /** Finishes startup: the first dependency check ends (or times out), then readiness may pass. */
  startup: Promise<void>;
  /** SIGTERM's first step: readiness flips to draining, new tasks get 503, queued ones stop. */
  beginDrain(): void;
  /** Waits up to `timeoutMs` for in-flight tasks, fails what is left with `shutdown`; returns that count. */
  drain(timeoutMs: number): Promise<number>;
  /** Stops the server and every timer. */
  close(): Promise<void>;
}

/** Starts a worker listening on `listen` (or config.listen); rejects if the address is taken. */
export async function startWorker(o: WorkerOptions): Promise<Worker> {
  const { config, clock, log } = o;
  const health = new WorkerHealth(clock, config.errorWindowMs);
  let metrics: WorkerMetrics | undefined;
  const client = createCaptchaAiClient({
    baseUrl: o.upstreamUrl,
    apiKey: o.apiKey,
    fetch: o.fetch,
    clock,
    timeoutMs: config.checkTimeoutMs,
    onCall: (endpoint, kind, ms) => metrics?.upstreamCall(endpoint, kind, ms),
  });
  const upstream: SolverUpstream<TaskParams> = client;
  // --state-dir: open and replay the journal before anything is accepted (ERR_STATE_DIR, exit 78, when unwritable).
  const opened = config.stateDir === undefined ? undefined : await FileJournal.open(config.stateDir, { log: log.child({ component: "journal" }), clock });
  const journal = opened?.journal;
  const pool = new SolverPool<TaskParams>({
    journal,
    clock,
    upstream,
    health,
    log: log.child({ component: "solver" }),
    threads: config.threads,
    queueMax: config.queueMax,
    taskTimeoutMs: config.taskTimeoutMs,
    firstPollMs: { image: config.firstPoll.imageMs, token: config.firstPoll.tokenMs },
    pollIntervalMs: config.pollIntervalMs,
    bulkhead: config.bulkhead,
    random: o.random,
    onTaskEnded: (task: Task<TaskParams>) => {
      metrics?.taskEnded(task);
      if (log.enabled("debug")) log.debug("task ended", { id: task.id, type: task.type, status: task.status, code: task.error?.code });
      view.evaluate();
    },
  });
  health.setLoadSource(() => pool.load());

  const checks = new HealthChecks({ clock, sanitize: createRedactor([o.apiKey]), random: o.random });
  checks.register({
    name: UPSTREAM_CHECK,
    ttlMs: config.balanceTtlMs,
    timeoutMs: config.checkTimeoutMs,
    // One getbalance per TTL answers both questions: is the upstream reachable, and what is left.
    run: async () => {
      const outcome = await upstream.balance();
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
    log,
    extraIssues: () => (journal?.error === undefined ? [] : [`state_dir=${journal.error}`]),
  });
  if (opened) {
    const restored = pool.restore(opened.replayed);
    log.info("journal replayed", { dir: config.stateDir, records: opened.report.records, skipped: opened.report.skipped, torn: opened.report.torn, ...restored });
  }

  const registry = new Registry();
  metrics = registerWorkerMetrics(registry, view, config);
  const processMetrics = registerProcessMetrics(registry, health.startedAt);

  const router = new Router();
  registerMetricsRoute(router, registry);
  registerHealthRoutes(router, view, log);
  registerStatusRoute(router, view, log);
  registerTaskRoutes(router, {
    pool,
    apiToken: o.apiToken,
    admission: (): Refusal | undefined => {
      if (view.phase === "draining") return { code: "ERR_DRAINING", detail: "The worker is draining." };
      const r = view.evaluate();
      if (r.ready) return undefined;
      // A full queue is answered by the pool with 429, not as unreadiness.
      const blocking = r.issues.filter((i) => !i.startsWith("queue_full="));
      return blocking.length === 0 ? undefined : { code: "ERR_NOT_READY", detail: `Not ready: ${blocking.join(", ")}.` };
    },
  });

  let http: HttpServer | undefined;
  const partial = {
    pool,
    health,
    checks,
    view,
    router,
    registry,
    startup: Promise.resolve(),
    beginDrain: () => {
      if (view.phase === "draining") return;
      view.setPhase("draining");
      const failed = pool.stopAccepting();
      log.info("draining", { in_flight: pool.inFlight, queued_failed: failed });
    },
    drain: async (timeoutMs: number) => {
      await pool.idle(timeoutMs);
      if (journal) {
        const left = pool.suspend();
        if (left > 0) log.info("drain: open tasks kept in the journal for the next start", { count: left, dir: config.stateDir });
        return 0;
      }
      const left = pool.failAll("shutdown", "The worker shut down before the task finished.");
      if (left > 0) log.warn("drain timeout: tasks failed with shutdown", { count: left, drain_timeout: formatDuration(timeoutMs) });
      return left;
    },
    close: async () => {
      checks.stop();
      processMetrics.stop();
      if (journal) pool.suspend();
      else pool.failAll("shutdown", "The worker shut down before the task finished.");
      await http?.close();
      await journal?.close();
      client.close();
    },
  };
  o.extend?.(router, partial);
  http = await startHttpServer(o.listen ?? config.listen, router, log, o.http);
  partial.startup = checks.start().then(() => {
    if (view.phase === "starting") view.setPhase("running");
  });
  return { ...partial, address: http.address };
}

export type { Readiness };
