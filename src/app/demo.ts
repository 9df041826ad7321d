/**
 * `run --demo`: the in-process simulator the worker solves on (no key, no network), a small steady
 * stream of sample tasks of every type through the same pool as real tasks, and the banner.
 */
import { loadBuiltin } from "../base/builtin.ts";
import type { Clock, Timer } from "../base/clock.ts";
import type { Logger } from "../base/log.ts";
import type { Config } from "../config/config.ts";
import type { TaskParams } from "../tasks/task_params.ts";
import { startSimulator, type Simulator } from "../sim/simulator.ts";

/** The only key the demo's simulator takes: the demo never sends a real key anywhere. */
export const DEMO_KEY = "demo-key-for-the-built-in-simulator";

/** A 1x1 PNG, enough for the simulator (which does not read images). */
const SAMPLE_PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";

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
  /** The worker's config pointed at the simulator, with short polls so solves show quickly. */
  config: Config;
  apiKey: string;
  /** A client key for the gateway (a fresh one per run), unless --client-keys-file names the clients. */
  clientKey: string;
  /** Starts one sample task every `everyMs` (the first at once). */
  startTraffic(pool: DemoPool, everyMs?: number): void;
  /** Stops the sample tasks (the first rung of the drain). */
  stopTraffic(): void;
  /** The lines printed on stdout once the worker listens on `listen` (host:port). */
  banner(listen: string): string;
  close(): Promise<void>;
}

/** Starts the demo's simulator on a loopback port. */
export async function startDemo(config: Config, clock: Clock, log: Logger): Promise<Demo> {
  const simulator = await startSimulator({ host: "127.0.0.1", port: 0 }, { keys: [DEMO_KEY], solveTimeMs: { image: 2000, token: 6000 }, balanceUsd: 5, log });
  let timer: Timer | undefined;
  let stopped = false;
  const demo: Demo = {
    simulator,
    apiKey: DEMO_KEY,
    clientKey: `demo-${loadBuiltin("node:crypto").randomBytes(12).toString("hex")}`,
    config: { ...config, upstream: simulator.url, firstPoll: { imageMs: 1000, tokenMs: 3000 }, pollIntervalMs: Math.min(config.pollIntervalMs, 1000) },
    startTraffic(pool, everyMs = 2000) {
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
    stopTraffic() {
      stopped = true;
      timer?.cancel();
    },
    banner(listen) {
      const base = `http://${listen.replace(/^0\.0\.0\.0:/, "127.0.0.1:")}`;
      const sim = simulator.url.href;
      return (
        `\nDemo: the worker solves sample tasks on the built-in simulator (no key, no network).\n` +
        `  readiness     ${base}/health/ready\n  health report ${base}/health\n  metrics       ${base}/metrics\n  simulator     ${sim}__sim/counts\n` +
        `Try: curl -X POST ${sim}__sim/balance -H 'content-type: application/json' -d '{"balance":0.5}'  (then watch readiness)\n` +
        (config.clientKeysFile === undefined
          ? `\n2captcha gateway, demo client key ${demo.clientKey}:\n` +
            `  curl "${base}/in.php?key=${demo.clientKey}&method=base64&body=${encodeURIComponent(SAMPLE_PNG)}&json=1"\n` +
            `  curl "${base}/res.php?key=${demo.clientKey}&action=get&id=<the id>&json=1"\n` +
            `  node -e 'const {Solver}=require("2captcha-ts");require("2captcha-ts/dist/structs/constants/constants.js").supportedProviders.twoCaptcha` +
            `.in="${base}/in.php";require("2captcha-ts/dist/structs/constants/constants.js").supportedProviders.twoCaptcha.res="${base}/res.php";` +
            `new Solver("${demo.clientKey}",1000).imageCaptcha({body:"${SAMPLE_PNG}"}).then(console.log)'\n`
          : "") +
        `Stop with Ctrl-C.\n\n`
      );
    },
    close: () => simulator.close(),
  };
  return demo;
}
