// Several providers behind one worker (docs/providers.md): a CaptchaAI-like thread plan first and a
// pay-per-solve legacy provider behind it, each a real simulator over real sockets on one fake clock.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createLogger } from "../../src/base/log.ts";
import { parseConfig } from "../../src/config/parse_config.ts";
import type { ProviderSpec } from "../../src/config/providers.ts";
import { startWorker, type Worker } from "../../src/app/start.ts";
import { startSimulator, type Simulator } from "../../src/sim/simulator.ts";
import { FakeClock } from "../_support/fake_clock.ts";
import { CLIENT_KEY, keysFile, PNG } from "../_support/gateway.ts";
import { advance, eventually } from "../_support/harness.ts";
import { testProcess } from "../_support/process_stats.ts";
import { promtoolFindings } from "../_support/promtool.ts";
import { startScriptedUpstream } from "../_support/scripted_upstream.ts";
import { scriptedV2 } from "../_support/scripted_v2.ts";

const PLAN_KEY = "plan-key-0123456789abcdef0123456";
const PAID_KEY = "paid-key-0123456789abcdef0123456";

interface Rig {
  clock: FakeClock;
  plan: Simulator;
  paid: Simulator;
  worker: Worker;
  base: string;
  logs: string[];
}

function spec(name: string, url: URL, key: string, more: Partial<ProviderSpec>): ProviderSpec {
  return {
    name, protocol: "legacy", dialect: "captchaai", url, threads: undefined, price: undefined, typePrices: {}, afterMs: 5000, dailyBudgetUsd: undefined,
    types: undefined, key, keyOrigin: `key-file /etc/${name}.key`, keySource: "key-file", keyFile: `/etc/${name}.key`, line: 1, ...more,
  } as ProviderSpec;
}

async function withProviders(fn: (r: Rig) => Promise<void>, o: { paidBudget?: number; flags?: Record<string, string> } = {}): Promise<void> {
  const clock = new FakeClock();
  const logs: string[] = [];
  const log = createLogger({ level: "debug", write: (l) => logs.push(l), secrets: [PLAN_KEY, PAID_KEY] });
  // The plan's solves take 20 s, so a burst holds its two threads past the paid provider's 5 s `after`.
  const plan = await startSimulator({ host: "127.0.0.1", port: 0 }, { keys: [PLAN_KEY], clock, seed: 1, threads: 2, solveTimeMs: { image: 20_000, token: 20_000 } });
  const paid = await startSimulator({ host: "127.0.0.1", port: 0 }, { keys: [PAID_KEY], clock, seed: 2, solveTimeMs: { image: 2000, token: 2000 }, dialect: "2captcha" });
  const { config } = parseConfig({ listen: "127.0.0.1:0", "first-poll": "1s", "poll-interval": "1s", ...o.flags }, {});
  const providers = [
    spec("plan", plan.url, PLAN_KEY, { threads: 2 }),
    spec("paid", paid.url, PAID_KEY, { dialect: "2captcha", price: 2, dailyBudgetUsd: o.paidBudget }),
  ];
  const worker = await startWorker({ process: testProcess, config, apiKey: PLAN_KEY, providers, clock, log, random: () => 0.5 });
  try {
    await eventually(() => worker.view.phase !== "starting", "startup");
    await fn({ clock, plan, paid, worker, base: `http://127.0.0.1:${worker.address.port}`, logs });
  } finally {
    await worker.close();
    await plan.close();
    await paid.close();
  }
}

const post = async (r: Rig) => {
  const res = await fetch(`${r.base}/v1/tasks`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ type: "image", image: PNG }) });
  assert.equal(res.status, 202);
  return ((await res.json()) as { id: string }).id;
};
const metrics = async (r: Rig) => (await fetch(`${r.base}/metrics`)).text();
/** One sample's value from the exposition; undefined when the series is absent. */
const sample = (text: string, series: string): number | undefined => {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};
const ready = async (r: Rig) => {
  const res = await fetch(`${r.base}/health/ready`);
  return { status: res.status, body: (await res.json()) as { issues: string[] } };
};

describe("providers", () => {
  test("a burst past the plan's threads overflows to the paid provider after its `after`, and every task is solved; each provider has its check and its metrics", (t) =>
    withProviders(async (r) => {
      const ids = await Promise.all(Array.from({ length: 6 }, () => post(r)));
      await eventually(() => r.plan.counts().submitted === 2, "the plan's two threads");
      assert.equal(r.paid.counts().submitted, 0);
      const busy = await metrics(r);
      assert.equal(sample(busy, 'captcha_worker_provider_threads{provider="plan",state="busy"}'), 2);
      assert.equal(sample(busy, 'captcha_worker_provider_threads{provider="plan",state="plan"}'), 2);
      assert.equal(sample(busy, 'captcha_worker_provider_threads{provider="paid",state="busy"}'), 0);
      assert.equal(sample(busy, 'captcha_worker_provider_threads{provider="paid",state="plan"}'), undefined, "a per-solve account has no plan");
      assert.equal(sample(busy, 'captcha_worker_provider_up{provider="plan"}'), 1);
      assert.equal(sample(busy, 'captcha_worker_provider_up{provider="paid"}'), 1);
      assert.equal(sample(busy, 'captcha_worker_provider_spend_usd_total{provider="paid"}'), 0);
      await advance(r.clock, 5000);
      await eventually(() => r.paid.counts().submitted === 4, "overflow after 5 s");
      await advance(r.clock, 25_000);
      await eventually(() => ids.every((id) => r.worker.pool.find(id)?.status === "solved"), "all solved");
      const byProvider = ids.map((id) => r.worker.pool.find(id)!.provider);
      const paidSolves = byProvider.filter((p) => p === "paid").length;
      assert.deepEqual(byProvider.filter((p) => p === "plan").length + paidSolves, 6);
      const text = await metrics(r);
      assert.equal(promtoolFindings(t, text) ?? "", "");
      assert.equal(sample(text, 'captcha_worker_provider_tasks_total{provider="paid",type="image",outcome="solved"}'), paidSolves);
      assert.equal(sample(text, 'captcha_worker_provider_tasks_total{provider="plan",type="image",outcome="solved"}'), 6 - paidSolves);
      // 2captcha's $2 per 1000 image solves: $0.002 each.
      assert.ok(Math.abs(sample(text, 'captcha_worker_provider_spend_usd_total{provider="paid"}')! - 0.002 * paidSolves) < 1e-9);
      assert.equal(sample(text, 'captcha_worker_provider_budget_remaining_usd{provider="paid"}'), undefined, "no budget, no series");
      const deps = (await (await fetch(`${r.base}/health/dependencies`)).json()) as { checks: Record<string, unknown> };
      assert.deepEqual(Object.keys(deps.checks).sort(), ["paid_api", "plan_api"]);
      const task = (await (await fetch(`${r.base}/v1/tasks/${ids[5]}`)).json()) as { provider?: string };
      assert.ok(task.provider === "plan" || task.provider === "paid");
    }));

  test("the plan refusing its key moves new work to the next provider at once; readiness stays 200 with a provider_down warning", () =>
    withProviders(async (r) => {
      r.plan.control.setFault("in.php", { error: "ERROR_KEY_DOES_NOT_EXIST" });
      const first = await post(r);
      await eventually(() => r.paid.counts().submitted === 1, "the paid provider at once");
      assert.equal(r.worker.pool.find(first)!.provider, "paid");
      const second = await post(r);
      await eventually(() => r.paid.counts().submitted === 2, "the next too");
      assert.equal(r.plan.counts().submitted, 0);
      const state = await ready(r);
      assert.equal(state.status, 200);
      const health = (await (await fetch(`${r.base}/health`)).json()) as { status: string; output?: string };
      assert.equal(health.status, "warn");
      assert.ok(r.worker.view.evaluate().warnings.some((w) => w.kind === "provider_down" && w.provider === "plan"));
      await advance(r.clock, 5000);
      await eventually(() => [first, second].every((id) => r.worker.pool.find(id)?.status === "solved"), "solved elsewhere");
      assert.equal(r.worker.pool.find(first)!.costUsd, 0.002);
    }));

  test("with every provider down readiness fails, naming each one's reason", () =>
    withProviders(async (r) => {
      r.plan.control.setFault("all", { error: "ERROR_KEY_DOES_NOT_EXIST" });
      r.paid.control.setFault("all", { error: "ERROR_KEY_DOES_NOT_EXIST" });
      await post(r);
      await advance(r.clock, 2000);
      await eventually(() => r.worker.view.evaluate().issues.length === 2, "both down");
      const state = await ready(r);
      assert.equal(state.status, 503);
      assert.deepEqual(state.body.issues.sort(), ["provider_down=paid:upstream_auth=ERROR_KEY_DOES_NOT_EXIST", "provider_down=plan:upstream_auth=ERROR_KEY_DOES_NOT_EXIST"]);
      const text = await metrics(r);
      assert.equal(sample(text, 'captcha_worker_provider_up{provider="plan"}'), 0);
      assert.equal(sample(text, 'captcha_worker_provider_up{provider="paid"}'), 0);
    }));

  test("a daily budget reached stops the paid provider: the burst waits for the plan, and the budget survives in the worker", () =>
    withProviders(async (r) => {
      const ids = await Promise.all(Array.from({ length: 4 }, () => post(r)));
      await advance(r.clock, 5000);
      await eventually(() => r.paid.counts().submitted === 1, "one paid solve fits the budget");
      await advance(r.clock, 3000);
      await eventually(() => r.worker.pool.provider("paid")!.budgetLeftUsd === 0, "spent");
      assert.equal(r.paid.counts().submitted, 1);
      assert.ok(r.worker.view.evaluate().warnings.some((w) => w.kind === "provider_down" && w.provider === "paid" && w.reason === "budget"));
      const spent = await metrics(r);
      assert.equal(sample(spent, 'captcha_worker_provider_budget_remaining_usd{provider="paid"}'), 0);
      assert.equal(sample(spent, 'captcha_worker_provider_up{provider="paid"}'), 0, "a spent budget takes no work");
      assert.equal(sample(spent, 'captcha_worker_provider_up{provider="plan"}'), 1);
      await advance(r.clock, 60_000);
      await eventually(() => ids.every((id) => r.worker.pool.find(id)?.status === "solved"), "all solved by the plan meanwhile");
    }, { paidBudget: 0.002 }));

  test("the plan answering that it does not take GeeTest: the task is solved by the next provider at once, nothing is charged, readiness stays 200 and /v1/tasks keeps taking GeeTest", () =>
    withProviders(async (r) => {
      r.plan.control.setUnsupported(["geetest"]);
      const geetest = { type: "geetest", gt: "f".repeat(32), challenge: "c".repeat(32), pageurl: "https://example.com/login" };
      const postGeetest = async () => {
        const res = await fetch(`${r.base}/v1/tasks`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(geetest) });
        assert.equal(res.status, 202, await res.clone().text());
        return ((await res.json()) as { id: string }).id;
      };
      const first = await postGeetest();
      await eventually(() => r.paid.counts().submitted === 1, "the paid provider at once");
      assert.equal(r.plan.counts().unsupportedRefusals, 1);
      const second = await postGeetest();
      await eventually(() => r.paid.counts().submitted === 2, "straight to the paid provider");
      assert.equal(r.plan.counts().unsupportedRefusals, 1, "the plan is not asked again for a while");
      await advance(r.clock, 5000);
      await eventually(() => [first, second].every((id) => r.worker.pool.find(id)?.status === "solved"), "both solved");
      assert.equal((await ready(r)).status, 200);
      assert.equal(r.worker.view.evaluate().warnings.length, 0, "a type refused is no provider trouble");
      const text = await metrics(r);
      assert.equal(sample(text, 'captcha_worker_provider_tasks_total{provider="paid",type="geetest",outcome="solved"}'), 2);
    }));

  test("the plan refusing connections: new work goes to the next provider at once; readiness stays 200 with a provider_down warning", () =>
    withProviders(async (r) => {
      await r.plan.close(); // its port now refuses connections
      const ids = [await post(r), await post(r)];
      await eventually(() => r.paid.counts().submitted === 2, "both at the paid provider, without waiting its after");
      await r.worker.checks.refresh("plan_api");
      await eventually(() => r.worker.view.evaluate().warnings.some((w) => w.kind === "provider_down" && w.provider === "plan"), "the plan down");
      assert.equal((await ready(r)).status, 200);
      await advance(r.clock, 5000);
      await eventually(() => ids.every((id) => r.worker.pool.find(id)?.status === "solved"), "solved at the paid provider");
      assert.ok(ids.every((id) => r.worker.pool.find(id)!.provider === "paid"));
    }));

  test("the plan hanging: tasks sent to it within its detection time fail SUBMIT_UNCERTAIN and are never sent again; new work goes to the next provider within that time; readiness stays 200", () =>
    withProviders(async (r) => {
      r.plan.control.setFault("all", { hang: true });
      const ids = [await post(r), await post(r)];
      await eventually(() => (r.plan.counts().requests["in.php"] ?? 0) === 2, "both submits out to the plan");
      const statuses: number[] = [];
      let movedAt: number | undefined;
      let planSubmitsAtDetection: number | undefined;
      const t0 = r.clock.now();
      for (let s = 0; s < 14; s++) {
        ids.push(await post(r));
        await advance(r.clock, 1000);
        statuses.push((await ready(r)).status);
        if (movedAt === undefined && r.paid.counts().submitted > 0) movedAt = r.clock.now() - t0;
        // The first submit times out at 5 s (--check-timeout), the balance check it starts at 10 s: unreachable.
        if (r.clock.now() - t0 === 11_000) planSubmitsAtDetection = r.plan.counts().requests["in.php"];
      }
      await advance(r.clock, 10_000);
      await eventually(() => ids.every((id) => ["solved", "failed"].includes(r.worker.pool.find(id)!.status)), "every task ended");
      const tasks = ids.map((id) => r.worker.pool.find(id)!);
      const uncertain = tasks.filter((t) => t.status === "failed");
      assert.ok(uncertain.every((t) => t.error?.code === "SUBMIT_UNCERTAIN" && t.provider === "plan"), "what failed is what the plan may have taken");
      assert.equal(r.plan.counts().requests["in.php"], uncertain.length, "each sent to the plan once, never again");
      assert.equal(r.paid.counts().submitted, tasks.length - uncertain.length, "every other task solved at the paid provider, once");
      assert.ok(tasks.filter((t) => t.status === "solved").every((t) => t.provider === "paid"));
      assert.ok(movedAt !== undefined && movedAt <= 7000, `new work at the paid provider after ${movedAt} ms`);
      assert.equal(r.plan.counts().requests["in.php"], planSubmitsAtDetection, "nothing sent to the plan once its check finds it unreachable");
      assert.ok(statuses.every((st) => st === 200), `readiness: ${statuses.join(",")}`);
    }));

  test("a budget reached and the plan full: overflow stops and backpressure is honest, a 429 with Retry-After once the queue is full", () =>
    withProviders(async (r) => {
      const posted: number[] = [];
      let retryAfter: string | null = null;
      for (let i = 0; i < 8; i++) {
        const res = await fetch(`${r.base}/v1/tasks`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ type: "image", image: PNG }) });
        posted.push(res.status);
        if (res.status === 429) retryAfter = res.headers.get("retry-after");
        await res.body?.cancel();
      }
      await advance(r.clock, 5000);
      await eventually(() => r.paid.counts().submitted === 1, "one paid solve fits the budget");
      assert.deepEqual(posted, [202, 202, 202, 202, 202, 429, 429, 429], "two at the plan, three queued (--queue-max 3), then refused");
      assert.ok(retryAfter !== null && Number(retryAfter) >= 1, `Retry-After ${retryAfter}`);
      await advance(r.clock, 3000);
      assert.equal(r.paid.counts().submitted, 1, "no overflow past the budget");
    }, { paidBudget: 0.002, flags: { "queue-max": "3" } }));

  test("through the gateway: getTaskResult's cost and get2's price are the paid provider's, 0 for the plan's; getbalance answers the first provider's balance", () =>
    withProviders(async (r) => {
      r.plan.control.setBalance(42);
      r.paid.control.setBalance(3);
      await r.worker.checks.refresh("plan_api");
      const create = async () => {
        const res = await fetch(`${r.base}/createTask`, { method: "POST", body: JSON.stringify({ clientKey: CLIENT_KEY, task: { type: "ImageToTextTask", body: PNG } }) });
        return ((await res.json()) as { taskId: number }).taskId;
      };
      const onPlan = await create();
      await eventually(() => r.plan.counts().submitted === 1, "the plan takes the first");
      r.plan.control.setFault("in.php", { error: "ERROR_KEY_DOES_NOT_EXIST" });
      const onPaid = await create();
      await eventually(() => r.paid.counts().submitted === 1, "the paid provider the next");
      await advance(r.clock, 25_000);
      const result = async (taskId: number) =>
        (await (await fetch(`${r.base}/getTaskResult`, { method: "POST", body: JSON.stringify({ clientKey: CLIENT_KEY, taskId }) })).json()) as { status: string; cost: string };
      await eventually(() => [onPaid, onPlan].every((id) => r.worker.pool.find(String(id))?.status === "solved"), "both solved");
      assert.equal((await result(onPaid)).cost, "0.002", "2captcha-priced $2 per 1000");
      assert.equal((await result(onPlan)).cost, "0", "a thread plan's solve costs nothing more");
      const get2 = (await (await fetch(`${r.base}/res.php?key=${CLIENT_KEY}&action=get2&id=${onPaid}&json=1`)).json()) as { price: string };
      assert.equal(get2.price, "0.002");
      const balance = await (await fetch(`${r.base}/res.php?key=${CLIENT_KEY}&action=getbalance`)).text();
      assert.equal(balance, "42", "the first provider's balance");
    }, { flags: { "client-keys-file": keysFile() } }));

  test("a JSON-API (v2, anti-captcha) provider behind the plan: GeeTest goes there in its dialect when the plan refuses its key, is charged the cost its answer reports, and its report is anti-captcha's", async () => {
    const clock = new FakeClock();
    const log = createLogger({ level: "warn", write: () => {}, secrets: [PLAN_KEY, PAID_KEY] });
    const plan = await startSimulator({ host: "127.0.0.1", port: 0 }, { keys: [PLAN_KEY], clock, seed: 1, threads: 2 });
    const up = await startScriptedUpstream();
    const anti = scriptedV2("anticaptcha", clock, { key: PAID_KEY, solveMs: 3000, balance: 7 });
    up.answer(anti.handler);
    const { config } = parseConfig({ listen: "127.0.0.1:0", "first-poll": "1s", "poll-interval": "1s" }, {});
    const providers = [
      spec("plan", plan.url, PLAN_KEY, { threads: 2 }),
      spec("anti", up.url, PAID_KEY, { protocol: "v2", dialect: "anticaptcha", price: 2 } as Partial<ProviderSpec>),
    ];
    const worker = await startWorker({ process: testProcess, config, apiKey: PLAN_KEY, providers, clock, log, random: () => 0.5 });
    try {
      await eventually(() => worker.view.phase !== "starting", "startup");
      const base = `http://127.0.0.1:${worker.address.port}`;
      plan.control.setFault("in.php", { error: "ERROR_KEY_DOES_NOT_EXIST" });
      const geetest = { type: "geetest", gt: "f".repeat(32), challenge: "c".repeat(32), pageurl: "https://example.com/login" };
      const res = await fetch(`${base}/v1/tasks`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(geetest) });
      assert.equal(res.status, 202);
      const { id } = (await res.json()) as { id: string };
      await eventually(() => anti.tasks.size === 1, "createTask at anti-captcha");
      const sent = [...anti.tasks.values()][0]!.task;
      assert.equal(sent.type, "GeeTestTaskProxyless");
      assert.equal(sent.gt, "f".repeat(32));
      await advance(clock, 5000);
      await eventually(() => worker.pool.find(id)?.status === "solved", "solved at anti-captcha");
      const task = worker.pool.find(id)!;
      assert.equal(task.provider, "anti");
      assert.equal(task.costUsd, 0.00299, "the cost the answer reports, not the file's price");
      const read = (await (await fetch(`${base}/v1/tasks/${id}`)).json()) as { provider?: string; solution?: Record<string, string> };
      assert.equal(read.provider, "anti");
      assert.equal(read.solution?.geetest_seccode ?? read.solution?.seccode, "va-1|jordan");
      // anti-captcha has no report for GeeTest: answered, nothing sent; an image's goes as reportIncorrectImageCaptcha.
      const reportOf = (taskId: string) => fetch(`${base}/v1/tasks/${taskId}/report`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ correct: false }) });
      assert.equal((await reportOf(id)).status, 200);
      assert.equal(anti.reports.length, 0);
      const image = await fetch(`${base}/v1/tasks`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ type: "image", image: PNG }) });
      const imageId = ((await image.json()) as { id: string }).id;
      await eventually(() => anti.tasks.size === 2, "the image at anti-captcha");
      await advance(clock, 5000);
      await eventually(() => worker.pool.find(imageId)?.status === "solved", "the image solved");
      assert.equal((await reportOf(imageId)).status, 200);
      assert.deepEqual(anti.reports.map(([method]) => method), ["reportIncorrectImageCaptcha"]);
      assert.equal(plan.counts().submitted, 0);
      const deps = (await (await fetch(`${base}/health/dependencies`)).json()) as { checks: Record<string, { status: string }> };
      assert.equal(deps.checks.anti_api?.status, "ok");
      assert.equal(worker.checks.result("anti_api")?.value?.observedValue, 7, "getBalance in the JSON API");
      assert.ok(up.requests.every((r) => !r.url.includes(PAID_KEY)), "the key only in bodies");
    } finally {
      await worker.close();
      await plan.close();
      await up.close();
    }
  });
});
