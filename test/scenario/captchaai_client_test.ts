import assert from "node:assert/strict";
import { createServer } from "node:http";
import { createServer as createTcpServer, type AddressInfo, type Server, type Socket } from "node:net";
import { after, before, describe, test } from "node:test";
import { startSimulator, type Simulator } from "../../src/sim/simulator.ts";
import { createCaptchaAiClient, type Endpoint } from "../../src/upstream/captchaai_client.ts";
import { taskToForm } from "../../src/upstream/task_form.ts";
import { TaskProxy } from "../../src/tasks/task_proxy.ts";
import { FakeClock, settle } from "../_support/fake_clock.ts";
import { startScriptedUpstream, type ScriptedUpstream } from "../_support/scripted_upstream.ts";
import { PNG_B64, pngOfSize } from "../_support/images.ts";

const KEY = "0123456789abcdef0123456789abcdef";
const PNG = pngOfSize(200, 7).toString("base64");

describe("CaptchaAI client against the simulator", () => {
  let sim: Simulator;
  const clock = new FakeClock();
  const calls: Array<[Endpoint, string]> = [];
  before(async () => {
    sim = await startSimulator({ host: "127.0.0.1", port: 0 }, { keys: [KEY], clock, solveTimeMs: { image: 5000, token: 15_000 }, balanceUsd: 2, seed: 7 });
  });
  after(() => sim.close());
  const client = () => createCaptchaAiClient({ baseUrl: sim.url, apiKey: KEY, clock, onCall: (e, k) => calls.push([e, k]) });

  test("submits an image, is not ready until the solve time passes, then gets the answer", async () => {
    const c = client();
    const submitted = await c.submit({ type: "image", image: PNG, numeric: 1 });
    assert.equal(submitted.kind, "ok");
    const id = (submitted as { value: string }).value;
    assert.match(id, /^\d+$/);
    assert.equal((await c.poll(id)).kind, "not_ready");
    await clock.advance(5000);
    const solved = await c.poll(id);
    assert.equal(solved.kind, "ok");
    assert.match((solved as { value: { request: string } }).value.request, /^[a-z0-9]{6}$/);
    assert.deepEqual(calls.slice(-3), [["in.php", "ok"], ["res.php:get", "not_ready"], ["res.php:get", "ok"]]);
  });

  test("solves each token kind", async () => {
    const c = client();
    for (const task of [
      { type: "recaptcha_v2", sitekey: "6Le-sitekey-abc", pageurl: "https://example.com/", invisible: true },
      { type: "recaptcha_v3", sitekey: "6Le-sitekey-abc", pageurl: "https://example.com/", action: "login", min_score: 0.7 },
      { type: "turnstile", sitekey: "0x4AAAAAAA", pageurl: "https://example.com/" },
    ] as const) {
      const s = await c.submit(task);
      assert.equal(s.kind, "ok", task.type);
      await clock.advance(15_000);
      const r = await c.poll((s as { value: string }).value);
      assert.equal(r.kind, "ok", task.type);
      assert.ok((r as { value: { request: string } }).value.request.length > 100);
    }
  });

  test("reads the balance, which falls by the price per solve", async () => {
    const c = client();
    const before = await c.balance();
    assert.equal(before.kind, "ok");
    const s = await c.submit({ type: "image", image: PNG });
    await clock.advance(5000);
    await c.poll((s as { value: string }).value);
    const afterSolve = await c.balance();
    assert.ok(Math.abs((before as { value: number }).value - (afterSolve as { value: number }).value - 0.001) < 1e-9);
  });

  test("reports good and bad; a second report is refused", async () => {
    const c = client();
    const s = await c.submit({ type: "image", image: PNG });
    const id = (s as { value: string }).value;
    await clock.advance(5000);
    await c.poll(id);
    assert.equal((await c.report(id, true)).kind, "ok");
    const again = await c.report(id, false);
    assert.equal(again.kind, "task_failed");
    assert.equal((again as { code: string }).code, "ERROR_DUPLICATE_REPORT");
  });

  test("a wrong key is fatal_account with the real code", async () => {
    const c = createCaptchaAiClient({ baseUrl: sim.url, apiKey: "wrong", clock });
    const r = await c.balance();
    assert.deepEqual([r.kind, (r as { code: string }).code], ["fatal_account", "ERROR_WRONG_USER_KEY"]);
  });

  test("bad parameters fail the task, charged to the client", async () => {
    const r = await client().submit({ type: "recaptcha_v2", sitekey: "6Le-sitekey-abc", pageurl: "not a url" });
    assert.deepEqual([r.kind, (r as { code: string }).code, (r as { blame: string }).blame], ["task_failed", "ERROR_PAGEURL", "client"]);
  });

  test("faults: each becomes its class, never a throw", async () => {
    const c = client();
    const cases: Array<[Parameters<Simulator["control"]["setFault"]>[1], string, string]> = [
      [{ status: 500 }, "transient", "HTTP_500"],
      [{ status: 429 }, "back_off", "HTTP_429"],
      [{ status: 502, html: true }, "transient", "HTTP_502"],
      [{ html: true }, "transient", "HTML_BODY"],
      [{ garbage: true }, "transient", "BAD_BODY"],
      [{ drop: true }, "transient", "NETWORK"],
      [{ error: "ERROR_NO_SLOT_AVAILABLE" }, "back_off", "ERROR_NO_SLOT_AVAILABLE"],
      [{ error: "ERROR_ZERO_BALANCE" }, "back_off", "ERROR_ZERO_BALANCE"],
      [{ error: "IP_BANNED" }, "fatal_account", "IP_BANNED"],
    ];
    for (const [fault, kind, code] of cases) {
      sim.control.setFault("all", fault);
      const r = await c.balance();
      assert.deepEqual([r.kind, (r as { code: string }).code], [kind, code], JSON.stringify(fault));
    }
    sim.control.clearFaults();
  });

  test("a hung upstream is cut off at the timeout on the injected clock", async () => {
    sim.control.setFault("res.php:getbalance", { hang: true });
    const c = createCaptchaAiClient({ baseUrl: sim.url, apiKey: KEY, clock, timeoutMs: 2000 });
    const pending = c.balance();
    await clock.advance(2000);
    const r = await pending;
    assert.deepEqual([r.kind, (r as { code: string }).code, (r as { maybeDelivered: boolean }).maybeDelivered], ["transient", "TIMEOUT", true]);
    sim.control.clearFaults();
  });

  test("latency is waited out on the simulator's clock", async () => {
    sim.control.setFault("res.php:getbalance", { latencyMs: 3000 });
    const pending = client().balance();
    await settle(20);
    await clock.advance(3000);
    assert.equal((await pending).kind, "ok");
    sim.control.clearFaults();
  });

  test("no request ever carried the key in its URL", () => {
    const counts = sim.counts();
    assert.ok(counts.requests["in.php"]! > 0);
    assert.equal(counts.keyInQuery, 0);
  });
});

describe("CaptchaAI client request shape and transport failures", () => {
  let up: ScriptedUpstream;
  before(async () => (up = await startScriptedUpstream()));
  after(() => up.close());

  test("POSTs a form with the key, json=1 and the task's fields; the URL carries nothing", async () => {
    up.answer((_r, res) => res.end('{"status":1,"request":12345}'));
    const c = createCaptchaAiClient({ baseUrl: up.url, apiKey: KEY, softId: "42" });
    const r = await c.submit({ type: "recaptcha_v3", sitekey: "6Le-sitekey-abc", pageurl: "https://example.com/", action: "login", min_score: 0.3 });
    assert.deepEqual(r, { kind: "ok", value: "12345" });
    const req = up.requests.at(-1)!;
    assert.equal(req.method, "POST");
    assert.equal(req.url, "/in.php");
    assert.equal(req.headers["content-type"], "application/x-www-form-urlencoded");
    const form = Object.fromEntries(new URLSearchParams(req.body));
    assert.deepEqual(form, {
      key: KEY, json: "1", method: "userrecaptcha", version: "v3", googlekey: "6Le-sitekey-abc",
      pageurl: "https://example.com/", action: "login", min_score: "0.3", soft_id: "42",
    });
    await c.poll("12345");
    assert.equal(up.requests.at(-1)!.url, "/res.php");
    assert.deepEqual(Object.fromEntries(new URLSearchParams(up.requests.at(-1)!.body)), { key: KEY, json: "1", action: "get", id: "12345", soft_id: "42" });
    assert.ok(up.requests.every((q) => !q.url.includes(KEY)));
  });

  test("a poll given the task's proxy redacts its password from what the answer echoes: the solution, the user agent, a code", async () => {
    const proxy = TaskProxy.parse("alice:pr0xy-Pa55word@10.1.2.3:8080", "HTTP") as TaskProxy;
    const c = createCaptchaAiClient({ baseUrl: up.url, apiKey: KEY });
    const echo = "alice:pr0xy-Pa55word@10.1.2.3:8080 PR0XY-PA55WORD cHIweHktUGE1NXdvcmQ=";
    up.answer((_r, res) => res.end(JSON.stringify({ status: 1, request: `0.token ${echo}`, user_agent: `UA/1 ${echo}` })));
    const solved = await c.poll("77", undefined, proxy);
    assert.equal(solved.kind, "ok");
    assert.ok(!JSON.stringify(solved).toLowerCase().includes("pa55word") && JSON.stringify(solved).includes("[REDACTED]"), JSON.stringify(solved));
    up.answer((_r, res) => res.end(JSON.stringify({ status: 0, request: `ERROR_PROXY_CONNECTION_FAILED ${echo}` })));
    const failed = await c.poll("77", undefined, proxy);
    assert.ok(!JSON.stringify(failed).toLowerCase().includes("pa55word"), JSON.stringify(failed));
    // Without the proxy the client cannot know the password: the solver passes the task's.
    assert.ok(JSON.stringify(await c.poll("77")).includes("pr0xy-Pa55word"));
  });

  test("a balance is a decimal number: hex, binary, octal or Infinity spellings are a bad body, not a balance", async () => {
    const c = createCaptchaAiClient({ baseUrl: up.url, apiKey: KEY });
    const cases: [string, number | undefined][] = [
      ['{"status":1,"request":"12.5"}', 12.5], ['{"status":1,"request":7}', 7], ['{"status":1,"request":"-3.20"}', -3.2],
      ['{"status":1,"request":1e-7}', 1e-7], ["4.25", 4.25],
      ['{"status":1,"request":"0x10"}', undefined], ['{"status":1,"request":"0b101"}', undefined], ['{"status":1,"request":"0o7"}', undefined],
      ['{"status":1,"request":"Infinity"}', undefined], ['{"status":1,"request":" "}', undefined], ['{"status":1,"request":"1e400"}', undefined],
    ];
    for (const [body, want] of cases) {
      up.answer((_r, res) => res.end(body));
      const r = await c.balance();
      if (want === undefined) assert.deepEqual([r.kind, (r as { code?: string }).code], ["transient", "BAD_BODY"], body);
      else assert.deepEqual(r, { kind: "ok", value: want }, body);
    }
  });

  test("maps each task kind to the protocol's fields", () => {
    assert.deepEqual(taskToForm({ type: "image", image: PNG_B64, phrase: true, regsense: false, numeric: 2, calc: true, min_len: 3, max_len: 8, lang: "en", textinstructions: "red" }), {
      method: "base64", body: PNG_B64, phrase: "1", regsense: "0", numeric: "2", calc: "1", min_len: "3", max_len: "8", lang: "en", textinstructions: "red",
    });
    assert.deepEqual(taskToForm({ type: "recaptcha_v2", sitekey: "s", pageurl: "https://a/", invisible: true }), { method: "userrecaptcha", googlekey: "s", pageurl: "https://a/", invisible: "1" });
    assert.deepEqual(taskToForm({ type: "turnstile", sitekey: "s", pageurl: "https://a/" }), { method: "turnstile", sitekey: "s", pageurl: "https://a/" });
  });

  test("an oversize body is refused without reading it all", async () => {
    up.answer((_r, res) => res.end("9".repeat(200_000)));
    const r = await createCaptchaAiClient({ baseUrl: up.url, apiKey: KEY, maxBodyBytes: 1024 }).balance();
    assert.deepEqual([r.kind, (r as { code: string }).code], ["transient", "BAD_BODY"]);
  });

  test("a socket closed after the request was read may have delivered it", async () => {
    up.answer((_r, res) => res.socket?.destroy());
    const r = await createCaptchaAiClient({ baseUrl: up.url, apiKey: KEY }).submit({ type: "image", image: PNG });
    assert.deepEqual([r.kind, (r as { maybeDelivered: boolean }).maybeDelivered], ["transient", true]);
  });

  test("a refused connection surely did not deliver it", async () => {
    const s = createServer();
    await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
    const port = (s.address() as AddressInfo).port;
    await new Promise((r) => s.close(r));
    const r = await createCaptchaAiClient({ baseUrl: new URL(`http://127.0.0.1:${port}/`), apiKey: KEY }).submit({ type: "image", image: PNG });
    assert.deepEqual([r.kind, (r as { code: string }).code, (r as { maybeDelivered: boolean }).maybeDelivered], ["transient", "NETWORK", false]);
    assert.ok(!(r as { message: string }).message.includes(KEY));
  });

  test("a caller's abort ends the call", async () => {
    up.answer(() => {});
    const abort = new AbortController();
    const pending = createCaptchaAiClient({ baseUrl: up.url, apiKey: KEY }).balance(abort.signal);
    abort.abort();
    const r = await pending;
    assert.deepEqual([r.kind, (r as { code: string }).code], ["transient", "ABORTED"]);
    assert.equal((r as { maybeDelivered: boolean }).maybeDelivered, false, "cancelled before it had a connection to write on");
  });
});

describe("CaptchaAI client transports", () => {
  let up: ScriptedUpstream;
  before(async () => (up = await startScriptedUpstream()));
  after(() => up.close());

  test("the default transport keeps one connection alive across calls", async () => {
    up.answer((_r, res) => res.end('{"status":1,"request":"7.50"}'));
    const c = createCaptchaAiClient({ baseUrl: up.url, apiKey: KEY });
    const before = up.connections();
    for (let i = 0; i < 5; i++) assert.deepEqual(await c.balance(), { kind: "ok", value: 7.5 });
    assert.equal(up.connections() - before, 1);
    c.close();
  });

  for (const [name, extra] of [["node:http", {}], ["an injected fetch", { fetch: globalThis.fetch }]] as const) {
    test(`over ${name}: answers, redirects, oversize bodies and refused connections classify alike`, async () => {
      const c = createCaptchaAiClient({ baseUrl: up.url, apiKey: KEY, maxBodyBytes: 1024, ...extra });
      up.answer((_r, res) => res.end('{"status":1,"request":"3.25"}'));
      assert.deepEqual(await c.balance(), { kind: "ok", value: 3.25 });
      up.answer((_r, res) => res.writeHead(302, { location: "https://elsewhere.invalid/" }).end());
      const moved = await c.balance();
      assert.equal(moved.kind, "transient", "a redirect is never followed");
      up.answer((_r, res) => res.end("9".repeat(200_000)));
      assert.deepEqual(((r) => [r.kind, (r as { code: string }).code])(await c.balance()), ["transient", "BAD_BODY"]);
      c.close();
    });
  }
});


describe("CaptchaAI client connect timeout", () => {
  /** A TCP server that takes connections and never reads from them: no TLS handshake, no HTTP answer. */
  let silent: Server;
  let port: number;
  const sockets = new Set<Socket>();
  let connected: () => void = () => {};
  before(async () => {
    silent = createTcpServer({ pauseOnConnect: true }, (socket) => {
      sockets.add(socket);
      connected();
    });
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    port = (silent.address() as AddressInfo).port;
  });
  after(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => silent.close(r));
  });
  const accepted = () => new Promise<void>((r) => (connected = r));

  test("a TLS handshake that never completes is CONNECT_TIMEOUT, not delivered, at connectTimeoutMs on the injected clock", async () => {
    const clock = new FakeClock();
    const c = createCaptchaAiClient({ baseUrl: new URL(`https://127.0.0.1:${port}/`), apiKey: KEY, clock, timeoutMs: 10_000, connectTimeoutMs: 3000 });
    const tcp = accepted();
    const pending = c.submit({ type: "image", image: PNG });
    await tcp; // the TCP connect is done; the handshake waits on a server that never reads
    await clock.advance(2999);
    let done = false;
    void pending.then(() => (done = true));
    await settle();
    assert.equal(done, false, "still waiting before the connect timeout");
    await clock.advance(1);
    assert.equal(done, true, "ended at the connect timeout, long before the response timeout");
    const r = await pending;
    assert.deepEqual([r.kind, (r as { code: string }).code, (r as { maybeDelivered: boolean }).maybeDelivered], ["transient", "CONNECT_TIMEOUT", false]);
    assert.ok(!(r as { message: string }).message.includes(KEY));
    c.close();
  });

  test("a response timeout before the handshake completed is CONNECT_TIMEOUT too: nothing was written", async () => {
    const clock = new FakeClock();
    const c = createCaptchaAiClient({ baseUrl: new URL(`https://127.0.0.1:${port}/`), apiKey: KEY, clock, timeoutMs: 1000, connectTimeoutMs: 3000 });
    const tcp = accepted();
    const pending = c.balance();
    await tcp;
    await clock.advance(1000);
    const r = await pending;
    assert.deepEqual([r.kind, (r as { code: string }).code, (r as { maybeDelivered: boolean }).maybeDelivered], ["transient", "CONNECT_TIMEOUT", false]);
    c.close();
  });

  test("over plain http a completed connect with no answer is the response timeout: it may have been delivered", async () => {
    const clock = new FakeClock();
    const c = createCaptchaAiClient({ baseUrl: new URL(`http://127.0.0.1:${port}/`), apiKey: KEY, clock, timeoutMs: 5000, connectTimeoutMs: 3000 });
    const tcp = accepted();
    const pending = c.submit({ type: "image", image: PNG });
    await tcp;
    await settle();
    await clock.advance(3000);
    let done = false;
    void pending.then(() => (done = true));
    await settle();
    assert.equal(done, false, "connected: the connect timeout no longer applies");
    await clock.advance(2000);
    const r = await pending;
    assert.deepEqual([r.kind, (r as { code: string }).code, (r as { maybeDelivered: boolean }).maybeDelivered], ["transient", "TIMEOUT", true]);
    c.close();
  });
});
