// Faults of one provider among several (docs/providers.md), each reproduced as an adversarial review
// found it: real simulators over real sockets on one fake clock (the rig of providers_test.ts).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { CLIENT_KEY, keysFile, PNG } from "../_support/gateway.ts";
import { advance, eventually } from "../_support/harness.ts";
import { PAID_KEY, PLAN_KEY, postImage, withProviders, type ProvidersRig } from "../_support/providers_rig.ts";

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

  test("a type no provider in the file takes, or not with the task's proxy, is refused at submit on every API: 422 without Retry-After, ERROR_METHOD_CALL, ERROR_TASK_NOT_SUPPORTED", () =>
    withProviders(async (r) => {
      const v1 = (task: Record<string, unknown>) =>
        fetch(`${r.base}/v1/tasks`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${CLIENT_KEY}` }, body: JSON.stringify(task) });
      const image = await v1({ type: "image", image: PNG });
      assert.equal(image.status, 422);
      assert.equal(image.headers.get("retry-after"), null, "no provider will ever take it: nothing to retry after");
      const problem = (await image.json()) as { code: string; field: string };
      assert.deepEqual([problem.code, problem.field], ["ERR_TYPE_UNSUPPORTED", "type"]);
      const turnstile = { type: "turnstile", sitekey: "0x4AAAAAAAexample", pageurl: "https://example.com/" };
      const proxied = await v1({ ...turnstile, proxy: "u:p@10.0.0.1:3128", proxytype: "HTTP" });
      assert.equal(proxied.status, 422, "CapSolver takes Turnstile, but only without a proxy");
      await proxied.body?.cancel();
      const legacy = await (await fetch(`${r.base}/in.php?key=${CLIENT_KEY}&method=base64&json=1`, { method: "POST", body: new URLSearchParams({ body: PNG }) })).json();
      assert.deepEqual(legacy, { status: 0, request: "ERROR_METHOD_CALL" });
      const created = (await (await fetch(`${r.base}/createTask`, { method: "POST", body: JSON.stringify({ clientKey: CLIENT_KEY, task: { type: "ImageToTextTask", body: PNG } }) })).json()) as { errorCode: string };
      assert.equal(created.errorCode, "ERROR_TASK_NOT_SUPPORTED");
      const taken = await v1({ type: "recaptcha_v3", sitekey: "k".repeat(40), pageurl: "https://example.com/", action: "login" });
      assert.equal(taken.status, 202, "a type a provider takes goes on");
      await taken.body?.cancel();
      await eventually(() => r.plan.counts().submitted === 1, "at the plan");
    }, {
      flags: { "client-keys-file": keysFile() },
      keys: { "/keys/plan": PLAN_KEY, "/keys/paid": PAID_KEY },
      file: (s) => [
        `plan legacy ${s.plan.url.href} key-file=/keys/plan threads=2 types=recaptcha_v3`,
        `paid v2 ${s.paid.url.href} key-file=/keys/paid dialect=capsolver price=2 types=turnstile`,
      ].join("\n"),
    }));

  test("tasks that run out of time in the queue are no provider's failure: a busy plan and a paid provider with no budget stay as they are, and the tasks name no provider", () =>
    withProviders(async (r) => {
      // The worker thinks the plan has 6 threads; its account has 4: two submits are refused "no free thread".
      const ids = await Promise.all(Array.from({ length: 12 }, () => postImage(r)));
      await advance(r.clock, 10_000);
      await eventually(() => ids.every((id) => ended(r.worker.pool.find(id)?.status)), "every task timed out");
      const tasks = ids.map((id) => r.worker.pool.find(id)!);
      assert.ok(tasks.every((t) => t.error?.code === "timeout"));
      const atPlan = tasks.filter((t) => t.provider === "plan").length;
      assert.equal(atPlan, r.plan.counts().submitted, "only the tasks the plan took name it");
      assert.equal(tasks.filter((t) => t.provider === undefined).length, 12 - atPlan);
      const snapshot = r.worker.health.snapshot();
      assert.equal(snapshot.consecutiveFailures, atPlan, "the plan is charged for its own tasks only");
      const state = r.worker.view.evaluate();
      const planDown = [...state.issues, ...state.warnings].filter((w) => w.kind === "provider_down" && w.provider === "plan");
      assert.deepEqual(planDown, [], "the plan was merely busy");
      const read = (await (await fetch(`${r.base}/v1/tasks/${tasks.find((t) => t.provider === undefined)!.id}`)).json()) as { provider?: string };
      assert.equal(read.provider, undefined);
    }, {
      flags: { "task-timeout": "8s" },
      keys: { "/keys/plan": PLAN_KEY, "/keys/paid": PAID_KEY },
      file: (s) => [
        `plan legacy ${s.plan.url.href} key-file=/keys/plan threads=6`,
        `paid legacy ${s.paid.url.href} key-file=/keys/paid price=2 daily-budget=0`,
      ].join("\n"),
    }));

  test("getbalance answers the first provider in use that has a balance: not 0 for a first provider never reached, nor for one a reload removed", async () => {
    const balance = async (r: ProvidersRig) => ({
      legacy: await (await fetch(`${r.base}/res.php?key=${CLIENT_KEY}&action=getbalance`)).text(),
      v2: ((await (await fetch(`${r.base}/getBalance`, { method: "POST", body: JSON.stringify({ clientKey: CLIENT_KEY }) })).json()) as { balance: number }).balance,
    });
    const keys = { "/keys/plan": PLAN_KEY, "/keys/paid": PAID_KEY };
    const lines = (plan: string, paid: string) => [`plan legacy ${plan} key-file=/keys/plan threads=2`, `paid legacy ${paid} key-file=/keys/paid price=2`].join("\n");
    await withProviders(async (r) => {
      r.paid.control.setBalance(7.5);
      await r.worker.checks.refresh("paid_api");
      assert.deepEqual(await balance(r), { legacy: "7.5", v2: 7.5 }, "the plan never answered: the next provider's balance");
      // The worker-wide signals say the same, and --threads (5 by default) is not the plans' threads.
      const metrics = await (await fetch(`${r.base}/metrics`)).text();
      assert.match(metrics, /^captcha_worker_balance_usd 7\.5$/m);
      assert.match(metrics, /^captcha_worker_threshold\{name="threads"\} 2$/m);
      assert.match(metrics, /^captcha_worker_provider_balance_usd\{provider="paid"\} 7\.5$/m);
      assert.doesNotMatch(metrics, /^captcha_worker_provider_balance_usd\{provider="plan"\}/m, "never read: no series");
      const ready = (await (await fetch(`${r.base}/health/ready`)).json()) as { stats: { balance: number } };
      assert.equal(ready.stats.balance, 7.5);
    }, { flags: { "client-keys-file": keysFile() }, keys, file: (s) => lines("http://127.0.0.1:9/", s.paid.url.href) });
    await withProviders(async (r) => {
      r.plan.control.setBalance(42);
      r.paid.control.setBalance(7.5);
      await r.worker.checks.refresh("plan_api");
      await r.worker.checks.refresh("paid_api");
      assert.deepEqual(await balance(r), { legacy: "42", v2: 42 }, "the first provider's");
      r.file.text = r.file.text.split("\n").slice(1).join("\n");
      r.worker.reload();
      await eventually(() => r.worker.pool.provider("plan")?.removed === true, "the plan removed");
      assert.deepEqual(await balance(r), { legacy: "7.5", v2: 7.5 }, "the plan removed: the next provider's");
    }, { flags: { "client-keys-file": keysFile() }, keys, file: (s) => lines(s.plan.url.href, s.paid.url.href) });
  });
});
