/**
 * `run --demo`: the in-process simulator the worker solves on (no key, no network), a small steady
 * stream of sample tasks of every type through the same pool as real tasks, and the banner.
 */
import { solutionIn, solutionText } from "../tasks/task_catalogue.ts";
import { loadBuiltin } from "../base/builtin.ts";
import type { Clock, Timer } from "../base/clock.ts";
import type { Logger } from "../base/log.ts";
import type { Config, ConfigKey, HostPort, Source } from "../config/config.ts";
import { formatDuration } from "../config/duration.ts";
import type { Task } from "../tasks/task.ts";
import type { TaskParams } from "../tasks/task_catalogue.ts";
import { startSimulator, type Simulator } from "../sim/simulator.ts";
import { demoBanner, demoReminder, type BannerFacts } from "./demo_banner.ts";
import { DEFAULT_PROVIDER_NAME, type ProviderSpec } from "../config/providers.ts";

/** The only key the demo's simulator takes: the demo never sends a real key anywhere. */
export const DEMO_KEY = "demo-key-of-the-built-in-sim-001";

/** The simulated account's balance at the start, and what the banner's restore line sets back. */
export const DEMO_BALANCE_USD = 5;
/**
 * The demo's balance TTL unless --balance-ttl is given: a fault injected on an idle demo shows
 * within seconds, not at the next minute's read (README, The demo). A real worker keeps 60 s.
 */
export const DEMO_BALANCE_TTL_MS = 5000;
/** How often the short banner is repeated on a terminal, as the log scrolls the full one away. */
export const DEMO_REMINDER_MS = 120_000;

/**
 * The demo's own defaults over the parsed config, for what the command line left at its default:
 * a text log when stderr is a terminal (JSON everywhere else), and the short balance TTL.
 */
export function demoConfig(config: Config, sources: Readonly<Record<ConfigKey, Source>>, terminal: { stderrIsTTY: boolean }): Config {
  if (!config.demo) return config;
  return {
    ...config,
    logFormat: sources.logFormat === "default" && terminal.stderrIsTTY ? "text" : config.logFormat,
    balanceTtlMs: sources.balanceTtlMs === "default" ? DEMO_BALANCE_TTL_MS : config.balanceTtlMs,
  };
}

/** --demo-overflow (docs/providers.md): the simulated plan's threads, the overflow's price per 1000 solves, wait and daily budget. */
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
  enqueue(type: TaskParams["type"], params: TaskParams): Pick<Task, "status">;
}

/** Where the short banner goes: written every `everyMs` (undefined: never) and at each Enter (`onEnter`, a terminal's stdin). */
export interface DemoReminders {
  write(text: string): void;
  everyMs: number | undefined;
  onEnter: ((handler: () => void) => (() => void) | undefined) | undefined;
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
  /** The drain begins (its first rung): no more sample tasks, no more reminders. */
  stopping(): void;
  /** Its sample tasks still open: nobody waits for them, so their `shutdown` at the drain deadline is no warning. */
  expendable(): number;
  /**
   * One info line per task that ends (sample or posted), so the terminal shows the demo at work;
   * tasks failed by the stop itself (`shutdown`) are left to the drain's own line.
   */
  taskEnded(task: Task): void;
  /** The lines printed on stdout once the worker listens on `address` (the bound one: its URLs reach it). */
  banner(address: HostPort): string;
  /** The banner in short (status page, gateway key, simulator), for a terminal whose log scrolled the banner away. */
  reminder(address: HostPort): string;
  /** Repeats the reminder as `to` says until stopping(); called before banner(), which then says how. */
  remind(address: HostPort, to: DemoReminders): void;
  close(): Promise<void>;
}

/** Starts the demo's simulator on a loopback port. */
export async function startDemo(config: Config, clock: Clock, log: Logger): Promise<Demo> {
  const overflowing = config.demoOverflow;
  const solveTimeMs = { image: 2000, token: 6000 };
  const simulator = await startSimulator({ host: "127.0.0.1", port: 0 }, { keys: [DEMO_KEY], solveTimeMs, balanceUsd: DEMO_BALANCE_USD, log, threads: overflowing ? OVERFLOW_DEMO.planThreads : undefined });
  const overflow = overflowing
    ? await startSimulator({ host: "127.0.0.1", port: 0 }, { keys: [DEMO_KEY], solveTimeMs, balanceUsd: DEMO_BALANCE_USD, log, dialect: "2captcha" }).catch(async (err: unknown) => {
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
  /** The sample tasks not ended yet (each leaves at its end, so the set stays as small as the work in hand). */
  const samples = new Set<Pick<Task, "status">>();
  const stopReminders: (() => void)[] = [];
  let reminders: BannerFacts["reminders"] = { enter: false, everyMs: undefined };
  const facts = (address: HostPort): BannerFacts => ({
    address,
    simulator: simulator.url,
    config,
    clientKey: config.clientKeysFile === undefined ? demo.clientKey : undefined,
    balanceUsd: DEMO_BALANCE_USD,
    sampleImage: SAMPLE_PNG,
    overflow: overflow && { ...OVERFLOW_DEMO, url: overflow.url },
    reminders,
  });
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
          const task = pool.enqueue(params.type, params);
          if (task.status === "queued" || task.status === "submitted") samples.add(task);
        } catch (err) {
          log.debug("demo task not accepted", { err });
        }
        timer = clock.setTimeout(tick, everyMs);
      };
      timer = clock.setTimeout(tick, 0);
    },
    taskEnded(task) {
      samples.delete(task);
      const tookS = Math.round(((task.endedAt ?? clock.now()) - task.createdAt) / 100) / 10;
      // With two providers each line names the one that took the task.
      const by = overflowing && task.provider !== undefined ? { provider: task.provider } : {};
      if (task.status === "solved") log.info("task solved", { id: task.id, type: task.type, ...by, solution: clip(solutionText(solutionIn(task, "native") ?? "")), took_s: tookS });
      else if (task.error?.code !== "shutdown") log.info("task failed", { id: task.id, type: task.type, ...by, code: task.error?.code, took_s: tookS });
    },
    stopping() {
      stopped = true;
      timer?.cancel();
      for (const stop of stopReminders.splice(0)) stop();
    },
    expendable() {
      let open = 0;
      for (const task of samples) if (task.status === "queued" || task.status === "submitted") open++;
      return open;
    },
    banner: (address) => demoBanner(facts(address)),
    reminder: (address) => demoReminder(facts(address)),
    remind(address, to) {
      if (stopped) return;
      const write = () => to.write(demo.reminder(address));
      const off = to.onEnter?.(write);
      reminders = { enter: off !== undefined, everyMs: to.everyMs };
      if (off) stopReminders.push(off);
      if (to.everyMs !== undefined) {
        let next: Timer | undefined;
        const again = () => {
          write();
          next = clock.setTimeout(again, to.everyMs!);
        };
        next = clock.setTimeout(again, to.everyMs);
        stopReminders.push(() => next?.cancel());
      }
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
