// Faults of one provider among several (README, Providers), each reproduced as an adversarial review
// found it: real simulators over real sockets on one fake clock (the rig of providers_test.ts).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { advance, eventually } from "../_support/harness.ts";
import { postImage, withProviders } from "../_support/providers_rig.ts";

const ended = (status: string | undefined) => status === "solved" || status === "failed";

describe("providers: faults", () => {
  test("the plan's in.php hangs while its getbalance answers: after the first tasks it costs one task per trial, never a thread's worth, and reads down throughout", () =>
    withProviders(async (r) => {
      r.plan.control.setFault("in.php", { hang: true });
      const ids: string[] = [];
      let detectedAt: number | undefined;
      let mostOut = 0;
      const ups: boolean[] = [];
      for (let s = 0; s < 150; s++) {
        ids.push(await postImage(r));
        await advance(r.clock, 1000);
        const tasks = ids.map((id) => r.worker.pool.find(id)!);
        if (detectedAt === undefined && tasks.some((t) => t.error?.code === "SUBMIT_UNCERTAIN")) detectedAt = s;
        if (detectedAt === undefined) continue;
        mostOut = Math.max(mostOut, r.worker.pool.provider("plan")!.busy);
        ups.push(r.worker.view.providerUp("plan"));
      }
      assert.ok(detectedAt !== undefined && detectedAt <= 6, `the first submits timed out at ${detectedAt} s`);
      assert.equal(mostOut, 1, "after the fault showed, one task at a time at the plan: its trial");
      assert.deepEqual([...new Set(ups)], [false], "captcha_worker_provider_up{provider=plan} 0 from the first fault on");
      await advance(r.clock, 30_000);
      await eventually(() => ids.every((id) => ended(r.worker.pool.find(id)?.status)), "every task ended");
      const tasks = ids.map((id) => r.worker.pool.find(id)!);
      const uncertain = tasks.filter((t) => t.status === "failed");
      assert.ok(uncertain.every((t) => t.error?.code === "SUBMIT_UNCERTAIN" && t.provider === "plan"));
      // Two at once before the fault showed (the plan's threads), then one per trial, its pauses doubling.
      assert.ok(uncertain.length <= 10, `${uncertain.length} tasks lost in 150 s`);
      assert.equal(r.plan.counts().requests["in.php"], uncertain.length, "none sent twice");
      assert.ok(tasks.filter((t) => t.status === "solved").every((t) => t.provider === "paid"));
      assert.equal(uncertain.length + tasks.filter((t) => t.status === "solved").length, ids.length);
      const metrics = await (await fetch(`${r.base}/metrics`)).text();
      assert.match(metrics, /^captcha_worker_provider_up\{provider="plan"\} 0$/m);
      assert.equal((await fetch(`${r.base}/health/ready`)).status, 200);
    }));
});
