/**
 * The steps startWorker takes, each making one group of parts from the groups made before it (never
 * from one made later): it subscribes what it makes to the task-end hub and adds what must be
 * stopped to the stop ladder's list (`started`), where the part is made.
 */
import { registerTypesRoute } from "../http/types_route.ts";
import type { Callbacks } from "../gateway/callbacks.ts";
import { ByteBudget } from "../base/byte_budget.ts";
import type { Clock } from "../base/clock.ts";
import { isWorkerError, type WorkerErrorCode } from "../base/errors.ts";
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
import { HealthView, UPSTREAM_CHECK, type ProviderHealth, type ProviderLoad } from "../health/health_view.ts";
import { DEFAULT_PROVIDER_NAME, solvePriceUsd, takesType, type ProviderSpec } from "../config/providers.ts";
import type { TaskType } from "../tasks/task_catalogue.ts";

/**
 * Whether a provider's protocol and dialect have the type at all (docs/providers.md): 2captcha's
 * in.php has no Cloudflare Challenge nor BLS (CaptchaAI's own); a JSON-API dialect has the types its
 * table names, with a proxy or without (the intake already checked a proxy fits the type).
 */
function protocolTakes(spec: ProviderSpec, type: TaskType, proxied: boolean): boolean {
  if (spec.protocol === "legacy") return spec.dialect === "captchaai" || (type !== "cloudflare_challenge" && type !== "bls");
  return dialectTakes(type, spec.dialect, proxied);
}
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
import { namesProviders } from "../http/task_json.ts";
import { registerTaskRoutes } from "../http/task_routes.ts";
import { FileJournal, type ReplayedJournal } from "../journal/file_journal.ts";
import { ClientMetrics } from "../metrics/client_metrics.ts";
import { registerProcessMetrics } from "../metrics/process_metrics.ts";
import { registerProviderMetrics } from "../metrics/provider_metrics.ts";
import { Registry } from "../metrics/registry.ts";
import { registerWorkerMetrics, type WorkerMetrics } from "../metrics/worker_metrics.ts";
import { SolverPool, type LaneUpdate } from "../solver/pool.ts";
import { StatusHistory } from "../status_report/status_history.ts";
import type { TaskEndHub } from "../tasks/task_end_hub.ts";
import type { ProviderClient } from "../upstream/provider_client.ts";
import { dialectTakes } from "../tasks/task_dialects.ts";
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
/** Start failures shown as run's one plain line (docs/commands.md, Exit codes), not also logged. */
export const PLAIN_START_ERRORS = ["ERR_LISTEN", "ERR_STATE_DIR", "ERR_STATE_DIR_BUSY", "ERR_CONFIG_INVALID"] as const satisfies readonly WorkerErrorCode[];

export async function openJournal(w: Omit<Wiring, "taskEnds" | "started">, pid: number): Promise<ReplayedJournal | undefined> {
  if (w.config.stateDir === undefined) return undefined;
  try {
    return await FileJournal.replay(w.config.stateDir, { log: w.log.child({ component: "journal" }), clock: w.clock, pid });
  } catch (err) {
    // A state directory refused or owned by another worker is run's one plain line (docs/commands.md, Exit codes); anything else is logged.
    if (!PLAIN_START_ERRORS.some((code) => isWorkerError(err, code))) w.log.error("cannot use the state directory", { err });
    throw err;
  }
}

export interface HealthParts {
  /** The first (or only) provider's health. */
  health: WorkerHealth;
  /** Each provider's health and check, in order of preference. */
  providers: ProviderHealth[];
  checks: HealthChecks;
  view: HealthView;
  /** Publishes readiness transitions (log line, systemd STATUS); check() after a state change. */
  notifier: ReadinessNotifier;
  /** The status page's last hour. */
  history: StatusHistory;
  /** Task types the upstream refused lately as unsupported (refused at submit for a while; never readiness). */
  unsupported: UnsupportedTypes;
}

/** A provider's dependency check: `captchaai_api` for the default provider, `NAME_api` for each of a providers file. */
export const checkNameOf = (provider: string): string => (provider === DEFAULT_PROVIDER_NAME ? UPSTREAM_CHECK : `${provider}_api`);

/**
 * Health: each provider's state (one without a providers file), the dependency checks, readiness
 * over them (re-evaluated as each task ends), each provider's recovery trials and the status history.
 */
export function createHealth(
  w: Wiring,
  o: {
    secrets: SecretSet;
    journal: FileJournal | undefined;
    random?: (() => number) | undefined;
    providers: readonly string[];
    extra?: (provider: string) => readonly string[];
    /** Each provider's load and money (the pool, made after health). */
    load?: (provider: string) => ProviderLoad | undefined;
    /** Providers that ban an address asking on with a refused key: their account trouble is tried sparingly. */
    guarded?: (provider: string) => boolean;
  },
): HealthParts {
  const { config, clock, log } = w;
  const providers: ProviderHealth[] = o.providers.map((name) => ({
    name,
    health: new WorkerHealth(clock, config.errorWindowMs, { maxConsecutiveFailures: config.maxConsecutiveFailures }),
    check: checkNameOf(name),
    extra: () => o.extra?.(name) ?? [],
    load: () => o.load?.(name),
  }));
  const health = providers[0]!.health;
  const checks = new HealthChecks({ clock, sanitize: o.secrets.redact, random: o.random });
  const journal = o.journal;
  const view = new HealthView({
    clock,
    health,
    providers,
    checks,
    thresholds: config,
    stallMs: Math.max(60_000, 3 * config.pollIntervalMs),
    extraIssues: () => (journal?.error === undefined ? [] : [{ kind: "state_dir", reason: journal.error }]),
  });
  const notifier = new ReadinessNotifier({ view, clock, log, onPassing: () => providers.forEach((p) => p.health.markReady()) });
  // Each provider's trouble is tried again by re-reading its own balance (one provider: the worker's issues, as ever).
  const trials = providers.map((p) =>
    startRecoveryTrials({
      clock, evaluate: () => (providers.length > 1 ? { issues: view.providerIssues(p.name) } : view.evaluate()), trial: () => checks.refresh(p.check), guarded: o.guarded?.(p.name),
    }),
  );
  checks.onResult(() => notifier.check());
  for (const p of providers) p.health.onStateChange(() => notifier.check());
  const history = new StatusHistory({ clock, providers: o.providers, providerStates: () => view.providerStates() });
  history.start(() => view.evaluate(), (l) => notifier.subscribe(l));
  w.taskEnds.subscribe((task) => history.taskEnded(task));
  w.taskEnds.subscribe(() => notifier.check());
  const unsupported = new UnsupportedTypes(clock, {
    onLearned: (type, code, refuseForMs) =>
      log.warn("the upstream does not take this task type; new tasks of it are refused at submit for a while, then one is tried again", { type, code, refuse_for_s: refuseForMs / 1000 }),
  });
  w.taskEnds.subscribe((task) => unsupported.taskEnded(task));
  w.started.push(...trials, checks, history);
  return { health, providers, checks, view, notifier, history, unsupported };
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

/** One provider with its client, ready for the solver. */
export interface ProviderPart {
  spec: ProviderSpec;
  client: ProviderClient;
}

/** A per-solve account's slots: no plan caps it, the worker does (docs/providers.md). */
export const PER_SOLVE_IN_FLIGHT = 100;

export interface SolverOptions {
  /** The providers in order of preference, each with its client. */
  providers: readonly ProviderPart[];
  health: HealthParts;
  journal: FileJournal | undefined;
  /** Where each key came from is named when its upstream refuses it; not with --demo. */
  namesKeyOrigin: boolean;
  random?: (() => number) | undefined;
  /** A solve charged to a provider: today's total (the journal keeps it). */
  onSpend?: (provider: string, day: string, totalUsd: number) => void;
}

/**
 * What a provider's line gives its lane, at `index` in the order of preference: its slots (a plan's
 * threads, a per-solve account's cap), billing, `after` (none on the first), types, prices and
 * budget. A reload gives a lane the same from the re-read line (docs/providers.md).
 */
export function laneSettings(spec: ProviderSpec, index: number, namesKeyOrigin: boolean): Required<Pick<LaneUpdate, "threads" | "plan" | "afterMs" | "takes" | "priceUsd">> & LaneUpdate {
  return {
    threads: spec.threads ?? PER_SOLVE_IN_FLIGHT,
    plan: spec.threads !== undefined,
    afterMs: index === 0 ? 0 : spec.afterMs,
    takes: (type, proxied) => takesType(spec, type) && protocolTakes(spec, type, proxied),
    priceUsd: (type) => solvePriceUsd(spec, type),
    dailyBudgetUsd: spec.dailyBudgetUsd,
    keyOrigin: namesKeyOrigin ? spec.keyOrigin : undefined,
    // anti-captcha bills ERROR_CAPTCHA_UNSOLVABLE too ("Clients are charged for such tasks", its API's error list).
    chargesUnsolvable: spec.protocol === "v2" && spec.dialect === "anticaptcha",
    // Their getTaskResult answers carry `cost`: the budget holds the highest seen per type.
    reportsCost: spec.protocol === "v2" && (spec.dialect === "anticaptcha" || spec.dialect === "2captcha"),
  };
}

/** The solver pool, publishing each task's end; its load feeds health, and the balance check feeds it. */
export function createSolver(w: Wiring, o: SolverOptions): SolverPool {
  const { config, clock, log } = w;
  const { health, checks } = o.health;
  const several = o.providers.length > 1;
  const pool = new SolverPool({
    clock,
    providers: o.providers.map(({ spec, client }, i) => ({
      name: spec.name,
      upstream: client,
      health: o.health.providers[i]!.health,
      ...laneSettings(spec, i, o.namesKeyOrigin),
      // --bulkhead's hard caps are the first provider's (the lone one without a providers file).
      bulkhead: i === 0 ? config.bulkhead : undefined,
      minBalanceUsd: config.minBalanceUsd,
      // Evidence (a transport failure, a refusal for money) re-reads that provider's balance now, single flight.
      onEvidence: () => void checks.refresh(checkNameOf(spec.name)),
      named: several,
      // With several providers, one its balance check cannot reach takes no new task until a check answers.
      unreachable: several ? () => o.health.view.providerIssues(spec.name).some((i) => i.kind === "upstream_unreachable") : undefined,
    })),
    log: log.child({ component: "solver" }),
    onSpend: o.onSpend,
    limits: { queueMax: config.queueMax, queueMaxBytes: config.queueMaxBytes },
    timing: {
      taskTimeoutMs: config.taskTimeoutMs,
      firstPollMs: { image: config.firstPoll.imageMs, token: config.firstPoll.tokenMs },
      pollIntervalMs: config.pollIntervalMs,
    },
    taskEnds: w.taskEnds,
    journal: o.journal,
    nodeId: config.nodeId,
    random: o.random,
  });
  w.taskEnds.subscribe((task) => {
    if (log.enabled("debug")) log.debug("task ended", { id: task.id, type: task.type, status: task.status, code: task.error?.code });
  });
  for (const p of o.health.providers) p.health.setLoadSource(() => pool.load());
  // A check's answer moves health and the circuit at once: readiness judged after both (one line).
  const observed = { balanceObserved: (...a: Parameters<SolverPool["balanceObserved"]>) => o.health.notifier.together(() => pool.balanceObserved(...a)) };
  for (const { spec, client } of o.providers) {
    registerUpstreamCheck(checks, { client, pool: observed, clock, ttlMs: config.balanceTtlMs, timeoutMs: config.checkTimeoutMs, name: checkNameOf(spec.name), provider: spec.name, log });
  }
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
  registerStatusRoute(router, view, log, { history, notifier, config, upstream: o.upstreamUrl, unsupported, providers: namesProviders(pool.providers) ? pool.providers : undefined });
  registerTypesRoute(router);
  const balanceOf = (name: string) => {
    const v = checks.result(checkNameOf(name))?.value?.observedValue;
    return typeof v === "number" ? v : undefined;
  };
  const providerMetrics = registerProviderMetrics(registry, { pool, up: (name) => view.providerUp(name), balanceUsd: balanceOf });
  w.taskEnds.subscribe((task) => providerMetrics.taskEnded(task));
  const admission = createAdmission(view, { probationAdmits: config.threads });
  // docs/cluster.md: reads of a task another node owns are forwarded to it (a forwarded one needs the peer token).
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
  // The 2captcha-compatible gateway (docs/gateway.md); getbalance reads the checks' cache as
  // readiness does: the first provider in use that has a balance reading (one removed by a reload, or never read, is passed over).
  const balanceUsd = () => view.evaluate().balanceUsd;
  const gw = createGatewayParts({ pool, submit, balanceUsd, keys: clientKeys, callbackAllow: config.callbackAllow, clock, log, registry, routing, bodies, journal: o.journal });
  w.taskEnds.subscribe((task) => gw.gateway.taskEnded(task));
  w.started.push(gw.callbacks);
  gw.mount(router);
  return { router, gateway: gw.gateway, callbacks: gw.callbacks };
}
