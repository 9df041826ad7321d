// The HAProxy agent's weight over several providers (docs/deploy-vm.md, HAProxy), read over TCP as HAProxy reads
// it: a CaptchaAI-like plan of 2 threads first and a pay-per-solve provider behind it, real
// simulators on one fake clock.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { advance, eventually } from "../_support/harness.ts";
import { postImage, readAgent, withProviders } from "../_support/providers_rig.ts";

const AGENT = { flags: { "agent-listen": "127.0.0.1:0" } };

describe("HAProxy agent over providers", () => {
  test("the weight follows the plan's threads left (not --threads); tasks overflowing to the per-solve provider weigh the replica down", () =>
    withProviders(async (r) => {
      const agent = () => readAgent(r.worker.agent!.address.port);
      assert.equal(await agent(), "up ready 100%\n");
      const ids = [await postImage(r), await postImage(r)];
      await eventually(() => r.plan.counts().submitted === 2, "the plan's two threads");
      assert.equal(await agent(), "up ready 50%\n", "both plan threads busy: T = 2 (--threads would say 5)");
      ids.push(...(await Promise.all(Array.from({ length: 4 }, () => postImage(r)))));
      await advance(r.clock, 5000);
      await eventually(() => r.paid.counts().submitted === 4, "overflow after 5 s");
      assert.equal(r.worker.pool.provider("paid")!.busy, 4);
      assert.equal(await agent(), "up ready 25%\n", "2 plan threads, 6 tasks out: paid work counts as load, its slots not as capacity");
      await advance(r.clock, 25_000);
      await eventually(() => ids.every((id) => r.worker.pool.find(id)?.status === "solved"), "all solved");
      // The four waited 5 s on the full plan: a sixth of the 30 s so far is saturation (docs/providers.md, Thread plan), which halves the weight.
      assert.deepEqual(r.worker.view.evaluate().warnings.map((w) => w.kind), ["saturation"]);
      assert.equal(await agent(), "up ready 50%\n");
      await advance(r.clock, 60_000);
      await eventually(() => r.worker.view.evaluate().warnings.length === 0, "5 s of 90: under --max-saturation");
      assert.equal(await agent(), "up ready 100%\n");
    }, AGENT));

  test("with the plan down the per-solve provider's slots are the capacity, at most half the weight while provider_down warns", () =>
    withProviders(async (r) => {
      const agent = () => readAgent(r.worker.agent!.address.port);
      r.plan.control.setFault("all", { error: "ERROR_KEY_DOES_NOT_EXIST" });
      await r.worker.checks.refresh("plan_api");
      await eventually(() => r.worker.view.providerStates()[0]!.state === "down", "the plan down");
      assert.equal(await agent(), "up ready 50%\n");
      r.paid.control.setFault("all", { error: "ERROR_KEY_DOES_NOT_EXIST" });
      await r.worker.checks.refresh("paid_api");
      await eventually(() => !r.worker.view.evaluate().ready, "none can take work");
      assert.match(await agent(), /^down #provider_down=plan:upstream_auth=ERROR_KEY_DOES_NOT_EXIST,provider_down=paid:/);
    }, AGENT));

  test("a per-solve provider past its budget adds nothing; its budget warning holds the weight at half", () =>
    withProviders(async (r) => {
      const agent = () => readAgent(r.worker.agent!.address.port);
      const ids = await Promise.all(Array.from({ length: 3 }, () => postImage(r)));
      await advance(r.clock, 5000);
      await eventually(() => r.paid.counts().submitted === 1, "one paid solve fits the budget");
      await advance(r.clock, 3000);
      await eventually(() => r.worker.pool.provider("paid")!.budgetLeftUsd === 0, "spent");
      // 2 plan threads busy, 0 paid, 0 queued; the spent budget warns (provider_down=paid:budget): at most 50%.
      assert.equal(await agent(), "up ready 50%\n");
      await advance(r.clock, 30_000);
      await eventually(() => ids.every((id) => r.worker.pool.find(id)?.status === "solved"), "all solved by the plan");
      assert.equal(await agent(), "up ready 50%\n", "idle plan, but the warning holds");
    }, { ...AGENT, paidBudget: 0.002 }));
});
