/** A worker and the simulator in-process on one fake clock, over real sockets on port 0. */
import { testProcess } from "./process_stats.ts";
import { setImmediate as tick } from "node:timers/promises";
import type { Config, FlagValues } from "../../src/config/config.ts";
import { parseConfig } from "../../src/config/parse_config.ts";
import { createLogger, type Logger } from "../../src/base/log.ts";
import { startSimulator, type Simulator, type SimulatorOptions } from "../../src/sim/simulator.ts";
import { startWorker, type Worker } from "../../src/app/start.ts";
import { FakeClock } from "./fake_clock.ts";

export const SIM_KEY = "harness-key-7c0ffee7c0ffee7c0ffe";

export interface Harness {
  clock: FakeClock;
  sim: Simulator;
  worker: Worker;
  config: Config;
  base: string;
  logs: string[];
  close(): Promise<void>;
}

export interface HarnessOptions {
  flags?: FlagValues;
  sim?: Partial<SimulatorOptions>;
  apiToken?: string;
  /** Skip waiting for startup (the first balance check). */
  noStartup?: boolean;
  /** Points the worker elsewhere than the simulator (e.g. a closed port). @default the simulator */
  upstreamUrl?: URL;
  /** Runs before the worker starts (e.g. faults that its first check should meet). */
  beforeWorker?: (sim: Simulator) => void;
}

export async function startHarness(o: HarnessOptions = {}): Promise<Harness> {
  const clock = new FakeClock();
  const logs: string[] = [];
  const log: Logger = createLogger({ level: "debug", write: (l) => logs.push(l), secrets: [SIM_KEY] });
  const sim = await startSimulator({ host: "127.0.0.1", port: 0 }, { keys: [SIM_KEY], clock, seed: 11, solveTimeMs: { image: 4000, token: 12_000 }, ...o.sim });
  o.beforeWorker?.(sim);
  const { config } = parseConfig({ listen: "127.0.0.1:0", ...o.flags }, {});
  const worker = await startWorker({ process: testProcess, config, upstreamUrl: o.upstreamUrl ?? sim.url, apiKey: SIM_KEY, clock, log, apiToken: o.apiToken, random: () => 0.5 });
  if (!o.noStartup) await eventually(() => worker.view.phase !== "starting", "startup");
  return {
    clock,
    sim,
    worker,
    config,
    base: `http://127.0.0.1:${worker.address.port}`,
    logs,
    close: async () => {
      await worker.close();
      await sim.close();
    },
  };
}

/**
 * Waits for real I/O (HTTP round trips on loopback) to make `cond` true; time on the fake clock
 * does not move. Fails after `limit` event-loop turns, not after a wall-clock sleep.
 */
export async function eventually(cond: () => boolean, what = "condition", limit = 20_000): Promise<void> {
  for (let i = 0; i < limit; i++) {
    if (cond()) return;
    await tick();
  }
  throw new Error(`not reached: ${what}`);
}

/** Advances the fake clock in steps, letting I/O finish between them. */
export async function advance(clock: FakeClock, ms: number, stepMs = 250): Promise<void> {
  for (let t = 0; t < ms; t += stepMs) {
    await clock.advance(Math.min(stepMs, ms - t));
    for (let i = 0; i < 50; i++) await tick();
  }
}

/** Runs `fn` on a fresh harness and closes it, however `fn` ends. */
export async function withHarness(fn: (h: Harness) => Promise<void>, opts: HarnessOptions = {}): Promise<void> {
  const h = await startHarness(opts);
  try {
    await fn(h);
  } finally {
    await h.close();
  }
}
