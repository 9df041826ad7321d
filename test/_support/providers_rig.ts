// Two providers behind one in-process worker (docs/providers.md), the rig of providers_test.ts: a
// CaptchaAI-like thread plan first and a pay-per-solve legacy provider behind it, each a real
// simulator over real sockets on one fake clock.
import { once } from "node:events";
import { connect } from "node:net";
import assert from "node:assert/strict";
import { createLogger } from "../../src/base/log.ts";
import { parseConfig } from "../../src/config/parse_config.ts";
import { reloadProviders, type ProviderSpec } from "../../src/config/providers.ts";
import { TASK_TYPES } from "../../src/tasks/task_catalogue.ts";
import { startWorker, type Worker } from "../../src/app/start.ts";
import { startSimulator, type Simulator } from "../../src/sim/simulator.ts";
import { FakeClock } from "./fake_clock.ts";
import { PNG } from "./gateway.ts";
import { eventually } from "./harness.ts";
import { testProcess } from "./process_stats.ts";

export const PLAN_KEY = "plan-key-0123456789abcdef0123456";
export const PAID_KEY = "paid-key-0123456789abcdef0123456";

export interface ProvidersRig {
  clock: FakeClock;
  plan: Simulator;
  paid: Simulator;
  worker: Worker;
  base: string;
  /** Every log line so far. */
  logs: string[];
  /** With `file`: the providers file's text SIGHUP re-reads, and the key files' texts by path. */
  file: { text: string; keys: Record<string, string> };
}

export interface ProvidersRigOptions {
  /** The paid provider's daily budget. */
  paidBudget?: number;
  /** Flags beside --listen, --first-poll 1s and --poll-interval 1s. */
  flags?: Record<string, string>;
  /** More secrets for the log to redact. */
  secrets?: string[];
  /**
   * The providers from a providers file's text (its URLs from the simulators), parsed as `run` parses
   * it, with key files read from `keys`; worker.reload() re-reads r.file then (SIGHUP, in process).
   */
  file?: (sims: { plan: Simulator; paid: Simulator }) => string;
  keys?: Record<string, string>;
}

export function providerSpec(name: string, url: URL, key: string, more: Partial<ProviderSpec>): ProviderSpec {
  return {
    name, protocol: "legacy", dialect: "captchaai", url, threads: undefined, price: undefined, typePrices: {}, afterMs: 5000, dailyBudgetUsd: undefined,
    types: undefined, key, keyOrigin: `key-file /etc/${name}.key`, keySource: "key-file", keyFile: `/etc/${name}.key`, line: 1, ...more,
  } as ProviderSpec;
}

/** The rig's two providers: `plan` (2 threads) and `paid` ($2 per 1000, after 5 s). */
export const rigProviders = (plan: Simulator, paid: Simulator, paidBudget?: number): ProviderSpec[] => [
  providerSpec("plan", plan.url, PLAN_KEY, { threads: 2, line: 1 }),
  providerSpec("paid", paid.url, PAID_KEY, { dialect: "2captcha", price: 2, dailyBudgetUsd: paidBudget, line: 2 }),
];

export async function withProviders(fn: (r: ProvidersRig) => Promise<void>, o: ProvidersRigOptions = {}): Promise<void> {
  const clock = new FakeClock(Date.UTC(2026, 0, 1, 6, 0, 10));
  const logs: string[] = [];
  const log = createLogger({ level: "info", write: (l) => logs.push(l), secrets: [PLAN_KEY, PAID_KEY, ...(o.secrets ?? [])] });
  // The plan's solves take 20 s, so a burst holds its two threads past the paid provider's 5 s `after`
  // (its account has 4, so a reload may give the worker more).
  const plan = await startSimulator({ host: "127.0.0.1", port: 0 }, { keys: [PLAN_KEY], clock, seed: 1, threads: 4, solveTimeMs: { image: 20_000, token: 20_000 } });
  const paid = await startSimulator({ host: "127.0.0.1", port: 0 }, { keys: [PAID_KEY], clock, seed: 2, solveTimeMs: { image: 2000, token: 2000 } });
  const { config } = parseConfig({ listen: "127.0.0.1:0", "first-poll": "1s", "poll-interval": "1s", ...o.flags }, {});
  const file = { text: o.file?.({ plan, paid }) ?? "", keys: { ...o.keys } };
  const reread = () =>
    reloadProviders(file.text, {
      path: "/etc/captcha-worker/providers", types: TASK_TYPES, env: {},
      readFile: (path) => file.keys[path] ?? (() => { throw Object.assign(new Error(`ENOENT: ${path}`), { code: "ENOENT" }); })(),
    });
  let providers = rigProviders(plan, paid, o.paidBudget);
  if (o.file) {
    const first = reread();
    if (!first.ok) throw new Error(first.error);
    providers = first.providers;
  }
  const worker = await startWorker({
    process: testProcess, config, apiKey: PLAN_KEY, providers, clock, log, random: () => 0.5, ...(o.file ? { rereadProviders: reread } : {}),
  });
  try {
    await eventually(() => worker.view.phase !== "starting", "startup");
    await fn({ clock, plan, paid, worker, base: `http://127.0.0.1:${worker.address.port}`, logs, file });
  } finally {
    await worker.close();
    await plan.close();
    await paid.close();
  }
}

/** POSTs an image task; its id. */
export async function postImage(r: ProvidersRig): Promise<string> {
  const res = await fetch(`${r.base}/v1/tasks`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ type: "image", image: PNG }) });
  assert.equal(res.status, 202);
  return ((await res.json()) as { id: string }).id;
}

/** What the HAProxy agent answers over TCP, as HAProxy reads it. */
export async function readAgent(port: number): Promise<string> {
  const socket = connect(port, "127.0.0.1");
  let text = "";
  socket.setEncoding("utf8");
  socket.on("data", (c: string) => (text += c));
  await once(socket, "end");
  socket.destroy();
  return text;
}
