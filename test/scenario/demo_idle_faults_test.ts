/**
 * A fault injected on an idle demo shows within seconds: the demo reads the balance every 5 s
 * (unless --balance-ttl says otherwise), where a worker keeps the 60 s default. No task runs: the
 * balance check alone must tell. The worker runs on a fake clock against the demo's own simulator.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createLogger } from "../../src/base/log.ts";
import { DEMO_BALANCE_TTL_MS, demoConfig } from "../../src/app/demo.ts";
import { startWorker, type Worker } from "../../src/app/start.ts";
import { parseConfig } from "../../src/config/parse_config.ts";
import { advance, eventually } from "../_support/harness.ts";
import { FakeClock } from "../_support/fake_clock.ts";
import { testProcess } from "../_support/process_stats.ts";

async function idleDemo(flags: Record<string, string | boolean> = {}): Promise<{ worker: Worker; clock: FakeClock; base: string }> {
  const clock = new FakeClock();
  const parsed = parseConfig({ demo: true, listen: "127.0.0.1:0", ...flags }, {});
  const config = demoConfig(parsed.config, parsed.sources, { stderrIsTTY: false });
  const log = createLogger({ level: "error", write: () => {} });
  const worker = await startWorker({ process: testProcess, config, apiKey: undefined, clock, log });
  await eventually(() => worker.view.phase !== "starting", "startup");
  return { worker, clock, base: `http://127.0.0.1:${worker.address.port}` };
}

const readiness = async (base: string) => {
  const r = await fetch(base + "/health/ready");
  return { status: r.status, issues: ((await r.json()) as { issues: string[] }).issues };
};

describe("faults on an idle demo", () => {
  test("the account run low shows within the demo's 5 s balance TTL, with no task running", async () => {
    const { worker, clock, base } = await idleDemo();
    try {
      assert.equal(worker.config.balanceTtlMs, DEMO_BALANCE_TTL_MS);
      assert.equal((await readiness(base)).status, 200);
      worker.demo!.simulator.control.setBalance(0.5);
      await advance(clock, DEMO_BALANCE_TTL_MS + 1000);
      await eventually(() => worker.notifier.last.state === "not_ready", "not ready");
      assert.deepEqual(await readiness(base), { status: 503, issues: ["low_balance=$0.50"] });
      assert.equal(worker.pool.inFlight + worker.pool.queueDepth, 0, "idle all along");
    } finally {
      await worker.close();
    }
  });

  test("an HTTP 500 on every call shows as fast; --balance-ttl given keeps its value", async () => {
    const { worker, clock, base } = await idleDemo();
    try {
      worker.demo!.simulator.control.setFault("all", { status: 500 });
      await advance(clock, DEMO_BALANCE_TTL_MS + 1000);
      await eventually(() => worker.notifier.last.state === "not_ready", "not ready");
      assert.equal((await readiness(base)).status, 503);
    } finally {
      await worker.close();
    }
    const given = await idleDemo({ "balance-ttl": "60s" });
    try {
      assert.equal(given.worker.config.balanceTtlMs, 60_000);
      given.worker.demo!.simulator.control.setBalance(0.5);
      await advance(given.clock, DEMO_BALANCE_TTL_MS + 1000);
      assert.equal((await readiness(given.base)).status, 200, "60 s: not read again yet");
    } finally {
      await given.worker.close();
    }
  });
});
