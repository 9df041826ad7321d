/**
 * THE composition root: the whole worker assembled from its parts (demo simulator, upstream client,
 * journal, pool, health, checks, metrics, routes, HTTP server, HAProxy agent, systemd notify) with
 * its stop ladder, as a list of wiring steps (_wiring.ts). `run`, the demo and the in-process test
 * harness all start the worker here.
 */
import type { Callbacks } from "../gateway/callbacks.ts";
import type { Clock } from "../base/clock.ts";
import { isWorkerError, WorkerError } from "../base/errors.ts";
import type { Logger } from "../base/log.ts";
import type { ProcessStats } from "../base/process_stats.ts";
import { SecretSet } from "../base/redact.ts";
import type { Config, HostPort } from "../config/config.ts";
import { formatHostPort } from "../config/host_port.ts";
import { ClientKeys } from "../gateway/client_keys.ts";
import type { Gateway } from "../gateway/gateway.ts";
import type { HealthChecks } from "../health/checks.ts";
import { UPSTREAM_CHECK, type HealthView } from "../health/health_view.ts";
import type { ReadinessNotifier } from "../health/readiness_notifier.ts";
import type { WorkerHealth } from "../health/worker_health.ts";
import type { Router } from "../http/router.ts";
import { startHttpServer, type HttpServerOptions } from "../http/server.ts";
import { startHaproxyAgent, type HaproxyAgent } from "../integrations/haproxy_agent.ts";
import { startSystemdNotify } from "../integrations/systemd_notify.ts";
import type { ReplayedJournal } from "../journal/file_journal.ts";
import type { Registry } from "../metrics/registry.ts";
import type { WorkerMetrics } from "../metrics/worker_metrics.ts";
import type { SolverPool } from "../solver/pool.ts";
import { TaskEndHub } from "../tasks/task_end_hub.ts";
import { createProviderClient } from "../upstream/provider_client.ts";
import { checkNameOf, PLAIN_START_ERRORS, createHealth, createMetrics, createSolver, laneSettings, openJournal, registerRoutes, type HealthParts, type ProviderPart, type Wiring } from "./_wiring.ts";
import { DEFAULT_PROVIDER_NAME, type ProviderSpec, type ProvidersReload } from "../config/providers.ts";
import { createProvidersReloader } from "./providers_reload.ts";
import { watchKeyFiles } from "./key_files_watch.ts";
import { recordAddress } from "./address_file.ts";
import { startDemo, type Demo } from "./demo.ts";
import { createStopLadder, type StopLadder, type StopParts } from "./lifecycle.ts";

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
  /**
   * The files the key reload reads (the CaptchaAI key's file, a providers file and its key files):
   * one that changes on disk is re-read as on SIGHUP (app/key_files_watch.ts). Not with --demo.
   */
  keyFiles?: () => readonly string[];
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
  /** A providers file's providers, each with its key (docs/providers.md); undefined: the one of --upstream and the CaptchaAI key. */
  providers?: readonly ProviderSpec[] | undefined;
  /** SIGHUP's re-read of the providers file and its keys (docs/providers.md); set with `providers`. */
  rereadProviders?: (() => ProvidersReload) | undefined;
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
  /** Where each task's end is published: subscribe to hear every task that ends from now on. */
  taskEnds: TaskEndHub;
  /** SIGHUP: re-reads the client keys file, the CaptchaAI key file or the providers file (a failed read keeps what is in use); without any, logs that there is nothing to reload. */
  reload(): void;
}

/**
 * Start failures a person fixes by changing the command line or the host (a taken address, an unusable
 * or owned --state-dir): the caller shows each as one plain line, as configuration errors are, so
 * the listeners' start does not log them too.
 */
export { PLAIN_START_ERRORS };

/**
 * Starts the worker. Rejects, after logging what failed (a PLAIN_START_ERRORS listener failure is
 * left to the caller) and closing what had started, with
 * ERR_STATE_DIR when --state-dir is unusable, ERR_STATE_DIR_BUSY when another process owns it, or
 * the listen error when an address is taken. The journal is only read (under its lock) before the
 * listen; it is compacted and written once the listener is bound too.
 */
export async function startWorker(o: WorkerOptions): Promise<Worker> {
  const { clock, log } = o;
  const fileKeys = readClientKeys(o);
  const taskEnds = new TaskEndHub(log.child({ component: "solver" }));
  const demo = o.config.demo ? await startDemo(o.config, clock, log) : undefined;
  if (demo) taskEnds.subscribe((task) => demo.taskEnded(task));
  const given = demo?.config ?? o.config;
  // --demo without a keys file: the gateway is on with one fresh demo key (printed in the banner).
  const clientKeys = fileKeys ?? (demo && new ClientKeys({ path: "(demo)", text: `demo ${demo.clientKey}`, clock, log }));
  const apiKey = demo?.apiKey ?? o.apiKey;
  if (apiKey === undefined) throw new WorkerError("ERR_NO_API_KEY", "No CaptchaAI key and no --demo");
  const specs = demo?.providers ?? providerSpecs(o, given, apiKey, demo !== undefined);
  // With a providers file --threads is not used: the worker's threads (the threshold, the status page,
  // a probation's admissions) are its plans' (docs/providers.md).
  const config = specs[0]!.line === undefined ? given : { ...given, threads: Math.max(1, specs.reduce((n, s) => n + (s.threads ?? 0), 0)) };
  const secrets = o.secrets ?? new SecretSet();
  secrets.add(apiKey);
  const w: Wiring = { config, clock, log, taskEnds, started: demo ? [demo] : [] };
  if (clientKeys) w.started.push(clientKeys); // stop(): its modification-time checks
  // Watched from here, as the files were just read: a Secret the kubelet updates sends no signal.
  let reloadKeys: (() => void) | undefined;
  const keyWatch = o.keyFiles && !demo
    ? watchKeyFiles({ paths: o.keyFiles, clock, onChange: (files) => (log.info("reload: a key file changed; the keys are re-read as on SIGHUP", { files }), reloadKeys?.()) })
    : undefined;
  if (keyWatch) w.started.push(keyWatch);

  const opened = await openJournal(w, o.process.pid).catch(async (err: unknown) => {
    clientKeys?.stop();
    keyWatch?.stop();
    await demo?.close();
    throw err;
  });
  const journal = opened?.journal;
  for (const spec of specs) if (spec.key !== "") secrets.add(spec.key);
  let pool: SolverPool | undefined;
  // A provider past its daily budget takes no new task: a reason of its own beside the health rules.
  const spent = (name: string) => (pool?.provider(name)?.budgetSpent ? ["budget"] : []);
  // Only CaptchaAI is known not to ban an address for asking with a refused key (2captcha's rule: 5 a minute).
  const guarded = (name: string) => specs.find((s) => s.name === name)?.dialect !== "captchaai";
  const health = createHealth(w, { secrets, journal, random: o.random, providers: specs.map((s) => s.name), extra: spent, load: (name) => pool?.provider(name), guarded });
  const metrics = createMetrics(w, { health, process: o.process });
  const upstream = createUpstreams(w, o, { specs, rereadKey: demo ? undefined : o.reloadApiKey, secrets, metrics: metrics.metrics });
  pool = createSolver(w, { providers: upstream.providers, health, journal, namesKeyOrigin: demo === undefined, random: o.random, onSpend: (p, day, usd) => journal?.spent(p, day, usd) });
  const solver = pool;
  const providersReload = o.rereadProviders && specs[0]!.line !== undefined
    ? createProvidersReloader({
      specs, pool: solver, laneSettings: (spec, i) => laneSettings(spec, i, true), setKey: upstream.setKey, secrets, checks: health.checks, checkOf: checkNameOf,
      changed: () => health.notifier.check(), log,
    })
    : undefined;
  if (providersReload) taskEnds.subscribe(() => providersReload.taskEnded());
  reloadKeys = () => {
    if (upstream.reloadKey?.()) void health.checks.refresh(health.providers[0]!.check);
    if (providersReload) providersReload.apply(o.rereadProviders!());
  };
  const { router, gateway, callbacks } = registerRoutes(w, {
    pool,
    health,
    metrics,
    clientKeys,
    keysFromFile: config.clientKeysFile !== undefined,
    apiToken: o.apiToken,
    peerToken: o.peerToken,
    upstreamUrl: o.upstreamUrl,
    journal,
  });
  const parts: StopParts = { log, view: health.view, notifier: health.notifier, pool, journal, started: w.started };
  const ladder = createStopLadder(parts);
  const { address, agent, startup } = await startListeners(w, o, { parts, ladder, router, health, pool, opened, callbacks });

  return {
    address,
    config,
    pool,
    health: health.health,
    checks: health.checks,
    view: health.view,
    notifier: health.notifier,
    router,
    registry: metrics.registry,
    agent,
    demo,
    startup,
    gateway,
    taskEnds,
    reload: () => {
      if (clientKeys) void clientKeys.reload();
      reloadKeys?.();
      if (!clientKeys && !o.reloadApiKey && !providersReload) log.info("reload: nothing to re-read (no --client-keys-file, no key file)");
    },
    get state() {
      return ladder.state;
    },
    beginDrain: ladder.beginDrain,
    drain: ladder.drain,
    close: ladder.close,
  };
}

/** Read first: a bad keys file exits 78 before anything starts. Never logged: it holds keys. */
function readClientKeys(o: WorkerOptions): ClientKeys | undefined {
  const path = o.config.clientKeysFile;
  try {
    return path === undefined ? undefined : new ClientKeys({ path, clock: o.clock, log: o.log.child({ component: "gateway" }) });
  } catch (err) {
    o.log.error("cannot use the client keys", { err });
    throw err;
  }
}

/**
 * A client per provider, its calls timed into the metrics (every key is in `secrets` already). The
 * lone provider without a providers file is the CaptchaAI client of --upstream and the CaptchaAI key;
 * `reloadKey` (a key from a file, never the demo's) re-reads that key on SIGHUP and says whether it
 * changed: the new key is redacted before anything can print it, and one that cannot be read keeps
 * the old one.
 */
function createUpstreams(
  w: Wiring,
  o: WorkerOptions,
  x: { specs: readonly ProviderSpec[]; rereadKey: (() => string | undefined) | undefined; secrets: SecretSet; metrics: WorkerMetrics },
): { providers: ProviderPart[]; reloadKey: (() => boolean) | undefined; setKey: (provider: string, key: string) => void } {
  const { config, clock, log } = w;
  const keys = new Map(x.specs.map((s) => [s.name, s.key]));
  const providers = x.specs.map((spec) => {
    // in.php/res.php for a legacy provider, the JSON API in its dialect for a v2 one (docs/providers.md).
    const client = createProviderClient(spec, {
      apiKey: () => keys.get(spec.name)!,
      redact: x.secrets.redact,
      fetch: o.fetch,
      clock,
      timeoutMs: config.checkTimeoutMs,
      connectTimeoutMs: config.connectTimeoutMs,
      onCall: (endpoint, kind, ms) => x.metrics.upstreamCall(endpoint, kind, ms),
    });
    w.started.push(client);
    return { spec, client };
  });
  const reread = x.rereadKey;
  const first = x.specs[0]!.name;
  const reloadKey = reread && ((): boolean => {
    try {
      const fresh = reread();
      if (fresh === undefined || fresh === keys.get(first)) return false;
      x.secrets.add(fresh);
      keys.set(first, fresh);
      log.info("reload: the CaptchaAI key was re-read; the balance is checked with it now", { from: o.keyOrigin });
      return true;
    } catch (err) {
      log.warn("reload: the CaptchaAI key could not be re-read; the one in use stays", { from: o.keyOrigin, err });
      return false;
    }
  });
  return { providers, reloadKey, setKey: (name, key) => void keys.set(name, key) };
}

/** The providers: a providers file's, or the one of --upstream, the CaptchaAI key and --threads (the demo's simulator with --demo). */
function providerSpecs(o: WorkerOptions, config: Config, apiKey: string, demo: boolean): ProviderSpec[] {
  if (o.providers && o.providers.length > 0 && !demo) return [...o.providers];
  return [{
    name: DEFAULT_PROVIDER_NAME, protocol: "legacy", dialect: "captchaai", url: o.upstreamUrl ?? config.upstream, threads: config.threads, price: undefined,
    typePrices: {}, afterMs: 0, dailyBudgetUsd: undefined, types: undefined, key: apiKey, keyOrigin: o.keyOrigin ?? "", keySource: "env:CAPTCHAAI_API_KEY", keyFile: undefined, line: undefined,
  }];
}

/**
 * The outside gets the worker: the HTTP listener (and --address-file), then the journal rewritten and
 * its tasks restored, the first dependency check, the HAProxy agent and systemd notify. A failure
 * closes everything through the ladder and rejects.
 */
async function startListeners(
  w: Wiring,
  o: WorkerOptions,
  x: { parts: StopParts; ladder: StopLadder; router: Router; health: HealthParts; pool: SolverPool; opened: ReplayedJournal | undefined; callbacks: Callbacks | undefined },
): Promise<{ address: HostPort; agent: HaproxyAgent | undefined; startup: Promise<void> }> {
  const { config, clock, log } = w;
  const { ladder, opened } = x;
  const { view, notifier, checks } = x.health;
  // What failed is logged (unless the caller shows it as its one plain line), everything started so
  // far closes, and the start rejects with the error.
  const fail = async (message: string, err: unknown, fields: Record<string, unknown> = {}): Promise<never> => {
    if (!PLAIN_START_ERRORS.some((code) => isWorkerError(err, code))) log.error(message, { ...fields, err });
    await ladder.close();
    throw err;
  };
  const http = await startHttpServer(config.listen, x.router, log, o.http).catch((err: unknown) => fail("cannot listen", err, { listen: formatHostPort(config.listen) }));
  x.parts.http = http;
  const addressFile = config.addressFile === undefined ? undefined : recordAddress(config.addressFile, http.address, log);
  if (addressFile) w.started.push({ stop: () => addressFile.remove() });
  if (opened) {
    // Lock held and listener bound: only now is the journal rewritten (nothing runs in between).
    try {
      opened.journal.start();
    } catch (err) {
      await fail("cannot use the state directory", err);
    }
    const restored = x.pool.restore(opened.replayed, opened.ended, opened.spends);
    x.callbacks?.resume(opened.callbacks, (id) => x.pool.find(id)); // callbacks owed before the restart
    const r = opened.report;
    log.info("journal replayed", { dir: config.stateDir, format: r.version, records: r.records, skipped: r.skipped, torn: r.torn, ...restored });
  }
  const startup = checks.start().then(() => {
    if (ladder.state !== "running") return; // a start that failed after this began: nothing to announce
    if (view.phase === "starting") view.setPhase("running");
    notifier.check();
    notifier.start();
  });
  let agent: HaproxyAgent | undefined;
  if (config.agentListen) {
    const listen = config.agentListen;
    agent = await startHaproxyAgent({ listen, view, providers: () => view.providerStates(), threads: config.threads, queueMax: config.queueMax, log }).catch((err: unknown) =>
      fail("cannot listen for HAProxy agent checks", err, { listen: formatHostPort(listen) }),
    );
    w.started.push(agent);
  }
  const notify = startSystemdNotify({ env: o.env ?? {}, clock, log, view, readiness: notifier, startup, pid: o.process.pid });
  if (notify) w.started.push(notify);
  return { address: http.address, agent, startup };
}
