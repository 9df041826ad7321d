// The worker behind three kinds of per-solve provider at once (docs/providers.md), each the
// simulator in its dialect (docs/simulator.md) over real sockets on one fake clock: 2captcha's
// in.php, anti-captcha's and CapSolver's createTask APIs. Every task is solved by the provider its
// type goes to, and the spend the worker counts per provider equals each simulator's own spentUsd:
// its solves times its prices.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createLogger } from "../../src/base/log.ts";
import { parseConfig } from "../../src/config/parse_config.ts";
import type { ProviderSpec } from "../../src/config/providers.ts";
import { startWorker } from "../../src/app/start.ts";
import { SIM_DIALECT_SPECS, type SimDialect } from "../../src/sim/sim_dialects.ts";
import { startSimulator, type Simulator } from "../../src/sim/simulator.ts";
import { FakeClock } from "../_support/fake_clock.ts";
import { advance, eventually } from "../_support/harness.ts";
import { PNG_B64 } from "../_support/images.ts";
import { testProcess } from "../_support/process_stats.ts";

const KEY = "dialect-key-0123456789abcdef0123";
const PAGE = "https://example.com/login";

/** Each provider: its simulator's dialect, how the worker speaks to it, and the one type it is given. */
const PROVIDERS: { name: string; sim: SimDialect; api: Pick<ProviderSpec, "protocol" | "dialect">; type: string; task: Record<string, unknown> }[] = [
  { name: "twocaptcha", sim: "2captcha", api: { protocol: "legacy", dialect: "2captcha" }, type: "image", task: { type: "image", image: PNG_B64 } },
  { name: "anticaptcha", sim: "anticaptcha", api: { protocol: "v2", dialect: "anticaptcha" }, type: "recaptcha_v2", task: { type: "recaptcha_v2", sitekey: "6Le-sitekey-abc", pageurl: PAGE } },
  { name: "capsolver", sim: "capsolver", api: { protocol: "v2", dialect: "capsolver" }, type: "turnstile", task: { type: "turnstile", sitekey: "0x4AAAAAAAexample", pageurl: PAGE } },
];

const sample = (text: string, series: string): number | undefined => {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

describe("providers of every simulated dialect", () => {
  test("each solves the tasks of its type, and the worker's spend per provider equals the simulator's spentUsd, its solves times its prices", async () => {
    const clock = new FakeClock();
    const log = createLogger({ level: "warn", write: () => {}, secrets: [KEY] });
    const sims = new Map<string, Simulator>();
    try {
      for (const p of PROVIDERS) sims.set(p.name, await startSimulator({ host: "127.0.0.1", port: 0 }, { dialect: p.sim, keys: [KEY], clock, seed: 5, solveTimeMs: { image: 2000, token: 4000 } }));
      // The worker's price for each provider is the simulator's own (USD per 1000, per kind).
      const providers = PROVIDERS.map((p) => {
        const prices = SIM_DIALECT_SPECS[p.sim].pricePer1000Usd;
        return {
          name: p.name, ...p.api, url: sims.get(p.name)!.url, threads: undefined, price: prices.token, typePrices: { image: prices.image }, afterMs: 0, dailyBudgetUsd: undefined,
          types: [p.type], key: KEY, keyOrigin: `key-file /etc/${p.name}.key`, keySource: "key-file", keyFile: `/etc/${p.name}.key`, line: 1,
        } as ProviderSpec;
      });
      const { config } = parseConfig({ listen: "127.0.0.1:0", "first-poll": "1s", "poll-interval": "1s" }, {});
      const worker = await startWorker({ process: testProcess, config, apiKey: KEY, providers, clock, log, random: () => 0.5 });
      try {
        await eventually(() => worker.view.phase !== "starting", "startup");
        const base = `http://127.0.0.1:${worker.address.port}`;
        const ids: { id: string; provider: string }[] = [];
        for (const p of PROVIDERS) {
          for (let i = 0; i < 3; i++) {
            const res = await fetch(`${base}/v1/tasks`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(p.task) });
            assert.equal(res.status, 202, p.name);
            ids.push({ id: ((await res.json()) as { id: string }).id, provider: p.name });
          }
        }
        await advance(clock, 10_000);
        await eventually(() => ids.every(({ id }) => worker.pool.find(id)?.status === "solved"), "every task solved");
        assert.deepEqual(ids.map(({ id }) => worker.pool.find(id)!.provider), ids.map((t) => t.provider), "each by the provider of its type");
        const metrics = await (await fetch(`${base}/metrics`)).text();
        for (const p of PROVIDERS) {
          const counts = sims.get(p.name)!.counts();
          const prices = sims.get(p.name)!.control.state().pricesUsd;
          assert.equal(counts.submitted, 3, p.name);
          assert.equal(counts.charged.image + counts.charged.token, 3, `${p.name}: each solve charged once`);
          assert.equal(counts.spentUsd, Math.round((counts.charged.image * prices.image + counts.charged.token * prices.token) * 1e6) / 1e6, p.name);
          const spent = sample(metrics, `captcha_worker_provider_spend_usd_total{provider="${p.name}"}`)!;
          assert.ok(Math.abs(spent - counts.spentUsd) < 1e-9, `${p.name}: the worker counted ${spent}, the provider ${counts.spentUsd}`);
        }
      } finally {
        await worker.close();
      }
    } finally {
      for (const sim of sims.values()) await sim.close();
    }
  });
});
