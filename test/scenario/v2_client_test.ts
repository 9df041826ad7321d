import assert from "node:assert/strict";
import { createServer as createTcpServer, type AddressInfo, type Server, type Socket } from "node:net";
import { createServer } from "node:http";
import { after, before, describe, test } from "node:test";
import type { SolverUpstream } from "../../src/solver/upstream_port.ts";
import { catalogueEntry, type TaskParams } from "../../src/tasks/task_catalogue.ts";
import { DIALECTS, v2TaskFor, type Dialect } from "../../src/tasks/task_dialects.ts";
import { TaskProxy } from "../../src/tasks/task_proxy.ts";
import type { Outcome } from "../../src/upstream/outcome.ts";
import { createProviderClient } from "../../src/upstream/provider_client.ts";
import { costUsdOf, createV2Client, type V2Client } from "../../src/upstream/v2_client.ts";
import { FakeClock, settle } from "../_support/fake_clock.ts";
import { scriptedV2, type ScriptedV2 } from "../_support/scripted_v2.ts";
import { startScriptedUpstream, type ScriptedUpstream } from "../_support/scripted_upstream.ts";

const KEY = "f0e1d2c3b4a5968778695a4b3c2d1e0f";
const IMG = Buffer.alloc(300, 7).toString("base64");
const URL_ = "https://example.com/login";
const proxy = () => TaskProxy.parse("alice:pr0xy-pa55@10.1.2.3:8080", "HTTP") as TaskProxy;

/** One task of each type, with a proxy where the type needs one. */
const TASKS: TaskParams[] = [
  { type: "image", image: IMG, numeric: 1 },
  { type: "grid", image: IMG, textinstructions: "cars", rows: 3, cols: 3 },
  { type: "bls", instructions: "664", images: Array(9).fill(IMG) },
  { type: "recaptcha_v2", sitekey: "6Le-sitekey-abc", pageurl: URL_ },
  { type: "recaptcha_v3", sitekey: "6Le-sitekey-abc", pageurl: URL_, action: "login", min_score: 0.3 },
  { type: "turnstile", sitekey: "0x4AAAAAAA", pageurl: URL_ },
  { type: "cloudflare_challenge", pageurl: URL_, proxy: proxy() },
  { type: "geetest", gt: "gt-key-1", challenge: "challenge-1", pageurl: URL_ },
  { type: "geetest_v4", captcha_id: "cid-1", pageurl: URL_ },
  { type: "captchafox", sitekey: "sk-12345678", pageurl: URL_, proxy: proxy() },
  { type: "friendly_captcha", sitekey: "FCMDESUD3M34857N", pageurl: URL_ },
  { type: "lemin", captcha_id: "CROPPED_abc", div_id: "lemin-cropped-captcha", pageurl: URL_ },
];

const kindCode = (r: Outcome<unknown>) => [r.kind, (r as { code?: string }).code];
const valueOf = <T>(r: Outcome<T>): T => {
  assert.equal(r.kind, "ok", JSON.stringify(r));
  return (r as { value: T }).value;
};

for (const dialect of DIALECTS) {
  describe(`JSON-API client, ${dialect} dialect`, () => {
    let up: ScriptedUpstream;
    let provider: ScriptedV2;
    const clock = new FakeClock();
    const calls: string[] = [];
    let client: V2Client;
    before(async () => {
      up = await startScriptedUpstream();
      provider = scriptedV2(dialect, clock, { key: KEY, solveMs: 10_000 });
      up.answer(provider.handler);
      client = createV2Client({ baseUrl: up.url, dialect, apiKey: KEY, clock, onCall: (e, k, _ms, m) => calls.push(`${m}:${e}:${k}`) });
    });
    after(async () => {
      client.close();
      await up.close();
    });

    test("POSTs JSON to createTask with the key only in the body, the dialect's task in it", async () => {
      const params: TaskParams = { type: "recaptcha_v2", sitekey: "6Le-sitekey-abc", pageurl: URL_, invisible: true };
      valueOf(await client.submit(params));
      const req = up.requests.at(-1)!;
      assert.equal(req.method, "POST");
      assert.equal(req.url, "/createTask");
      assert.equal(req.headers["content-type"], "application/json");
      assert.deepEqual(JSON.parse(req.body), { clientKey: KEY, task: v2TaskFor(params, dialect) });
      assert.equal(calls.at(-1), "createTask:in.php:ok");
    });

    test("every type the dialect takes: submitted, not ready until solved, then read as the family's solution", async () => {
      let taken = 0;
      for (const params of TASKS) {
        const submitted = await client.submit(params);
        if (v2TaskFor(params, dialect) === undefined) {
          assert.deepEqual([...kindCode(submitted), (submitted as { blame?: string }).blame], ["task_failed", "ERROR_TASK_NOT_SUPPORTED", "nobody"], params.type);
          continue;
        }
        taken++;
        const id = valueOf(submitted);
        const early = dialect === "capsolver" && params.type === "image";
        if (!early) assert.equal((await client.poll(id)).kind, "not_ready", params.type);
        await clock.advance(10_000);
        const sent = up.requests.length;
        const answer = valueOf(await client.poll(id));
        // CapSolver's ImageToTextTask came solved in createTask's answer: the poll asks nothing.
        assert.equal(up.requests.length - sent, early ? 0 : 1, params.type);
        const solution = catalogueEntry(params.type)!.solution.parse(answer.request, answer.fields);
        assert.ok(solution !== undefined, `${params.type}: ${JSON.stringify(answer)}`);
        if (/^(?:turnstile|captchafox|cloudflare_challenge)$/.test(params.type)) assert.equal(solution.useragent, "UA/sim", params.type);
        const cost = costUsdOf(answer);
        assert.equal(cost, dialect === "2captcha" || dialect === "anticaptcha" ? 0.00299 : undefined, params.type);
      }
      assert.ok(taken >= 2, `${dialect} takes ${taken} types`);
    });

    test("a task the dialect does not take is refused here, charged to nobody, with nothing sent", async () => {
      const before = up.requests.length;
      const lacking = TASKS.find((t) => v2TaskFor(t, dialect) === undefined)!;
      const r = await client.submit(lacking);
      assert.deepEqual([...kindCode(r), (r as { blame?: string }).blame], ["task_failed", "ERROR_TASK_NOT_SUPPORTED", "nobody"]);
      assert.equal(up.requests.length, before);
    });

    test("reads the balance in USD", async () => {
      assert.deepEqual(await client.balance(), { kind: "ok", value: 12.5 });
      assert.deepEqual(JSON.parse(up.requests.at(-1)!.body), { clientKey: KEY });
      assert.equal(up.requests.at(-1)!.url, "/getBalance");
    });

    test("reports in the dialect's methods, or answers REPORT_NOT_SUPPORTED and sends nothing", async () => {
      const image = valueOf(await client.submit({ type: "image", image: IMG }));
      const token = valueOf(await client.submit({ type: "recaptcha_v2", sitekey: "6Le-sitekey-abc", pageurl: URL_ }));
      const before = provider.reports.length;
      const results = [await client.report(image, false), await client.report(token, false), await client.report(token, true)].map((r) => valueOf(r));
      const sent = provider.reports.slice(before).map(([m, b]) => [m, b]);
      const wire = (id: string) => (/^\d+$/.test(id) ? Number(id) : id);
      const want: Record<Dialect, [string[], [string, Record<string, unknown>][]]> = {
        anticaptcha: [["OK_REPORT_RECORDED", "OK_REPORT_RECORDED", "OK_REPORT_RECORDED"], [
          ["reportIncorrectImageCaptcha", { clientKey: KEY, taskId: wire(image) }],
          ["reportIncorrectRecaptcha", { clientKey: KEY, taskId: wire(token) }],
          ["reportCorrectRecaptcha", { clientKey: KEY, taskId: wire(token) }],
        ]],
        "2captcha": [["OK_REPORT_RECORDED", "OK_REPORT_RECORDED", "OK_REPORT_RECORDED"], [
          ["reportIncorrect", { clientKey: KEY, taskId: wire(image) }],
          ["reportIncorrect", { clientKey: KEY, taskId: wire(token) }],
          ["reportCorrect", { clientKey: KEY, taskId: wire(token) }],
        ]],
        capsolver: [["OK_REPORT_RECORDED", "OK_REPORT_RECORDED", "OK_REPORT_RECORDED"], [
          ["feedbackTask", { clientKey: KEY, taskId: image, result: { invalid: true } }],
          ["feedbackTask", { clientKey: KEY, taskId: token, result: { invalid: true } }],
          ["feedbackTask", { clientKey: KEY, taskId: token, result: { invalid: false } }],
        ]],
        capmonster: [["REPORT_NOT_SUPPORTED", "REPORT_NOT_SUPPORTED", "REPORT_NOT_SUPPORTED"], []],
      };
      assert.deepEqual([results, sent], want[dialect]);
    });

    test("a wrong key is fatal_account, and the key the service echoes is redacted", async () => {
      const other = "0000111122223333444455556666777a";
      const c = createV2Client({ baseUrl: up.url, dialect, apiKey: other, clock });
      const r = await c.balance();
      assert.deepEqual(kindCode(r), ["fatal_account", dialect === "capsolver" ? "ERROR_KEY_DENIED_ACCESS" : "ERROR_KEY_DOES_NOT_EXIST"]);
      assert.ok(!(r as { message: string }).message.includes(other), (r as { message: string }).message);
      c.close();
    });

    test("a poll of an id the service does not know fails the task, charged to the worker", async () => {
      const r = await client.poll("424242");
      assert.deepEqual([...kindCode(r), (r as { blame?: string }).blame], ["task_failed", dialect === "capsolver" ? "ERROR_TASKID_INVALID" : "ERROR_NO_SUCH_CAPCHA_ID", "worker"]);
    });

    test("no request carried the key in its URL", () => {
      assert.ok(up.requests.length > 10);
      assert.ok(up.requests.every((q) => !q.url.includes(KEY) && q.method === "POST"));
    });
  });
}

describe("JSON-API client: every answer becomes its class", () => {
  let up: ScriptedUpstream;
  let provider: ScriptedV2;
  const clock = new FakeClock();
  before(async () => {
    up = await startScriptedUpstream();
    provider = scriptedV2("anticaptcha", clock, { key: KEY });
    up.answer(provider.handler);
  });
  after(() => up.close());

  const refusal = (code: string, description = "") => ({ errorId: 1, errorCode: code, errorDescription: description });
  /** [createTask's HTTP status, body, kind, code, blame or maybeDelivered] */
  const cases: [number, Record<string, unknown> | string, string, string, string | boolean | undefined][] = [
    [200, refusal("ERROR_KEY_DOES_NOT_EXIST"), "fatal_account", "ERROR_KEY_DOES_NOT_EXIST", undefined],
    [401, refusal("ERROR_KEY_DENIED_ACCESS"), "fatal_account", "ERROR_KEY_DENIED_ACCESS", undefined],
    [200, refusal("ERROR_IP_NOT_ALLOWED"), "fatal_account", "ERROR_IP_NOT_ALLOWED", undefined],
    [200, refusal("ERROR_IP_BLOCKED"), "fatal_account", "ERROR_IP_BLOCKED", undefined],
    [200, refusal("ERROR_IP_BANNED"), "fatal_account", "ERROR_IP_BANNED", undefined],
    [200, refusal("ERROR_ACCOUNT_SUSPENDED"), "fatal_account", "ERROR_ACCOUNT_SUSPENDED", undefined],
    [200, refusal("ERROR_NO_SLOT_AVAILABLE"), "back_off", "ERROR_NO_SLOT_AVAILABLE", undefined],
    [200, refusal("ERROR_ZERO_BALANCE"), "back_off", "ERROR_ZERO_BALANCE", undefined],
    [400, refusal("ERROR_RATE_LIMIT"), "back_off", "ERROR_RATE_LIMIT", undefined],
    [400, refusal("ERROR_SETTLEMENT_FAILED"), "back_off", "ERROR_SETTLEMENT_FAILED", undefined],
    [200, refusal("ERROR_TOO_MUCH_REQUESTS"), "back_off", "ERROR_TOO_MUCH_REQUESTS", undefined],
    [400, refusal("ERROR_SERVICE_UNAVALIABLE"), "transient", "ERROR_SERVICE_UNAVALIABLE", false],
    [200, refusal("ERROR_TASK_NOT_SUPPORTED"), "task_failed", "ERROR_TASK_NOT_SUPPORTED", "nobody"],
    [200, refusal("ERROR_TASK_TYPE_DEPRECATED"), "task_failed", "ERROR_TASK_TYPE_DEPRECATED", "nobody"],
    [400, refusal("ERROR_INVALID_TASK_DATA", "unsupported captcha type, please check if the type is correct: TurnstileTaskProxyLess"), "task_failed", "ERROR_TASK_NOT_SUPPORTED", "nobody"],
    [400, refusal("ERROR_INVALID_TASK_DATA", "Not found HCaptchaTaskProxyLess access. Please contact our support."), "task_failed", "ERROR_TASK_NOT_SUPPORTED", "nobody"],
    [400, refusal("ERROR_INVALID_TASK_DATA", "invalid task data: websiteKey"), "task_failed", "ERROR_INVALID_TASK_DATA", "client"],
    [200, refusal("ERROR_RECAPTCHA_INVALID_SITEKEY"), "task_failed", "ERROR_RECAPTCHA_INVALID_SITEKEY", "client"],
    [200, refusal("ERROR_BAD_PARAMETERS"), "task_failed", "ERROR_BAD_PARAMETERS", "client"],
    [200, refusal("ERROR_PROXY_CONNECT_REFUSED"), "task_failed", "ERROR_PROXY_CONNECT_REFUSED", "client"],
    [200, refusal("ERROR_PROXY_BANNED"), "task_failed", "ERROR_PROXY_BANNED", "client"],
    [200, refusal("ERROR_DOMAIN_NOT_ALLOWED"), "task_failed", "ERROR_DOMAIN_NOT_ALLOWED", "client"],
    [200, refusal("ERROR_CAPTCHA_UNSOLVABLE"), "task_failed", "ERROR_CAPTCHA_UNSOLVABLE", "worker"],
    [400, refusal("ERROR_TASK_TIMEOUT"), "task_failed", "ERROR_TASK_TIMEOUT", "worker"],
    [200, refusal("ERROR_SOMETHING_NEW"), "task_failed", "ERROR_SOMETHING_NEW", "worker"],
    [200, { errorId: 12 }, "task_failed", "ERROR_ID_12", "worker"],
    [200, { errorId: 0 }, "transient", "BAD_BODY", true],
    [200, { errorId: 0, taskId: "../x" }, "transient", "BAD_BODY", true],
    [200, "not json", "transient", "BAD_BODY", true],
    [502, "<html><body>Bad gateway</body></html>", "transient", "HTTP_502", true],
    [503, "busy", "transient", "HTTP_503", false],
    [429, "slow down", "back_off", "HTTP_429", undefined],
    [200, "<html>maintenance</html>", "transient", "HTML_BODY", true],
  ];
  for (const [status, body, kind, code, extra] of cases) {
    test(`createTask answered ${status} ${JSON.stringify(body).slice(0, 70)}: ${kind} ${code}`, async () => {
      provider.next("createTask", status, body);
      const r = await createV2Client({ baseUrl: up.url, dialect: "anticaptcha", apiKey: KEY, clock }).submit({ type: "recaptcha_v2", sitekey: "6Le-sitekey-abc", pageurl: URL_ });
      assert.deepEqual(kindCode(r), [kind, code]);
      if (typeof extra === "string") assert.equal((r as { blame: string }).blame, extra);
      if (typeof extra === "boolean") assert.equal((r as { maybeDelivered: boolean }).maybeDelivered, extra);
    });
  }

  test("a poll answered ready without a solution, or with an unknown status, is a bad body; failed polls keep their code", async () => {
    const c = createV2Client({ baseUrl: up.url, dialect: "2captcha", apiKey: KEY, clock });
    provider.next("getTaskResult", 200, { errorId: 0, status: "ready" });
    assert.deepEqual(kindCode(await c.poll("1")), ["transient", "BAD_BODY"]);
    provider.next("getTaskResult", 200, { errorId: 0, status: "exploded" });
    assert.deepEqual(kindCode(await c.poll("1")), ["transient", "BAD_BODY"]);
    provider.next("getTaskResult", 200, refusal("ERROR_CAPTCHA_UNSOLVABLE"));
    assert.deepEqual(kindCode(await c.poll("1")), ["task_failed", "ERROR_CAPTCHA_UNSOLVABLE"]);
    provider.next("getTaskResult", 200, refusal("CAPTCHA_NOT_READY"));
    assert.deepEqual(kindCode(await c.poll("1")), ["not_ready", undefined]);
    provider.next("getBalance", 200, { errorId: 0, balance: "0x10" });
    assert.deepEqual(kindCode(await c.balance()), ["transient", "BAD_BODY"]);
    c.close();
  });

  test("the key and the task's proxy password are redacted from every message and every solution", async () => {
    const p = proxy();
    const c = createV2Client({ baseUrl: up.url, dialect: "anticaptcha", apiKey: KEY, clock });
    provider.next("createTask", 200, refusal("ERROR_PROXY_NOT_AUTHORISED", `proxy alice:pr0xy-pa55@10.1.2.3 refused for key ${KEY}`));
    const r = await c.submit({ type: "recaptcha_v2", sitekey: "6Le-sitekey-abc", pageurl: URL_, useragent: "UA/1", proxy: p });
    assert.deepEqual(kindCode(r), ["task_failed", "ERROR_PROXY_NOT_AUTHORISED"]);
    const message = (r as { message: string }).message;
    assert.ok(!message.includes(KEY) && !message.includes("pr0xy-pa55"), message);
    assert.ok(message.includes("[REDACTED]"));
    assert.ok(up.requests.at(-1)!.body.includes("pr0xy-pa55"), "the password itself went in the request body");
    provider.next("getTaskResult", 200, { errorId: 0, status: "ready", solution: { gRecaptchaResponse: `tok-${KEY}-pr0xy-pa55`, userAgent: "UA pr0xy-pa55" } });
    const answer = valueOf(await c.poll("77", undefined, p));
    assert.ok(!JSON.stringify(answer).includes(KEY) && !JSON.stringify(answer).includes("pr0xy-pa55"), JSON.stringify(answer));
    provider.next("getTaskResult", 200, refusal("ERROR_PROXY_CONNECT_REFUSED", "proxy alice:pr0xy-pa55@10.1.2.3 refused"));
    const refused = await c.poll("77", undefined, p);
    assert.ok(!JSON.stringify(refused).includes("pr0xy-pa55"), JSON.stringify(refused));
    c.close();
  });

  test("a hung call ends at the timeout on the injected clock; a createTask may then have been delivered", async () => {
    const c = createV2Client({ baseUrl: up.url, dialect: "capmonster", apiKey: KEY, clock, timeoutMs: 2000 });
    provider.hang("createTask");
    const pending = c.submit({ type: "turnstile", sitekey: "0x4AAAAAAA", pageurl: URL_ });
    await settle(20);
    await clock.advance(2000);
    const r = await pending;
    assert.deepEqual([...kindCode(r), (r as { maybeDelivered: boolean }).maybeDelivered], ["transient", "TIMEOUT", true]);
    assert.ok(!(r as { message: string }).message.includes(KEY));
    c.close();
  });

  test("a refused connection surely did not deliver the task", async () => {
    const s = createServer();
    await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
    const port = (s.address() as AddressInfo).port;
    await new Promise((r) => s.close(r));
    const r = await createV2Client({ baseUrl: new URL(`http://127.0.0.1:${port}/`), dialect: "2captcha", apiKey: KEY }).submit({ type: "image", image: IMG });
    assert.deepEqual([...kindCode(r), (r as { maybeDelivered: boolean }).maybeDelivered], ["transient", "NETWORK", false]);
  });

  test("an anti-captcha report of a task this client did not submit, without its type, is not sent", async () => {
    const before = up.requests.length;
    const c = createV2Client({ baseUrl: up.url, dialect: "anticaptcha", apiKey: KEY, clock });
    assert.deepEqual(kindCode(await c.report("123", false)), ["task_failed", "ERROR_REPORT_NOT_RECORDED"]);
    assert.equal(up.requests.length, before);
    assert.deepEqual(await c.report("123", false, undefined, "image"), { kind: "ok", value: "OK_REPORT_RECORDED" });
    assert.equal(up.requests.at(-1)!.url, "/reportIncorrectImageCaptcha");
    c.close();
  });
});

describe("JSON-API client connect timeout", () => {
  let silent: Server;
  let port: number;
  const sockets = new Set<Socket>();
  before(async () => {
    silent = createTcpServer({ pauseOnConnect: true }, (socket) => void sockets.add(socket));
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    port = (silent.address() as AddressInfo).port;
  });
  after(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => silent.close(r));
  });

  test("a TLS handshake that never completes is CONNECT_TIMEOUT, not delivered, at connectTimeoutMs", async () => {
    const clock = new FakeClock();
    const c = createV2Client({ baseUrl: new URL(`https://127.0.0.1:${port}/`), dialect: "anticaptcha", apiKey: KEY, clock, timeoutMs: 10_000, connectTimeoutMs: 3000 });
    const pending = c.submit({ type: "image", image: IMG });
    await settle(20);
    await clock.advance(3000);
    const r = await pending;
    assert.deepEqual([...kindCode(r), (r as { maybeDelivered: boolean }).maybeDelivered], ["transient", "CONNECT_TIMEOUT", false]);
    c.close();
  });
});

describe("createProviderClient", () => {
  let up: ScriptedUpstream;
  before(async () => (up = await startScriptedUpstream()));
  after(() => up.close());

  test("a v2 provider gets the JSON-API client in its dialect, a legacy one the in.php client", async () => {
    const clock = new FakeClock();
    up.answer(scriptedV2("capsolver", clock, { key: KEY }).handler);
    const v2 = createProviderClient({ protocol: "v2", dialect: "capsolver", url: up.url, key: KEY }, { clock });
    assert.equal(v2.protocol, "v2");
    const port: SolverUpstream = v2; // either client is the solver's port as it is
    assert.equal(typeof port.poll, "function");
    valueOf(await v2.submit({ type: "turnstile", sitekey: "0x4AAAAAAA", pageurl: URL_ }));
    assert.equal(JSON.parse(up.requests.at(-1)!.body).task.type, "AntiTurnstileTaskProxyLess");
    v2.close();
    up.answer((_r, res) => res.end('{"status":1,"request":"4.5"}'));
    const legacy = createProviderClient({ protocol: "legacy", dialect: "captchaai", url: up.url, key: KEY }, { clock });
    assert.equal(legacy.protocol, "legacy");
    assert.deepEqual(await legacy.balance(), { kind: "ok", value: 4.5 });
    assert.equal(up.requests.at(-1)!.url, "/res.php");
    legacy.close();
  });
});
