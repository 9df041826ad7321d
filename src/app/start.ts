/**
 * THE composition root: the whole worker assembled from its parts (demo simulator, upstream client,
 * journal, pool, health, checks, metrics, routes, HTTP server, HAProxy agent, systemd notify) with
 * its stop ladder. `run`, the demo and the in-process test harness all start the worker here.
 */
import { ByteBudget } from "../base/byte_budget.ts";
import { DEFAULT_BODY_BUDGET } from "../http/body.ts";
import type { Clock } from "../base/clock.ts";
import { WorkerError } from "../base/errors.ts";
import type { Logger } from "../base/log.ts";
import { SecretSet } from "../base/redact.ts";
import type { Config, HostPort } from "../config/config.ts";
import { formatHostPort } from "../config/host_port.ts";
import { HealthChecks } from "../health/checks.ts";
import { HealthView, UPSTREAM_CHECK } from "../health/health_view.ts";
import { ReadinessNotifier } from "../health/readiness_notifier.ts";
import { startRecoveryTrials } from "../health/recovery_trials.ts";
import type { ProcessStats } from "../base/process_stats.ts";
import { WorkerHealth } from "../health/worker_health.ts";
import { registerHealthRoutes } from "../http/health_routes.ts";
import { registerMetricsRoute } from "../http/metrics_route.ts";
import { Router } from "../http/router.ts";
import { sendProblem } from "../http/problem.ts";
import { startHttpServer, type HttpServer, type HttpServerOptions } from "../http/server.ts";
import { registerStatusRoute } from "../http/status_route.ts";
import { registerTaskRoutes } from "../http/task_routes.ts";
import { startHaproxyAgent, type HaproxyAgent } from "../integrations/haproxy_agent.ts";
import { startSystemdNotify } from "../integrations/systemd_notify.ts";
import { FileJournal, type ReplayedJournal } from "../journal/file_journal.ts";
import { watchRefusals } from "../base/dir_refusals.ts";
import { registerProcessMetrics } from "../metrics/process_metrics.ts";
import { Registry } from "../metrics/registry.ts";
import { ClientMetrics } from "../metrics/client_metrics.ts";
import { registerWorkerMetrics, type WorkerMetrics } from "../metrics/worker_metrics.ts";
import { SolverPool } from "../solver/pool.ts";
import { StatusHistory } from "../status_report/status_history.ts";
import type { Task } from "../tasks/task.ts";
import { createCaptchaAiClient } from "../upstream/captchaai_client.ts";
import { ClientKeys } from "../gateway/client_keys.ts";
import type { Gateway } from "../gateway/gateway.ts";
import { createGatewayParts } from "../gateway/gateway_parts.ts";
import { PeerRouter } from "../cluster/peer_router.ts";
import { recordAddress, type AddressFile } from "./address_file.ts";
import { createAdmission } from "./admission.ts";
import { startDemo, type Demo } from "./demo.ts";
import { registerUpstreamCheck } from "./upstream_check.ts";
import { createStopLadder, type StopLadder } from "./lifecycle.ts";

export interface WorkerOptions {
  config: Config;
  /** The CaptchaAI key; required unless config.demo (the demo's simulator takes only its own). */
  apiKey: string | undefined;
  /** Where the key came from (`--api-key-file /etc/key`), named when the upstream refuses it. */
  keyOrigin?: string | undefined;
  /**
   * Re-reads the CaptchaAI key on SIGHUP (set when the key comes from a file); throws when the
   * file cannot be read or holds no key (the old key stays in use).
   */
  reloadApiKey?: () => string | undefined;
  /** The secrets the logger redacts; a re-read key is added to them. @default a set of the key alone */
  secrets?: SecretSet;
  /** Bearer token required on the task API, if any. */
  apiToken?: string | undefined;
  /** The peers' shared token (--peer-token-file): with config.peers, reads of a peer's task are forwarded to it. */
  peerToken?: string | undefined;
  clock: Clock;
  log: Logger;
  /** Read by systemd notify (NOTIFY_SOCKET, WATCHDOG_USEC, WATCHDOG_PID, PATH). @default {} (no notifications) */
  env?: Record<string, string | undefined>;
  /** What metrics and systemd read of the process (bin.ts passes the real one through the Runtime). */
  process: ProcessStats;
  /** The CaptchaAI base URL. @default config.upstream (the simulator's with --demo) */
  upstreamUrl?: URL;
  /** Replaces the default keep-alive node:http(s) transport (tests inject one). @default undefined */
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
  /** The 2captcha-compatible gateway, with --client-keys-file. */
  gateway: Gateway | undefined;
  /** SIGHUP: re-reads the client keys file (a failed read keeps the keys in use); without one, logs that there is nothing to reload. */
  reload(): void;
}

/**
 * Starts the worker. Rejects, after logging what failed and closing what had started, with
 * ERR_STATE_DIR when --state-dir is unusable, ERR_STATE_DIR_BUSY when another process owns it, or
 * the listen error when an address is taken. The journal is only read (under its lock) before the
 * listen; it is compacted and written once the listener is bound too.
 */
export async function startWorker(o: WorkerOptions): Promise<Worker> {
  const { clock, log } = o;
  let clientKeys: ClientKeys | undefined;
  try {
    // Read first: a bad keys file exits 78 before anything starts. Never logged: it holds keys.
    clientKeys = o.config.clientKeysFile === undefined ? undefined : new ClientKeys({ path: o.config.clientKeysFile, clock, log: log.child({ component: "gateway" }) });
  } catch (err) {
    log.error("cannot use the client keys", { err });
    throw err;
  }
  const demo = o.config.demo ? await startDemo(o.config, clock, log) : undefined;
  const config = demo?.config ?? o.config;
  let apiKey = demo?.apiKey ?? o.apiKey;
  // --demo without a keys file: the gateway is on with one fresh demo key (printed in the banner).
  if (demo && !clientKeys) clientKeys = new ClientKeys({ path: "(demo)", text: `demo ${demo.clientKey}`, clock, log });
  if (apiKey === undefined) throw new WorkerError("ERR_NO_API_KEY", "No CaptchaAI key and no --demo");
  const health = new WorkerHealth(clock, config.errorWindowMs, { maxConsecutiveFailures: config.maxConsecutiveFailures });
  const history = new StatusHistory({ clock }); // the status page's last hour
  let metrics: WorkerMetrics | undefined;
  let clientMetrics: ClientMetrics | undefined;
  const secrets = o.secrets ?? new SecretSet();
  secrets.add(apiKey);
  const client = createCaptchaAiClient({
    baseUrl: o.upstreamUrl ?? config.upstream,
    apiKey: () => apiKey!,
    redact: secrets.redact,
    fetch: o.fetch,
    clock,
    timeoutMs: config.checkTimeoutMs,
    connectTimeoutMs: config.connectTimeoutMs,
    onCall: (endpoint, kind, ms) => metrics?.upstreamCall(endpoint, kind, ms),
  });

  // --state-dir: lock it and replay the journal (read-only) before anything is accepted (exit 78 unusable, 75 owned).
  let opened: ReplayedJournal | undefined;
  try {
    opened = config.stateDir === undefined ? undefined : await FileJournal.replay(config.stateDir, { log: log.child({ component: "journal" }), clock, pid: o.process.pid });
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
    minBalanceUsd: config.minBalanceUsd,
    nodeId: config.nodeId,
    keyOrigin: demo ? undefined : o.keyOrigin,
    // Evidence (a transport failure, a refusal for money) re-reads the balance now, single flight.
    onEvidence: () => void checks.refresh(UPSTREAM_CHECK),
    onTaskEnded: (task: Task) => {
      metrics?.taskEnded(task);
      clientMetrics?.ended(task);
      history.taskEnded(task);
      gateway?.taskEnded(task);
      demo?.taskEnded(task);
      if (log.enabled("debug")) log.debug("task ended", { id: task.id, type: task.type, status: task.status, code: task.error?.code });
      notifier.check();
    },
  });
  health.setLoadSource(() => pool.load());

  const checks = new HealthChecks({ clock, sanitize: secrets.redact, random: o.random });
  registerUpstreamCheck(checks, { client, pool, clock, ttlMs: config.balanceTtlMs, timeoutMs: config.checkTimeoutMs });

  const view = new HealthView({
    clock,
    health,
    checks,
    thresholds: config,
    stallMs: Math.max(60_000, 3 * config.pollIntervalMs),
    extraIssues: () => (journal?.error === undefined ? [] : [`state_dir=${journal.error}`]),
  });
  const notifier = new ReadinessNotifier({ view, clock, log, onPassing: () => health.markReady() });
  const trials = startRecoveryTrials({ clock, evaluate: () => view.evaluate(), trial: () => checks.refresh(UPSTREAM_CHECK) });
  checks.onResult(() => notifier.check());
  health.onStateChange(() => notifier.check());
  history.start(() => view.evaluate(), (l) => notifier.subscribe(l));

  const registry = new Registry();
  // Held lock: from now on a second instance refused the dir is counted (it appends to DIR/.refused).
  const refusals = config.stateDir === undefined ? undefined : watchRefusals(config.stateDir, { clock, log: log.child({ component: "journal" }) });
  metrics = registerWorkerMetrics(registry, { view, readinessChanges: () => notifier.changes, config, nodeVersion: o.process.nodeVersion, stateDirRefusals: () => refusals?.count ?? 0 });
  const processMetrics = registerProcessMetrics(registry, { stats: o.process, startTimeMs: health.startedAt });

  const router = new Router();
  registerMetricsRoute(router, registry);
  registerHealthRoutes(router, view, notifier, log);
  registerStatusRoute(router, view, log, { history, notifier, config, upstream: o.upstreamUrl });
  const admission = createAdmission(view, { probationAdmits: config.threads });
  // SPEC §12: reads of a task another node owns are forwarded to it (a forwarded one needs the peer token).
  const routing = config.peers.length > 0 || o.peerToken !== undefined
    ? new PeerRouter({ nodeId: config.nodeId, peers: config.peers, token: o.peerToken, taskTimeoutMs: config.taskTimeoutMs, clock, log: log.child({ component: "cluster" }), registry, sendError: sendProblem })
    : undefined;
  // Keys from a file also authenticate /v1/tasks; the demo's own key does not lock the demo's task API.
  // One budget for request bodies being read at once, whichever API they arrive on.
  const bodies = new ByteBudget(DEFAULT_BODY_BUDGET);
  const keys = clientKeys;
  clientMetrics = keys && new ClientMetrics(registry, { names: () => keys.names, openOf: (name) => pool.tasks.openOf(name) });
  registerTaskRoutes(router, { bodies, pool, apiToken: o.apiToken, clientKeys: config.clientKeysFile === undefined ? undefined : clientKeys, clientMetrics, admission, routing });
  // The 2captcha-compatible gateway (SPEC §11), on with --client-keys-file; getbalance reads the check's cache.
  const balanceUsd = () => {
    const v = checks.result(UPSTREAM_CHECK)?.value?.observedValue;
    return typeof v === "number" ? v : undefined;
  };
  const gw = clientKeys && createGatewayParts({ pool, admission, balanceUsd, keys: clientKeys, clientMetrics, callbackAllow: config.callbackAllow, clock, log, registry, routing, bodies, journal });
  const gateway = gw?.gateway;
  for (const r of gw?.routes ?? []) router.on(r.method, r.path, r.handler);

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
    timers: [trials, checks, processMetrics, history, ...(gw ? [gw.callbacks] : []), ...(refusals ? [refusals] : [])],
    http: undefined as HttpServer | undefined,
    client,
    agent: undefined as HaproxyAgent | undefined,
    addressFile: undefined as AddressFile | undefined,
  };
  const ladder = createStopLadder(parts);
  try {
    parts.http = await startHttpServer(config.listen, router, log, o.http);
  } catch (err) {
    log.error("cannot listen", { listen: formatHostPort(config.listen), err });
    await ladder.close();
    throw err;
  }
  if (config.addressFile !== undefined) parts.addressFile = recordAddress(config.addressFile, parts.http.address, log);
  if (opened) {
    // Lock held and listener bound: only now is the journal rewritten (nothing runs in between).
    try {
      opened.journal.start();
    } catch (err) {
      log.error("cannot use the state directory", { err });
      await ladder.close();
      throw err;
    }
    const restored = pool.restore(opened.replayed, opened.ended);
    gw?.callbacks.resume(opened.callbacks, (id) => pool.tasks.get(id)); // callbacks owed before the restart
    const r = opened.report;
    log.info("journal replayed", { dir: config.stateDir, format: r.version, records: r.records, skipped: r.skipped, torn: r.torn, ...restored });
  }
  const startup = checks.start().then(() => {
    if (ladder.state !== "running") return; // a start that failed after this began: nothing to announce
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
    gateway,
    reload: () => {
      if (clientKeys) void clientKeys.reload();
      if (o.reloadApiKey && !demo) {
        // The new key is redacted before anything can print it; a key that cannot be read keeps the old one.
        try {
          const fresh = o.reloadApiKey();
          if (fresh !== undefined && fresh !== apiKey) {
            secrets.add(fresh);
            apiKey = fresh;
            log.info("reload: the CaptchaAI key was re-read; the balance is checked with it now", { from: o.keyOrigin });
            void checks.refresh(UPSTREAM_CHECK);
          }
        } catch (err) {
          log.warn("reload: the CaptchaAI key could not be re-read; the one in use stays", { from: o.keyOrigin, err });
        }
      }
      if (!clientKeys && !o.reloadApiKey) log.info("reload: nothing to re-read (no --client-keys-file, no key file)");
    },
    get state() {
      return ladder.state;
    },
    beginDrain: ladder.beginDrain,
    drain: ladder.drain,
    close: ladder.close,
  };
}
