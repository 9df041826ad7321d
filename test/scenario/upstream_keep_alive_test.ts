/**
 * The protocol client's keep-alive connections against a scripted upstream on port 0: which calls
 * are sent again when a reused connection turns out closed, and when a kept-alive connection is no
 * longer written on. Idle time passes on an injected fake clock; the upstream "closes" a connection
 * by closing it unanswered the moment a request arrives on it, so nothing waits for real time.
 */
import assert from "node:assert/strict";
import type { ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { after, before, describe, test } from "node:test";
import { createCaptchaAiClient, type Endpoint } from "../../src/upstream/captchaai_client.ts";
import type { OutcomeKind } from "../../src/upstream/endpoints.ts";
import { nodeHttpTransport } from "../../src/upstream/transport.ts";
import { FakeClock } from "../_support/fake_clock.ts";
import { startScriptedUpstream, type Recorded, type ScriptedUpstream } from "../_support/scripted_upstream.ts";
import { pngOfSize } from "../_support/images.ts";

const KEY = "0123456789abcdef0123456789abcdef";
const PNG = pngOfSize(200, 7).toString("base64");

/** What the upstream does with a request: answer it, or close its connection unanswered. */
type Script = (req: Recorded, nth: number) => "answer" | "close";

describe("CaptchaAI client on a kept-alive connection the upstream closed", () => {
  let up: ScriptedUpstream;
  let script: Script = () => "answer";
  /** How many requests each connection has carried. */
  const served = new WeakMap<Socket, number>();
  before(async () => {
    up = await startScriptedUpstream();
    up.answer((req, res) => {
      const socket = res.socket!;
      const nth = (served.get(socket) ?? 0) + 1;
      served.set(socket, nth);
      if (script(req, nth) === "close") return void socket.destroy();
      const action = new URLSearchParams(req.body).get("action");
      res.end(action === "getbalance" ? '{"status":1,"request":"4.50"}' : action === "get" ? '{"status":1,"request":"abc123"}' : '{"status":1,"request":"777"}');
    });
  });
  after(() => up.close());

  /** A client on a fake clock (connections never age) with one warm kept-alive connection. */
  async function warmClient() {
    const calls: Array<[Endpoint, OutcomeKind]> = [];
    script = () => "answer";
    const c = createCaptchaAiClient({ baseUrl: up.url, apiKey: KEY, clock: new FakeClock(), onCall: (e, k) => calls.push([e, k]) });
    assert.equal((await c.balance()).kind, "ok");
    calls.length = 0;
    return { c, calls };
  }

  for (const [endpoint, call, want] of [
    ["res.php:get", (c) => c.poll("777"), { kind: "ok", value: { request: "abc123", fields: {} } }],
    ["res.php:getbalance", (c) => c.balance(), { kind: "ok", value: 4.5 }],
    ["res.php:report", (c) => c.report("777", false), { kind: "ok", value: "777" }],
  ] as const satisfies ReadonlyArray<readonly [Endpoint, (c: ReturnType<typeof createCaptchaAiClient>) => Promise<unknown>, unknown]>) {
    test(`${endpoint}: sent once more on a new connection, one call with one outcome`, async () => {
      const { c, calls } = await warmClient();
      script = (_req, nth) => (nth > 1 ? "close" : "answer"); // the idle close crosses any request on a reused connection
      const requests = up.requests.length;
      const connections = up.connections();
      assert.deepEqual(await call(c), want);
      assert.equal(up.requests.length - requests, 2, "the closed attempt and the retry");
      assert.equal(up.connections() - connections, 1, "the retry had a connection of its own");
      assert.equal(up.requests.at(-1)!.headers.connection, "close", "a one-off connection, not one from the pool");
      assert.deepEqual(calls, [[endpoint, "ok"]]);
      c.close();
    });
  }

  test("in.php: never sent again; the reset may have delivered it", async () => {
    const { c, calls } = await warmClient();
    script = (_req, nth) => (nth > 1 ? "close" : "answer");
    const requests = up.requests.length;
    const r = await c.submit({ type: "image", image: PNG });
    assert.deepEqual([r.kind, (r as { code: string }).code, (r as { maybeDelivered: boolean }).maybeDelivered], ["transient", "NETWORK", true]);
    assert.equal(up.requests.length - requests, 1, "one in.php request, not repeated");
    assert.deepEqual(calls, [["in.php", "transient"]]);
    c.close();
  });

  test("a retry that fails too ends the call: two requests, one transient outcome", async () => {
    const { c, calls } = await warmClient();
    script = () => "close";
    const requests = up.requests.length;
    const r = await c.poll("777");
    assert.deepEqual([r.kind, (r as { code: string }).code], ["transient", "NETWORK"]);
    assert.equal(up.requests.length - requests, 2);
    assert.deepEqual(calls, [["res.php:get", "transient"]]);
    c.close();
  });

  test("a connection closed on a first request is not retried: it was not a kept-alive one", async () => {
    script = () => "close";
    const c = createCaptchaAiClient({ baseUrl: up.url, apiKey: KEY, clock: new FakeClock() });
    const requests = up.requests.length;
    assert.equal((await c.poll("777")).kind, "transient");
    assert.equal(up.requests.length - requests, 1);
    c.close();
  });
});

describe("kept-alive connections are written on only while fresh", () => {
  let up: ScriptedUpstream;
  let hint: string | undefined;
  const answers: ServerResponse[] = [];
  let holding = false;
  before(async () => {
    up = await startScriptedUpstream();
    up.answer((_req, res) => {
      if (hint !== undefined) res.setHeader("keep-alive", hint);
      if (holding) return void answers.push(res);
      res.end('{"status":1,"request":"1.00"}');
    });
  });
  after(() => up.close());

  const form = new URLSearchParams({ key: KEY, action: "getbalance", json: "1" }).toString();
  const send = (t: ReturnType<typeof nodeHttpTransport>) =>
    t(new URL("res.php", up.url), form, { signal: new AbortController().signal, maxBodyBytes: 1024, onWritable: () => {} });

  test("the client's connection is reused for 499 ms after its last answer and replaced at 500 ms (the injected clock)", async () => {
    hint = undefined;
    const clock = new FakeClock();
    const c = createCaptchaAiClient({ baseUrl: up.url, apiKey: KEY, clock });
    const connections = up.connections();
    await c.balance();
    await clock.advance(499);
    await c.balance();
    assert.equal(up.connections() - connections, 1, "reused within the window");
    await clock.advance(500);
    await c.balance();
    assert.equal(up.connections() - connections, 2, "a new connection once the old one may have gone stale");
    c.close();
  });

  test("a Keep-Alive: timeout=N hint shortens the window to N s less a second's margin", async () => {
    const clock = new FakeClock();
    const t = nodeHttpTransport({ clock, reuseWithinMs: 5000 });
    const connections = up.connections();
    hint = undefined;
    await send(t);
    await clock.advance(1500);
    await send(t);
    assert.equal(up.connections() - connections, 1, "no hint: reused after 1.5 s (within 5 s)");
    hint = "timeout=2, max=100";
    await send(t);
    await clock.advance(999);
    await send(t);
    assert.equal(up.connections() - connections, 1, "reused within 1 s");
    await clock.advance(1000);
    await send(t);
    assert.equal(up.connections() - connections, 2, "replaced after 1 s");
    t.close();
  });

  test("a stale idle connection the pool would still hand out is replaced before anything is written on it", async () => {
    const clock = new FakeClock();
    const t = nodeHttpTransport({ clock, reuseWithinMs: 5000 });
    const connections = up.connections();
    // Two connections: A freed first without a hint (fresh for 5 s), B 100 ms later with a 1 s one.
    holding = true;
    hint = undefined;
    const a = send(t);
    const b = send(t);
    for (let i = 0; i < 200 && answers.length < 2; i++) await clock.advance(0);
    holding = false;
    answers.shift()!.end('{"status":1,"request":"1.00"}');
    await a;
    await clock.advance(100);
    answers[0]!.setHeader("keep-alive", "timeout=2");
    answers.shift()!.end('{"status":1,"request":"1.00"}');
    await b;
    assert.equal(up.connections() - connections, 2);
    // 1.1 s on, B (last freed, the one the agent hands out first) is stale, A is not.
    await clock.advance(1100);
    const requests = up.requests.length;
    assert.equal((await send(t)).status, 200);
    assert.equal(up.requests.length - requests, 1, "one request, on a connection of its own");
    assert.equal(up.connections() - connections, 3);
    t.close();
  });
});
