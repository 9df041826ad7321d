/**
 * The steps startWorker takes, each making one group of parts from the groups made before it (never
 * from one made later): it subscribes what it makes to the task-end hub and adds what must be
 * stopped to the stop ladder's list (`started`), where the part is made.
 */
import { registerTypesRoute } from "../http/types_route.ts";
import type { Callbacks } from "../gateway/callbacks.ts";
import { ByteBudget } from "../base/byte_budget.ts";
import type { Clock } from "../base/clock.ts";
import { watchRefusals } from "../base/dir_refusals.ts";
import type { Logger } from "../base/log.ts";
import type { ProcessStats } from "../base/process_stats.ts";
import type { SecretSet } from "../base/redact.ts";
import { PeerRouter } from "../cluster/peer_router.ts";
import type { Config } from "../config/config.ts";
import type { ClientKeys } from "../gateway/client_keys.ts";
import type { Gateway } from "../gateway/gateway.ts";
import { createGatewayParts } from "../gateway/gateway_parts.ts";
import { HealthChecks } from "../health/checks.ts";
import { HealthView, UPSTREAM_CHECK } from "../health/health_view.ts";
import { ReadinessNotifier } from "../health/readiness_notifier.ts";
import { startRecoveryTrials } from "../health/recovery_trials.ts";
import { UnsupportedTypes } from "../health/unsupported_types.ts";
import { WorkerHealth } from "../health/worker_health.ts";
import { DEFAULT_BODY_BUDGET } from "../http/body.ts";
import { registerHealthRoutes } from "../http/health_routes.ts";
import { registerMetricsRoute } from "../http/metrics_route.ts";
import { sendProblem } from "../http/problem.ts";
import { Router } from "../http/router.ts";
import { registerStatusRoute } from "../http/status_route.ts";
import { registerTaskRoutes } from "../http/task_routes.ts";
import { FileJournal, type ReplayedJournal } from "../journal/file_journal.ts";
import { ClientMetrics } from "../metrics/client_metrics.ts";
import { registerProcessMetrics } from "../metrics/process_metrics.ts";
import { Registry } from "../metrics/registry.ts";
import { registerWorkerMetrics, type WorkerMetrics } from "../metrics/worker_metrics.ts";
import { SolverPool } from "../solver/pool.ts";
import { StatusHistory } from "../status_report/status_history.ts";
import type { TaskEndHub } from "../tasks/task_end_hub.ts";
import type { CaptchaAiClient } from "../upstream/captchaai_client.ts";
import { createAdmission } from "../intake/admission.ts";
import { createIntake } from "../intake/submit_task.ts";
import type { StopPart } from "./lifecycle.ts";
import { registerUpstreamCheck } from "./upstream_check.ts";

/** What every step is given: the clock and log, the hub task ends go to, and the ladder's list. */
export interface Wiring {
  config: Config;
  clock: Clock;
  log: Logger;
  taskEnds: TaskEndHub;
  /** What the stop ladder stops, in the order it started. */
  started: StopPart[];
}

/** --state-dir: locks it and replays the journal (read-only) before anything is accepted; throws (exit 78 unusable, 75 owned) after logging. */
export async function openJournal(w: Omit<Wiring, "taskEnds" | "started">, pid: number): Promise<ReplayedJournal | undefined> {
  if (w.config.stateDir === undefined) return undefined;
  try {
    return await FileJournal.replay(w.config.stateDir, { log: w.log.child({ component: "journal" }), clock: w.clock, pid });
  } catch (err) {
    w.log.error("cannot use the state directory", { err });
    throw err;
  }
}

export interface HealthParts {
  health: WorkerHealth;
  checks: HealthChecks;
  view: HealthView;
  /** Publishes readiness transitions (log line, systemd STATUS); check() after a state change. */
  notifier: ReadinessNotifier;
  /** The status page's last hour. */
  history: StatusHistory;
  /** Task types the upstream refused lately as unsupported (refused at submit for a while; never readiness). */
  unsupported: UnsupportedTypes;
}

/** Health: the worker's state, its dependency checks, readiness (re-evaluated as each task ends), the recovery trials and the status history. */
export function createHealth(w: Wiring, o: { secrets: SecretSet; journal: FileJournal | undefined; random?: (() => number) | undefined }): HealthParts {
  const { config, clock, log } = w;
  const health = new WorkerHealth(clock, config.errorWindowMs, { maxConsecutiveFailures: config.maxConsecutiveFailures });
  const checks = new HealthChecks({ clock, sanitize: o.secrets.redact, random: o.random });
  const journal = o.journal;
  const view = new HealthView({
    clock,
    health,
    checks,
    thresholds: config,
    stallMs: Math.max(60_000, 3 * config.pollIntervalMs),
    extraIssues: () => (journal?.error === undefined ? [] : [{ kind: "state_dir", reason: journal.error }]),
  });
  const notifier = new ReadinessNotifier({ view, clock, log, onPassing: () => health.markReady() });
  const trials = startRecoveryTrials({ clock, evaluate: () => view.evaluate(), trial: () => checks.refresh(UPSTREAM_CHECK) });
  checks.onResult(() => notifier.check());
  health.onStateChange(() => notifier.check());
  const history = new StatusHistory({ clock });
  history.start(() => view.evaluate(), (l) => notifier.subscribe(l));
  w.taskEnds.subscribe((task) => history.taskEnded(task));
  w.taskEnds.subscribe(() => notifier.check());
  const unsupported = new UnsupportedTypes(clock, {
    onLearned: (type, code, refuseForMs) =>
      log.warn("the upstream does not take this task type; new tasks of it are refused at submit for a while, then one is tried again", { type, code, refuse_for_s: refuseForMs / 1000 }),
  });
  w.taskEnds.subscribe((task) => unsupported.taskEnded(task));
  w.started.push(trials, checks, history);
  return { health, checks, view, notifier, history, unsupported };
}

export interface MetricsParts {
  registry: Registry;
  metrics: WorkerMetrics;
}

/** The Prometheus registry with the worker's and the process's metrics; refusals of the state directory counted from now (the lock is held). */
export function createMetrics(w: Wiring, o: { health: HealthParts; process: ProcessStats }): MetricsParts {
  const { config } = w;
  const registry = new Registry();
  const refusals = config.stateDir === undefined ? undefined : watchRefusals(config.stateDir, { clock: w.clock, log: w.log.child({ component: "journal" }) });
  const { view, notifier, health } = o.health;
  const metrics = registerWorkerMetrics(registry, {
    view,
    readinessChanges: () => notifier.changes,
    config,
    nodeVersion: o.process.nodeVersion,
    stateDirRefusals: () => refusals?.count ?? 0,
    unsupported: () => o.health.unsupported.counts(),
  });
  w.taskEnds.subscribe((task) => metrics.taskEnded(task));
  const processMetrics = registerProcessMetrics(registry, { stats: o.process, startTimeMs: health.startedAt });
  w.started.push(processMetrics, ...(refusals ? [refusals] : []));
  return { registry, metrics };
}

export interface SolverOptions {
  client: CaptchaAiClient;
  health: HealthParts;
  journal: FileJournal | undefined;
  /** Where the key came from, named when the upstream refuses it (undefined with --demo). */
  keyOrigin: string | undefined;
  random?: (() => number) | undefined;
}

/** The solver pool, publishing each task's end; its load feeds health, and the balance check feeds it. */
export function createSolver(w: Wiring, o: SolverOptions): SolverPool {
  const { config, clock, log } = w;
  const { health, checks } = o.health;
  const pool = new SolverPool({
    clock,
    upstream: o.client,
    health,
    log: log.child({ component: "solver" }),
    limits: { threads: config.threads, queueMax: config.queueMax, queueMaxBytes: config.queueMaxBytes, bulkhead: config.bulkhead },
    timing: {
      taskTimeoutMs: config.taskTimeoutMs,
      firstPollMs: { image: config.firstPoll.imageMs, token: config.firstPoll.tokenMs },
      pollIntervalMs: config.pollIntervalMs,
    },
    account: {
      minBalanceUsd: config.minBalanceUsd,
      keyOrigin: o.keyOrigin,
      // Evidence (a transport failure, a refusal for money) re-reads the balance now, single flight.
      onEvidence: () => void checks.refresh(UPSTREAM_CHECK),
    },
    taskEnds: w.taskEnds,
    journal: o.journal,
    nodeId: config.nodeId,
    random: o.random,
  });
  w.taskEnds.subscribe((task) => {
    if (log.enabled("debug")) log.debug("task ended", { id: task.id, type: task.type, status: task.status, code: task.error?.code });
  });
  health.setLoadSource(() => pool.load());
  registerUpstreamCheck(checks, { client: o.client, pool, clock, ttlMs: config.balanceTtlMs, timeoutMs: config.checkTimeoutMs });
  return pool;
}

export interface RouteOptions {
  pool: SolverPool;
  health: HealthParts;
  metrics: MetricsParts;
  /** The gateway's clients (--client-keys-file, or the demo's key); undefined: no gateway. */
  clientKeys: ClientKeys | undefined;
  /** Whether clientKeys came from --client-keys-file: then they also authenticate /v1/tasks. */
  keysFromFile: boolean;
  apiToken: string | undefined;
  peerToken: string | undefined;
  /** The upstream the status page names. */
  upstreamUrl: URL | undefined;
  /** With --state-dir: where callbacks owed are kept across a restart. */
  journal: FileJournal | undefined;
}

/** Every route: metrics, health, status, the task API and, with client keys, the 2captcha-compatible gateway. */
export function registerRoutes(w: Wiring, o: RouteOptions): { router: Router; gateway: Gateway | undefined; callbacks: Callbacks | undefined } {
  const { config, clock, log } = w;
  const { pool, clientKeys } = o;
  const { view, notifier, history, checks, unsupported } = o.health;
  const { registry } = o.metrics;
  const router = new Router();
  registerMetricsRoute(router, registry);
  registerHealthRoutes(router, view, notifier, log);
  registerStatusRoute(router, view, log, { history, notifier, config, upstream: o.upstreamUrl, unsupported });
  registerTypesRoute(router);
  const admission = createAdmission(view, { probationAdmits: config.threads });
  // README, Scaling out: reads of a task another node owns are forwarded to it (a forwarded one needs the peer token).
  const routing = config.peers.length > 0 || o.peerToken !== undefined
    ? new PeerRouter({ nodeId: config.nodeId, peers: config.peers, token: o.peerToken, taskTimeoutMs: config.taskTimeoutMs, clock, log: log.child({ component: "cluster" }), registry, sendError: sendProblem })
    : undefined;
  // One budget for request bodies being read at once, whichever API they arrive on.
  const bodies = new ByteBudget(DEFAULT_BODY_BUDGET);
  const clientMetrics = clientKeys && new ClientMetrics(registry, { names: () => clientKeys.names, openOf: (name) => pool.openOf(name) });
  if (clientMetrics) w.taskEnds.subscribe((task) => clientMetrics.ended(task));
  // Keys from a file also authenticate /v1/tasks; the demo's own key does not lock the demo's task API.
  const submit = createIntake({ pool, admission, clientMetrics, unsupported });
  registerTaskRoutes(router, { bodies, pool, apiToken: o.apiToken, clientKeys: o.keysFromFile ? clientKeys : undefined, submit, routing });
  if (!clientKeys) return { router, gateway: undefined, callbacks: undefined };
  // The 2captcha-compatible gateway (README, Use your existing client); getbalance reads the check's cache.
  const balanceUsd = () => {
    const v = checks.result(UPSTREAM_CHECK)?.value?.observedValue;
    return typeof v === "number" ? v : undefined;
  };
  const gw = createGatewayParts({ pool, submit, balanceUsd, keys: clientKeys, callbackAllow: config.callbackAllow, clock, log, registry, routing, bodies, journal: o.journal });
  w.taskEnds.subscribe((task) => gw.gateway.taskEnded(task));
  w.started.push(gw.callbacks);
  gw.mount(router);
  return { router, gateway: gw.gateway, callbacks: gw.callbacks };
}
