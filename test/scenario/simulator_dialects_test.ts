/**
 * The simulator in each dialect (docs/simulator.md), spoken to by the worker's own provider clients
 * (createProviderClient) over real HTTP: every type the dialect takes is submitted, polled and
 * solved into the family's solution; the others are refused as not supported, charged to nobody;
 * the balance falls by the dialect's price per solve, and /__sim/counts' spentUsd equals the solves
 * it counts times those prices; a bad key, capacity, an empty balance and a type switched off are
 * answered with the dialect's codes, which the client classifies as the worker expects.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { ProviderApi } from "../../src/config/providers.ts";
import { SIM_DIALECT_SPECS, type SimDialect } from "../../src/sim/sim_dialects.ts";
import { startSimulator, type Simulator, type SimulatorOptions } from "../../src/sim/simulator.ts";
import { catalogueEntry, type TaskParams } from "../../src/tasks/task_catalogue.ts";
import { v2TaskFor } from "../../src/tasks/task_dialects.ts";
import { TaskProxy } from "../../src/tasks/task_proxy.ts";
import type { Outcome } from "../../src/upstream/outcome.ts";
import { createProviderClient, type ProviderClient } from "../../src/upstream/provider_client.ts";
import { costUsdOf } from "../../src/upstream/v2_client.ts";
import { FakeClock } from "../_support/fake_clock.ts";
import { PNG_B64 } from "../_support/images.ts";

const KEY = "0123456789abcdef0123456789abcdef";
const OTHER_KEY = "fedcba9876543210fedcba9876543210";
const PAGE = "https://example.com/login";
const SOLVE = { image: 1000, token: 5000 };
const proxy = () => TaskProxy.parse("alice:pr0xy-pa55@10.1.2.3:8080", "HTTP") as TaskProxy;

/** One task of each type (several of some: Enterprise, a proxy, Turnstile's data), with a proxy where the type needs one. */
const TASKS: TaskParams[] = [
  { type: "image", image: PNG_B64, numeric: 1 },
  { type: "grid", image: PNG_B64, textinstructions: "cars", rows: 3, cols: 3 },
  { type: "bls", instructions: "664", images: Array(9).fill(PNG_B64) },
  { type: "recaptcha_v2", sitekey: "6Le-sitekey-abc", pageurl: PAGE },
  { type: "recaptcha_v2", sitekey: "6Le-sitekey-abc", pageurl: PAGE, enterprise: true, data_s: "s-value" },
  { type: "recaptcha_v2", sitekey: "6Le-sitekey-abc", pageurl: PAGE, proxy: proxy(), useragent: "UA/1.0" },
  { type: "recaptcha_v3", sitekey: "6Le-sitekey-abc", pageurl: PAGE, action: "login", min_score: 0.3 },
  { type: "turnstile", sitekey: "0x4AAAAAAAexample", pageurl: PAGE, action: "a", data: "d" },
  { type: "turnstile", sitekey: "0x4AAAAAAAexample", pageurl: PAGE, proxy: proxy() },
  { type: "cloudflare_challenge", pageurl: PAGE, proxy: proxy() },
  { type: "geetest", gt: "81388ea1fc187e0c335c0a8907ff2625", challenge: "12345678abc90123d45678ef90123a456b", pageurl: PAGE },
  { type: "geetest_v4", captcha_id: "e392e1d7fd421dc63325744d5a2b9c73", pageurl: PAGE },
  { type: "captchafox", sitekey: "sk-captchafox-1", pageurl: PAGE, proxy: proxy() },
  { type: "friendly_captcha", sitekey: "FCMST5VUMCBOCGQ9", pageurl: PAGE },
  { type: "lemin", captcha_id: "CROPPED_3dfdd5c_d1872b526b794d83ba3b365eb15a200b", div_id: "lemin-cropped-captcha", pageurl: PAGE },
];

/** Each simulator dialect and the provider the worker would configure for it. */
const CASES: { sim: SimDialect; api: ProviderApi }[] = [
  { sim: "captchaai", api: { protocol: "legacy", dialect: "captchaai" } },
  { sim: "2captcha", api: { protocol: "legacy", dialect: "2captcha" } },
  { sim: "anticaptcha", api: { protocol: "v2", dialect: "anticaptcha" } },
  { sim: "capsolver", api: { protocol: "v2", dialect: "capsolver" } },
];

/** Whether the provider takes the task: every legacy method but 2captcha's missing two; on the JSON APIs what the dialect names. */
function takes(c: (typeof CASES)[number], t: TaskParams): boolean {
  if (c.api.protocol === "v2") return v2TaskFor(t, c.api.dialect) !== undefined;
  return !SIM_DIALECT_SPECS[c.sim].notServed.includes(t.type);
}

const kindCode = (r: Outcome<unknown>) => [r.kind, (r as { code?: string }).code];
const valueOf = <T>(r: Outcome<T>): T => {
  assert.equal(r.kind, "ok", JSON.stringify(r));
  return (r as { value: T }).value;
};
const round6 = (n: number) => Math.round(n * 1e6) / 1e6;

for (const c of CASES) {
  describe(`simulate --dialect ${c.sim}, spoken to by the worker's ${c.api.protocol} client (${c.api.dialect})`, () => {
    const clock = new FakeClock();
    const opened: { sim: Simulator; client: ProviderClient }[] = [];
    const start = async (o: Partial<SimulatorOptions> = {}, key = KEY) => {
      const sim = await startSimulator({ host: "127.0.0.1", port: 0 }, { dialect: c.sim, keys: [KEY], clock, seed: 7, solveTimeMs: SOLVE, ...o });
      const client = createProviderClient({ ...c.api, url: sim.url, key }, { clock });
      opened.push({ sim, client });
      return { sim, client };
    };
    let main: { sim: Simulator; client: ProviderClient };
    before(async () => void (main = await start()));
    after(async () => {
      for (const { sim, client } of opened) {
        client.close();
        await sim.close();
      }
    });

    test("every type it takes is submitted, not ready until its solve time, then solved into the family's solution; the balance and spentUsd follow its prices", async () => {
      const { sim, client } = main;
      const prices = sim.control.state().pricesUsd;
      const want = SIM_DIALECT_SPECS[c.sim].pricePer1000Usd;
      assert.deepEqual(prices, { image: want.image / 1000, token: want.token / 1000 }, "the dialect's documented prices");
      const startBalance = valueOf(await client.balance());
      let taken = 0;
      for (const params of TASKS) {
        const label = `${params.type}${params.proxy ? " with a proxy" : ""}`;
        const submitted = await client.submit(params);
        if (!takes(c, params)) {
          // 2captcha answers ERROR_METHOD_CALL; a JSON-API client sends nothing for a type its dialect does not name.
          const code = c.api.protocol === "legacy" ? "ERROR_METHOD_CALL" : "ERROR_TASK_NOT_SUPPORTED";
          assert.deepEqual([...kindCode(submitted), (submitted as { blame?: string }).blame], ["task_failed", code, "nobody"], label);
          continue;
        }
        taken++;
        const id = valueOf(submitted);
        const atOnce = c.sim === "capsolver" && params.type === "image";
        if (!atOnce) assert.equal((await client.poll(id)).kind, "not_ready", label);
        await clock.advance(SOLVE.token);
        const answer = valueOf(await client.poll(id));
        const solution = catalogueEntry(params.type)!.solution.parse(answer.request, answer.fields);
        assert.ok(solution !== undefined, `${label}: ${JSON.stringify(answer)}`);
        if (/^(?:turnstile|captchafox|cloudflare_challenge)$/.test(params.type)) assert.ok(solution.useragent, `${label}: the user agent it was solved with`);
        const kind = catalogueEntry(params.type)!.kind;
        assert.equal(costUsdOf(answer), c.sim === "anticaptcha" ? prices[kind] : undefined, `${label}: anti-captcha's cost`);
      }
      const counts = sim.counts();
      assert.equal(counts.submitted, taken);
      assert.equal(counts.charged.image + counts.charged.token, taken, "each solve charged once");
      assert.equal(counts.spentUsd, round6(counts.charged.image * prices.image + counts.charged.token * prices.token), "spend = the provider's own counts times its prices");
      assert.equal(valueOf(await client.balance()), round6(startBalance - counts.spentUsd), "the balance fell by the spend");
      // CaptchaAI every one; 2captcha all but BLS and the Challenge; the JSON APIs what their dialect tables name (docs/providers.md).
      assert.equal(taken, { captchaai: 15, "2captcha": 13, anticaptcha: 10, capsolver: 9 }[c.sim], `${c.sim} takes ${taken} of the ${TASKS.length} tasks`);
    });

    test("reports reach the dialect's report method and are recorded", async () => {
      const { sim, client } = main;
      const id = valueOf(await client.submit(TASKS[0]!));
      await clock.advance(SOLVE.image);
      valueOf(await client.poll(id));
      const before = sim.counts().requests["res.php:report"] ?? 0;
      assert.deepEqual(await client.report(id, false), { kind: "ok", value: "OK_REPORT_RECORDED" });
      assert.equal(sim.counts().requests["res.php:report"], before + 1);
    });

    test("a key it does not know is refused with the dialect's code, which stops the provider (fatal_account)", async () => {
      const { client } = await start({}, OTHER_KEY);
      const code = { captchaai: "ERROR_KEY_DOES_NOT_EXIST", "2captcha": "ERROR_KEY_DOES_NOT_EXIST", anticaptcha: "ERROR_KEY_DOES_NOT_EXIST", capsolver: "ERROR_KEY_DENIED_ACCESS" }[c.sim];
      assert.deepEqual(kindCode(await client.balance()), ["fatal_account", code]);
      assert.deepEqual(kindCode(await client.submit(TASKS[0]!)), ["fatal_account", code]);
    });

    test("past --threads unsolved tasks the dialect's capacity code, which pauses the provider (back_off); by default a cap only on CaptchaAI's plan", async () => {
      const capped = await start({ threads: 1 });
      valueOf(await capped.client.submit(TASKS[3]!));
      const code = c.sim === "captchaai" ? "ERROR_ZERO_BALANCE" : "ERROR_NO_SLOT_AVAILABLE";
      assert.deepEqual(kindCode(await capped.client.submit(TASKS[3]!)), ["back_off", code]);
      assert.equal(capped.sim.counts().capacityRefusals, 1);
      const plain = await start({ balanceUsd: 100 });
      const results = [];
      for (let i = 0; i < 51; i++) results.push((await plain.client.submit(TASKS[3]!)).kind);
      assert.equal(plain.sim.control.state().threads, c.sim === "captchaai" ? 50 : null);
      assert.deepEqual(results.filter((k) => k !== "ok").length, c.sim === "captchaai" ? 1 : 0, "CaptchaAI's 51st of 50 threads; no cap per solve");
    });

    test("a balance that cannot pay the task's price is ERROR_ZERO_BALANCE (back_off); one that can is taken", async () => {
      const { sim, client } = await start();
      const prices = sim.control.state().pricesUsd;
      if (c.sim === "captchaai") {
        // CaptchaAI's plan: refused only at zero, as the simulator always did.
        sim.control.setBalance(0);
        assert.deepEqual(kindCode(await client.submit(TASKS[0]!)), ["back_off", "ERROR_ZERO_BALANCE"]);
        return;
      }
      const cheap = prices.image < prices.token;
      sim.control.setBalance(cheap ? prices.image : round6(prices.token - 0.0001));
      assert.deepEqual(kindCode(await client.submit(TASKS[3]!)), ["back_off", "ERROR_ZERO_BALANCE"], "a token");
      if (cheap) valueOf(await client.submit(TASKS[0]!));
    });

    test("a type switched off by the control API is answered the dialect's not-supported code, which the client reads as not supported, charged to nobody", async () => {
      const { sim, client } = await start();
      sim.control.setUnsupported(["turnstile"]);
      const r = await client.submit(TASKS[7]!);
      const code = c.api.protocol === "legacy" ? "ERROR_METHOD_CALL" : "ERROR_TASK_NOT_SUPPORTED";
      assert.deepEqual([...kindCode(r), (r as { blame?: string }).blame], ["task_failed", code, "nobody"]);
      assert.equal(sim.counts().unsupportedRefusals, 1);
      valueOf(await client.submit(TASKS[3]!));
    });

    test("a task answered unsolvable fails ERROR_CAPTCHA_UNSOLVABLE, charged only where the service charges it (anti-captcha)", async () => {
      const { sim, client } = await start();
      sim.control.setUnsolvableRatio(1);
      const id = valueOf(await client.submit(TASKS[3]!));
      await clock.advance(SOLVE.token);
      assert.deepEqual(kindCode(await client.poll(id)), ["task_failed", "ERROR_CAPTCHA_UNSOLVABLE"]);
      assert.deepEqual(sim.counts().charged, { image: 0, token: c.sim === "anticaptcha" ? 1 : 0 });
    });

    test("a fault's error is answered in the dialect's form, under the in.php role; reset forgets the spend", async () => {
      const { sim, client } = await start();
      sim.control.setFault("in.php", { error: "ERROR_NO_SLOT_AVAILABLE" });
      assert.deepEqual(kindCode(await client.submit(TASKS[0]!)), ["back_off", "ERROR_NO_SLOT_AVAILABLE"]);
      sim.control.clearFaults();
      const id = valueOf(await client.submit(TASKS[0]!));
      await clock.advance(SOLVE.image);
      valueOf(await client.poll(id));
      assert.ok(sim.counts().spentUsd > 0);
      sim.control.reset();
      assert.deepEqual([sim.counts().spentUsd, sim.counts().charged], [0, { image: 0, token: 0 }]);
    });
  });
}

describe("the dialects' own answers, as the services document them", () => {
  const clock = new FakeClock();
  const sims: Simulator[] = [];
  const start = async (dialect: SimDialect) => {
    const sim = await startSimulator({ host: "127.0.0.1", port: 0 }, { dialect, keys: [KEY], clock, seed: 3, solveTimeMs: SOLVE });
    sims.push(sim);
    return sim;
  };
  after(async () => {
    for (const sim of sims) await sim.close();
  });
  const post = async (sim: Simulator, method: string, body: Record<string, unknown>) => {
    const res = await fetch(new URL(method, sim.url), { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ clientKey: KEY, ...body }) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const legacy = async (sim: Simulator, path: string, fields: Record<string, string>) =>
    (await fetch(new URL(path, sim.url), { method: "POST", body: new URLSearchParams({ key: KEY, ...fields }) })).text();

  test("2captcha: res.php?action=get2 answers the price beside the solution; CaptchaAI has no get2", async () => {
    const two = await start("2captcha");
    const id = (await legacy(two, "in.php", { method: "userrecaptcha", googlekey: "6Le-sitekey-abc", pageurl: PAGE })).slice(3);
    await clock.advance(SOLVE.token);
    assert.match(await legacy(two, "res.php", { action: "get2", id }), /^OK\|03AFcWeA[\w-]+\|0\.00299$/);
    const json = JSON.parse(await legacy(two, "res.php", { action: "get2", id, json: "1" })) as Record<string, unknown>;
    assert.deepEqual([json.status, json.price], [1, "0.00299"]);
    assert.equal(two.counts().charged.token, 1, "charged once");
    assert.equal(await legacy(two, "in.php", { method: "bls", instructions: "664" }), "ERROR_METHOD_CALL");
    const ai = await start("captchaai");
    assert.equal(await legacy(ai, "res.php", { action: "get2", id: "1" }), "ERROR_BAD_PARAMETERS");
  });

  test("anti-captcha: refusals with its errorId and HTTP 200; a type it does not name is ERROR_TASK_NOT_SUPPORTED; numeric task ids", async () => {
    const sim = await start("anticaptcha");
    assert.deepEqual(await post(sim, "createTask", { task: { type: "AntiTurnstileTaskProxyLess", websiteURL: PAGE, websiteKey: "0x4AAAAAAAexample" } }), {
      status: 200, body: { errorId: 23, errorCode: "ERROR_TASK_NOT_SUPPORTED", errorDescription: "This task type is not supported." },
    });
    assert.deepEqual((await post(sim, "getTaskResult", { taskId: 12345 })).body.errorCode, "ERROR_NO_SUCH_CAPCHA_ID");
    const created = await post(sim, "createTask", { task: { type: "RecaptchaV2TaskProxyless", websiteURL: PAGE, websiteKey: "6Le-sitekey-abc" } });
    assert.equal(typeof created.body.taskId, "number");
    const bad = await post(sim, "createTask", { task: { type: "RecaptchaV2Task", websiteURL: PAGE, websiteKey: "6Le-sitekey-abc", proxyType: "http", proxyAddress: "10.1.2.3", proxyPort: 8080 } });
    assert.deepEqual([bad.status, bad.body.errorCode], [200, "ERROR_INCORRECT_SESSION_DATA"], "its proxied reCAPTCHA needs the userAgent");
  });

  test("CapSolver: HTTP 400 and 401 refusals with errorId 1, its words for a misnamed type, idle then processing, at-once images, UUID ids, the task recorded in its names", async () => {
    const sim = await start("capsolver");
    const misnamed = await post(sim, "createTask", { task: { type: "TurnstileTaskProxyLess", websiteURL: PAGE, websiteKey: "0x4AAAAAAAexample" } });
    assert.equal(misnamed.status, 400);
    assert.deepEqual([misnamed.body.errorId, misnamed.body.errorCode], [1, "ERROR_INVALID_TASK_DATA"]);
    assert.match(String(misnamed.body.errorDescription), /unsupported captcha type.*TurnstileTaskProxyLess/);
    const denied = await fetch(new URL("getBalance", sim.url), { method: "POST", body: JSON.stringify({ clientKey: OTHER_KEY }) });
    assert.deepEqual([denied.status, ((await denied.json()) as Record<string, unknown>).errorCode], [401, "ERROR_KEY_DENIED_ACCESS"]);
    const turnstile = await post(sim, "createTask", { task: { type: "AntiTurnstileTaskProxyLess", websiteURL: PAGE, websiteKey: "0x4AAAAAAAexample", metadata: { action: "login", cdata: "c-data" } } });
    assert.match(String(turnstile.body.taskId), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(sim.submits().at(-1)!["metadata.cdata"], "c-data");
    const status = async () => (await post(sim, "getTaskResult", { taskId: turnstile.body.taskId })).body.status;
    assert.equal(await status(), "idle");
    await clock.advance(SOLVE.token / 2);
    assert.equal(await status(), "processing");
    await clock.advance(SOLVE.token / 2);
    assert.equal(await status(), "ready");
    const image = await post(sim, "createTask", { task: { type: "ImageToTextTask", body: PNG_B64 } });
    assert.deepEqual([image.body.status, typeof (image.body.solution as Record<string, unknown>).text], ["ready", "string"]);
  });
});
