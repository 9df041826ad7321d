/**
 * `run --demo`: the in-process simulator the worker solves on (no key, no network), a small steady
 * stream of sample tasks of every type through the same pool as real tasks, and the banner.
 */
import { solutionIn, solutionText } from "../tasks/task_catalogue.ts";
import { resolve } from "node:path";
import { loadBuiltin } from "../base/builtin.ts";
import type { Clock, Timer } from "../base/clock.ts";
import type { Logger } from "../base/log.ts";
import type { Config, HostPort } from "../config/config.ts";
import { formatHostPort } from "../config/host_port.ts";
import { formatDuration } from "../config/duration.ts";
import type { Task } from "../tasks/task.ts";
import type { TaskParams } from "../tasks/task_catalogue.ts";
import { startSimulator, type Simulator } from "../sim/simulator.ts";
import { DEFAULT_PROVIDER_NAME, type ProviderSpec } from "../config/providers.ts";

/** The only key the demo's simulator takes: the demo never sends a real key anywhere. */
export const DEMO_KEY = "demo-key-of-the-built-in-sim-001";

/** --demo-overflow (README, Providers): the simulated plan's threads, the overflow's price per 1000 solves, wait and daily budget. */
export const OVERFLOW_DEMO = { planThreads: 2, name: "2captcha", priceUsd: 2.99, imagePriceUsd: 1, afterMs: 5000, dailyBudgetUsd: 1, everyMs: 1000 } as const;

/** A real 16x16 grey PNG of 117 bytes (the upstream refuses images under 100 bytes, and files that are no jpg, png or gif). */
const SAMPLE_PNG = "iVBORw0KGgoAAAANSUhEUgAAABAAAAAQCAAAAAA6mKC9AAAAIXRFWHRDb21tZW50AGNhcHRjaGEtd29ya2VyIGRlbW8gaW1hZ2VFQfHiAAAAD0lEQVR4nGNoQAMMI1sAAAUMgAFaSOXNAAAAAElFTkSuQmCC";

const SAMPLES: readonly TaskParams[] = [
  { type: "image", image: SAMPLE_PNG, numeric: 1, min_len: 4, max_len: 6 },
  { type: "recaptcha_v2", sitekey: "6Le-demo-sitekey-v2", pageurl: "https://example.com/login" },
  { type: "image", image: SAMPLE_PNG, phrase: false },
  { type: "turnstile", sitekey: "0x4AAAAAAAdemo", pageurl: "https://example.com/signup" },
  { type: "recaptcha_v3", sitekey: "6Le-demo-sitekey-v3", pageurl: "https://example.com/checkout", action: "verify", min_score: 0.3 },
];

/** What the demo needs of the pool. */
export interface DemoPool {
  enqueue(type: TaskParams["type"], params: TaskParams): unknown;
}

export interface Demo {
  simulator: Simulator;
  /** With --demo-overflow: the per-solve simulator behind the plan. */
  overflow: Simulator | undefined;
  /** With --demo-overflow: the two providers (the plan, then the per-solve one); undefined: the one of the config. */
  providers: ProviderSpec[] | undefined;
  /** The worker's config pointed at the simulator, with short polls so solves show quickly. */
  config: Config;
  apiKey: string;
  /** A client key for the gateway (a fresh one per run), unless --client-keys-file names the clients. */
  clientKey: string;
  /** Starts one sample task every `everyMs` (the first at once). */
  startTraffic(pool: DemoPool, everyMs?: number): void;
  /** The drain begins (its first rung): no more sample tasks. */
  stopping(): void;
  /**
   * One info line per task that ends (sample or posted), so the terminal shows the demo at work;
   * tasks failed by the stop itself (`shutdown`) are left to the drain's own line.
   */
  taskEnded(task: Task): void;
  /** The lines printed on stdout once the worker listens on `address` (the bound one: its URLs reach it). */
  banner(address: HostPort): string;
  close(): Promise<void>;
}

/** Starts the demo's simulator on a loopback port. */
export async function startDemo(config: Config, clock: Clock, log: Logger): Promise<Demo> {
  const overflowing = config.demoOverflow;
  const solveTimeMs = { image: 2000, token: 6000 };
  const simulator = await startSimulator({ host: "127.0.0.1", port: 0 }, { keys: [DEMO_KEY], solveTimeMs, balanceUsd: 5, log, threads: overflowing ? OVERFLOW_DEMO.planThreads : undefined });
  const overflow = overflowing
    ? await startSimulator({ host: "127.0.0.1", port: 0 }, { keys: [DEMO_KEY], solveTimeMs, balanceUsd: 5, log, dialect: "2captcha" }).catch(async (err: unknown) => {
        await simulator.close();
        throw err;
      })
    : undefined;
  const demoProvider = (more: Partial<ProviderSpec> & Pick<ProviderSpec, "name" | "url">): ProviderSpec => ({
    protocol: "legacy", dialect: "captchaai", threads: undefined, price: undefined, typePrices: {}, afterMs: 0, dailyBudgetUsd: undefined, types: undefined,
    key: DEMO_KEY, keyOrigin: "the demo's simulator", keySource: "demo", keyFile: undefined, line: undefined, ...more,
  } as ProviderSpec);
  let timer: Timer | undefined;
  let stopped = false;
  const demo: Demo = {
    simulator,
    overflow,
    providers: overflow && [
      demoProvider({ name: DEFAULT_PROVIDER_NAME, url: simulator.url, threads: OVERFLOW_DEMO.planThreads }),
      // Priced as the simulated 2captcha charges: $1 per 1000 images, $2.99 per 1000 tokens.
      demoProvider({ name: OVERFLOW_DEMO.name, url: overflow.url, dialect: "2captcha", price: OVERFLOW_DEMO.priceUsd, typePrices: { image: OVERFLOW_DEMO.imagePriceUsd, grid: OVERFLOW_DEMO.imagePriceUsd, bls: OVERFLOW_DEMO.imagePriceUsd }, afterMs: OVERFLOW_DEMO.afterMs, dailyBudgetUsd: OVERFLOW_DEMO.dailyBudgetUsd }),
    ],
    apiKey: DEMO_KEY,
    clientKey: `demo-${loadBuiltin("node:crypto").randomBytes(12).toString("hex")}`,
    config: { ...config, upstream: simulator.url, firstPoll: { imageMs: 1000, tokenMs: 3000 }, pollIntervalMs: Math.min(config.pollIntervalMs, 1000) },
    startTraffic(pool, everyMs = overflowing ? OVERFLOW_DEMO.everyMs : 2000) {
      let i = 0;
      const tick = () => {
        if (stopped) return;
        const params = SAMPLES[i++ % SAMPLES.length]!;
        try {
          pool.enqueue(params.type, params);
        } catch (err) {
          log.debug("demo task not accepted", { err });
        }
        timer = clock.setTimeout(tick, everyMs);
      };
      timer = clock.setTimeout(tick, 0);
    },
    taskEnded(task) {
      const tookS = Math.round(((task.endedAt ?? clock.now()) - task.createdAt) / 100) / 10;
      // With two providers each line names the one that took the task.
      const by = overflowing && task.provider !== undefined ? { provider: task.provider } : {};
      if (task.status === "solved") log.info("task solved", { id: task.id, type: task.type, ...by, solution: clip(solutionText(solutionIn(task, "native") ?? "")), took_s: tookS });
      else if (task.error?.code !== "shutdown") log.info("task failed", { id: task.id, type: task.type, ...by, code: task.error?.code, took_s: tookS });
    },
    stopping() {
      stopped = true;
      timer?.cancel();
    },
    banner(address) {
      const base = `http://${formatHostPort(reachable(address))}`;
      const sim = simulator.url.href;
      const auth = authHeader(config);
      const sample = JSON.stringify({ type: "image", image: SAMPLE_PNG, numeric: 1 });
      return (
        `\nDemo: the worker solves sample tasks on the built-in simulator (no key, no network); it listens on ${formatHostPort(address)}${wildcard(address) ? " (every interface)" : ""}.\n` +
        `  status page   ${base}/\n  readiness     ${base}/health/ready\n  health report ${base}/health\n  metrics       ${base}/metrics\n  simulator     ${sim}__sim/counts\n` +
        (overflow
          ? `\nOverflow: the simulated CaptchaAI plan has ${OVERFLOW_DEMO.planThreads} threads and a sample task arrives every ${formatDuration(OVERFLOW_DEMO.everyMs)}; a task that waits ` +
            `${formatDuration(OVERFLOW_DEMO.afterMs)} for them goes to the per-solve ${OVERFLOW_DEMO.name} simulator ($${OVERFLOW_DEMO.imagePriceUsd} per 1000 images, $${OVERFLOW_DEMO.priceUsd} per 1000 tokens, daily budget $${OVERFLOW_DEMO.dailyBudgetUsd.toFixed(2)}).\n` +
            `  Each task line names its provider; watch both on the status page and in ${base}/metrics (captcha_worker_provider_*).\n` +
            `  ${OVERFLOW_DEMO.name} simulator ${overflow.url.href}__sim/counts\n`
          : "") +
        `\nPost a task, then read it back by its id (the read waits up to 30 s for the solution):\n` +
        `  id=$(curl -s "${base}/v1/tasks"${auth} -H 'content-type: application/json' -d '${sample}' | sed -n 's/.*"id":"\\([^"]*\\)".*/\\1/p')\n` +
        `  curl -s${auth} "${base}/v1/tasks/$id?wait=30"\n` +
        `Run the simulated account low (readiness and the status page follow at the next balance read, within ${formatDuration(config.balanceTtlMs)}):\n` +
        `  curl -s -X POST ${sim}__sim/balance -H 'content-type: application/json' -d '{"balance":0.5}'\n` +
        (config.clientKeysFile === undefined
          ? `\n2captcha gateway, demo client key ${demo.clientKey}:\n` +
            `  curl "${base}/in.php?key=${demo.clientKey}&method=base64&body=${encodeURIComponent(SAMPLE_PNG)}&json=1"\n` +
            `  curl "${base}/res.php?key=${demo.clientKey}&action=get&id=<the id>&json=1"\n` +
            `  node -e 'const {Solver}=require("2captcha-ts");require("2captcha-ts/dist/structs/constants/constants.js").supportedProviders.twoCaptcha` +
            `.in="${base}/in.php";require("2captcha-ts/dist/structs/constants/constants.js").supportedProviders.twoCaptcha.res="${base}/res.php";` +
            `new Solver("${demo.clientKey}",1000).imageCaptcha({body:"${SAMPLE_PNG}"}).then(console.log)'\n`
          : "") +
        `\nAnother address: npm start -- --listen 127.0.0.1:9090 (the executable: captcha-worker run --demo --listen 127.0.0.1:9090).\n` +
        `Stop with Ctrl-C.\n\n`
      );
    },
    close: async () => {
      await Promise.all([simulator.close(), overflow?.close()]);
    },
  };
  return demo;
}

/** A solution short enough for one log line (tokens run to hundreds of characters). */
function clip(text: string): string {
  return text.length > 32 ? `${text.slice(0, 29)}...` : text;
}

function wildcard(address: HostPort): boolean {
  return address.host === "0.0.0.0" || address.host === "::";
}

/** The bound address as a client reaches it: on every interface, through loopback (same port). */
function reachable(address: HostPort): HostPort {
  if (!wildcard(address)) return address;
  return { host: address.host === "::" ? "::1" : "127.0.0.1", port: address.port };
}

/**
 * The task API's credential as a curl option: the token read from its file by the shell (so the
 * banner never prints it), or a placeholder for a client key; none when the demo's API is open.
 */
function authHeader(config: Pick<Config, "apiTokenFile" | "clientKeysFile">): string {
  // Absolute: the command is pasted into another terminal, often in another directory.
  if (config.apiTokenFile !== undefined) return ` -H "authorization: Bearer $(cat ${shellQuote(resolve(config.apiTokenFile))})"`;
  if (config.clientKeysFile !== undefined) return ` -H 'authorization: Bearer <a key from ${config.clientKeysFile.replaceAll("'", "")}>'`;
  return "";
}

function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}
