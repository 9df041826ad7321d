// The legacy 2captcha API (in.php/res.php) on the worker, with plain HTTP: each method, action and error.
import assert from "node:assert/strict";
import { once } from "node:events";
import { connect } from "node:net";
import { describe, test } from "node:test";
import { CLIENT_KEY, gatewayHarness, OTHER_KEY, PNG } from "../_support/gateway.ts";
import { advance, eventually, withHarness, type Harness } from "../_support/harness.ts";
import { pngOfSize } from "../_support/images.ts";

const q = (h: Harness, path: string, params: Record<string, string>) => fetch(`${h.base}${path}?${new URLSearchParams(params)}`);
const text = async (res: Response) => ({ status: res.status, body: await res.text(), type: res.headers.get("content-type") });

async function solvedId(h: Harness, params: Record<string, string>): Promise<string> {
  const r = await text(await q(h, "/in.php", { key: CLIENT_KEY, ...params }));
  assert.match(r.body, /^OK\|\d+$/);
  const id = r.body.slice(3);
  await advance(h.clock, 2000);
  await eventually(() => h.worker.pool.find(id)?.status === "solved", "solved");
  return id;
}

describe("gateway: legacy in.php / res.php", () => {
  test("in.php method=base64 by query answers OK|ID (a positive integer); res.php get goes from CAPCHA_NOT_READY to OK|answer", () =>
    withHarness(async (h) => {
      const r = await text(await q(h, "/in.php", { key: CLIENT_KEY, method: "base64", body: PNG, numeric: "1", soft_id: "123" }));
      assert.equal(r.status, 200);
      assert.match(r.body, /^OK\|[1-9]\d*$/);
      const id = r.body.slice(3);
      assert.ok(Number.isSafeInteger(Number(id)));
      assert.equal((await text(await q(h, "/res.php", { key: CLIENT_KEY, action: "get", id }))).body, "CAPCHA_NOT_READY");
      await advance(h.clock, 2000);
      await eventually(() => h.worker.pool.find(id)?.status === "solved", "solved");
      assert.match((await text(await q(h, "/res.php", { key: CLIENT_KEY, action: "get", id }))).body, /^OK\|[a-z0-9]{6}$/);
      assert.equal(h.worker.pool.find(id)?.params.type, "image");
    }, gatewayHarness()));

  test("json=1 answers {status, request}; header_acao=1 adds Access-Control-Allow-Origin", () =>
    withHarness(async (h) => {
      const res = await q(h, "/in.php", { key: CLIENT_KEY, method: "base64", body: PNG, json: "1", header_acao: "1" });
      assert.equal(res.headers.get("access-control-allow-origin"), "*");
      const body = (await res.json()) as { status: number; request: string };
      assert.equal(body.status, 1);
      assert.match(body.request, /^\d+$/);
      const notReady = await (await q(h, "/res.php", { key: CLIENT_KEY, action: "get", id: body.request, json: "1" })).json();
      assert.deepEqual(notReady, { status: 0, request: "CAPCHA_NOT_READY" });
      const plain = await q(h, "/res.php", { key: CLIENT_KEY, action: "get", id: body.request });
      assert.equal(plain.headers.get("access-control-allow-origin"), null);
      // The `2captcha` npm client (run in browsers too) sends header_acao=true and json=true.
      const spelled = await q(h, "/res.php", { key: CLIENT_KEY, action: "get", id: body.request, json: "true", header_acao: "true" });
      assert.equal(spelled.headers.get("access-control-allow-origin"), "*");
      assert.deepEqual(await spelled.json(), { status: 0, request: "CAPCHA_NOT_READY" });
    }, gatewayHarness()));

  test("in.php takes a form body, a JSON body (as the official JS client posts) and multipart with a file (method=post)", () =>
    withHarness(async (h) => {
      const form = await text(await fetch(`${h.base}/in.php`, { method: "POST", body: new URLSearchParams({ key: CLIENT_KEY, method: "base64", body: PNG }) }));
      assert.match(form.body, /^OK\|\d+$/);
      const json = await text(await fetch(`${h.base}/in.php`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ key: CLIENT_KEY, method: "base64", body: PNG, json: 0 }) }));
      assert.match(json.body, /^OK\|\d+$/);
      const fd = new FormData();
      fd.set("key", CLIENT_KEY);
      fd.set("method", "post");
      fd.set("file", new Blob([pngOfSize(200, 7)], { type: "image/png" }), "captcha.png");
      const multi = await text(await fetch(`${h.base}/in.php`, { method: "POST", body: fd }));
      assert.match(multi.body, /^OK\|\d+$/);
      const task = h.worker.pool.find(multi.body.slice(3))!;
      assert.equal(task.params.type === "image" && Buffer.from(task.params.image, "base64").length, 200);
    }, gatewayHarness()));

  test("userrecaptcha (v2, invisible, enterprise; v3 with action and min_score) and turnstile (action, data) become the worker's task types", () =>
    withHarness(async (h) => {
      const submit = async (p: Record<string, string>) => h.worker.pool.find((await text(await q(h, "/in.php", { key: CLIENT_KEY, ...p }))).body.slice(3))!.params;
      const page = "https://example.com/login";
      assert.deepEqual(await submit({ method: "userrecaptcha", googlekey: "6Le-sitekey-abc", pageurl: page, invisible: "1", enterprise: "1" }),
        { type: "recaptcha_v2", sitekey: "6Le-sitekey-abc", pageurl: page, invisible: true, enterprise: true, client: "alpha" });
      assert.deepEqual(await submit({ method: "userrecaptcha", version: "v3", googlekey: "6Le-sitekey-abc", pageurl: page, action: "login", min_score: "0.3" }),
        { type: "recaptcha_v3", sitekey: "6Le-sitekey-abc", pageurl: page, action: "login", min_score: 0.3, client: "alpha" });
      assert.deepEqual(await submit({ method: "turnstile", sitekey: "0x4AAAAAAAexample", pageurl: page, action: "signup", data: "cdata-1" }),
        { type: "turnstile", sitekey: "0x4AAAAAAAexample", pageurl: page, action: "signup", data: "cdata-1", client: "alpha" });
      assert.deepEqual(await submit({ method: "base64", body: PNG, phrase: "1", regsense: "0", calc: "1", min_len: "4", max_len: "6", language: "2", lang: "en", textinstructions: "type the red letters" }),
        { type: "image", image: PNG, phrase: true, regsense: false, calc: true, min_len: 4, max_len: 6, language: 2, lang: "en", textinstructions: "type the red letters", client: "alpha" });
    }, gatewayHarness()));

  test("get with ids= answers each in order; get2 adds the cost", () =>
    withHarness(async (h) => {
      const a = await solvedId(h, { method: "base64", body: PNG });
      const b = (await text(await q(h, "/in.php", { key: CLIENT_KEY, method: "base64", body: PNG }))).body.slice(3);
      const many = (await text(await q(h, "/res.php", { key: CLIENT_KEY, action: "get", ids: `${a},${b},99` }))).body.split("|");
      assert.match(many[0]!, /^[a-z0-9]{6}$/);
      assert.deepEqual(many.slice(1), ["CAPCHA_NOT_READY", "ERROR_WRONG_CAPTCHA_ID"]);
      assert.match((await text(await q(h, "/res.php", { key: CLIENT_KEY, action: "get2", id: a }))).body, /^OK\|[a-z0-9]{6}\|0$/);
      const j = (await (await q(h, "/res.php", { key: CLIENT_KEY, action: "get2", id: a, json: "1" })).json()) as { status: number; price: string };
      assert.deepEqual([j.status, j.price], [1, "0"]);
    }, gatewayHarness()));

  test("getbalance answers from the balance cache, never a call per request", () =>
    withHarness(async (h) => {
      const before = h.sim.counts().requests["res.php:getbalance"] ?? 0;
      for (let i = 0; i < 5; i++) assert.equal((await text(await q(h, "/res.php", { key: CLIENT_KEY, action: "getbalance" }))).body, "10");
      assert.deepEqual(await (await q(h, "/res.php", { key: CLIENT_KEY, action: "getbalance", json: "1" })).json(), { status: 1, request: "10" });
      assert.equal(h.sim.counts().requests["res.php:getbalance"] ?? 0, before);
    }, gatewayHarness()));

  test("reportgood and reportbad forward once: OK_REPORT_RECORDED, then ERROR_DUPLICATE_REPORT; an unsolved task is ERROR_WRONG_CAPTCHA_ID", () =>
    withHarness(async (h) => {
      const a = await solvedId(h, { method: "base64", body: PNG });
      const b = await solvedId(h, { method: "base64", body: PNG });
      assert.equal((await text(await q(h, "/res.php", { key: CLIENT_KEY, action: "reportgood", id: a }))).body, "OK_REPORT_RECORDED");
      assert.equal((await text(await q(h, "/res.php", { key: CLIENT_KEY, action: "reportgood", id: a }))).body, "ERROR_DUPLICATE_REPORT");
      assert.deepEqual(await (await q(h, "/res.php", { key: CLIENT_KEY, action: "reportbad", id: b, json: "1" })).json(), { status: 1, request: "OK_REPORT_RECORDED" });
      const open = (await text(await q(h, "/in.php", { key: CLIENT_KEY, method: "base64", body: PNG }))).body.slice(3);
      assert.equal((await text(await q(h, "/res.php", { key: CLIENT_KEY, action: "reportbad", id: open }))).body, "ERROR_WRONG_CAPTCHA_ID");
    }, gatewayHarness()));

  test("bad input gets 2captcha's code, 200, never a 500", () =>
    withHarness(async (h) => {
      const cases: [Record<string, string>, string, string][] = [
        [{ method: "base64", body: PNG }, "/in.php", "ERROR_KEY_DOES_NOT_EXIST"],
        [{ key: "not-a-client-key-at-all", method: "base64", body: PNG }, "/in.php", "ERROR_KEY_DOES_NOT_EXIST"],
        [{ key: CLIENT_KEY, method: "base64", body: "" }, "/in.php", "ERROR_ZERO_CAPTCHA_FILESIZE"],
        [{ key: CLIENT_KEY, method: "base64" }, "/in.php", "ERROR_ZERO_CAPTCHA_FILESIZE"],
        [{ key: CLIENT_KEY }, "/in.php", "ERROR_ZERO_CAPTCHA_FILESIZE"],
        [{ key: CLIENT_KEY, method: "base64", body: "%%%not base64%%%" }, "/in.php", "ERROR_IMAGE_TYPE_NOT_SUPPORTED"],
        [{ key: CLIENT_KEY, method: "hcaptcha", sitekey: "x", pageurl: "https://a.example/" }, "/in.php", "ERROR_NO_SUCH_METHOD"],
        [{ key: CLIENT_KEY, method: "userrecaptcha", pageurl: "https://a.example/" }, "/in.php", "ERROR_GOOGLEKEY"],
        [{ key: CLIENT_KEY, method: "userrecaptcha", googlekey: "6Le-sitekey-abc" }, "/in.php", "ERROR_PAGEURL"],
        [{ key: CLIENT_KEY, method: "userrecaptcha", googlekey: "6Le-sitekey-abc", pageurl: "javascript:alert(1)" }, "/in.php", "ERROR_PAGEURL"],
        [{ key: CLIENT_KEY, method: "turnstile", pageurl: "https://a.example/" }, "/in.php", "ERROR_BAD_PARAMETERS"],
        [{ key: CLIENT_KEY, method: "base64", body: PNG, numeric: "9" }, "/in.php", "ERROR_BAD_PARAMETERS"],
        [{ key: CLIENT_KEY, method: "base64", body: PNG, pingback: "https://hooks.example/x" }, "/in.php", "ERROR_BAD_PARAMETERS"],
        [{ key: CLIENT_KEY, action: "get", id: "abc" }, "/res.php", "ERROR_WRONG_ID_FORMAT"],
        [{ key: CLIENT_KEY, action: "get" }, "/res.php", "ERROR_WRONG_ID_FORMAT"],
        [{ key: CLIENT_KEY, action: "get", id: "12345" }, "/res.php", "ERROR_WRONG_CAPTCHA_ID"],
        [{ key: CLIENT_KEY, action: "get", ids: "1,x" }, "/res.php", "ERROR_WRONG_ID_FORMAT"],
        [{ key: CLIENT_KEY }, "/res.php", "ERROR_EMPTY_ACTION"],
        [{ key: CLIENT_KEY, action: "nonsense" }, "/res.php", "ERROR_BAD_PARAMETERS"],
        [{ action: "getbalance" }, "/res.php", "ERROR_KEY_DOES_NOT_EXIST"],
      ];
      for (const [params, path, code] of cases) {
        const r = await text(await q(h, path, params));
        assert.deepEqual([r.status, r.body], [200, code], JSON.stringify(params));
      }
      const big = await text(await fetch(`${h.base}/in.php`, { method: "POST", body: new URLSearchParams({ key: CLIENT_KEY, method: "base64", body: "A".repeat(2 * 1024 * 1024 + 4) }) }));
      assert.equal(big.body, "ERROR_TOO_BIG_CAPTCHA_FILESIZE");
      const huge = await text(await fetch(`${h.base}/in.php`, { method: "POST", body: Buffer.alloc(4 * 1024 * 1024, 65) }));
      assert.equal(huge.body, "ERROR_TOO_BIG_CAPTCHA_FILESIZE");
      assert.equal((await text(await fetch(`${h.base}/in.php`, { method: "POST", headers: { "content-type": "application/json" }, body: "{not json" }))).body, "ERROR_KEY_DOES_NOT_EXIST");
      assert.equal((await text(await fetch(`${h.base}/in.php`, { method: "POST", headers: { "content-type": "multipart/form-data; boundary=zz" }, body: "--zz\r\nbroken" }))).body, "ERROR_KEY_DOES_NOT_EXIST");
    }, gatewayHarness()));

  test("a client reads only its own tasks: another client's id is ERROR_WRONG_CAPTCHA_ID", () =>
    withHarness(async (h) => {
      const id = (await text(await q(h, "/in.php", { key: CLIENT_KEY, method: "base64", body: PNG }))).body.slice(3);
      assert.equal((await text(await q(h, "/res.php", { key: OTHER_KEY, action: "get", id }))).body, "ERROR_WRONG_CAPTCHA_ID");
    }, gatewayHarness()));

  test("ERROR_NO_SLOT_AVAILABLE when the queue is full, when draining, and past the client's max_in_flight", () =>
    withHarness(async (h) => {
      assert.match((await text(await q(h, "/in.php", { key: OTHER_KEY, method: "base64", body: PNG }))).body, /^OK\|/);
      assert.equal((await text(await q(h, "/in.php", { key: OTHER_KEY, method: "base64", body: PNG }))).body, "ERROR_NO_SLOT_AVAILABLE", "bravo: max_in_flight=1");
      for (let i = 0; i < 3; i++) await q(h, "/in.php", { key: CLIENT_KEY, method: "base64", body: PNG });
      const full = await (await q(h, "/in.php", { key: CLIENT_KEY, method: "base64", body: PNG, json: "1" })).json();
      assert.deepEqual(full, { status: 0, request: "ERROR_NO_SLOT_AVAILABLE" });
      h.worker.beginDrain();
      assert.equal((await text(await q(h, "/in.php", { key: CLIENT_KEY, method: "base64", body: PNG }))).body, "ERROR_NO_SLOT_AVAILABLE");
      const metrics = await (await fetch(`${h.base}/metrics`)).text();
      assert.match(metrics, /captcha_worker_client_tasks_total\{client="alpha"\} 2/);
      assert.match(metrics, /captcha_worker_client_refusals_total\{client="bravo"\} 1/);
      assert.ok(!metrics.includes(CLIENT_KEY) && !h.logs.join("\n").includes(CLIENT_KEY), "client keys never shown");
    }, { ...gatewayHarness({ "queue-max": "2", threads: "1" }) }));

  test("a client's max_in_flight counts its open tasks from both APIs; the in-flight gauge does too", () =>
    withHarness(async (h) => {
      const v1 = () => fetch(`${h.base}/v1/tasks`, { method: "POST", headers: { authorization: `Bearer ${OTHER_KEY}`, "content-type": "application/json" }, body: JSON.stringify({ type: "image", image: PNG }) });
      const gauge = async () => /captcha_worker_client_in_flight\{client="bravo"\} (\d+)/.exec(await (await fetch(`${h.base}/metrics`)).text())?.[1];
      const first = await v1();
      assert.equal(first.status, 202, "bravo's one slot, taken through /v1/tasks");
      const { id } = (await first.json()) as { id: string };
      assert.equal(await gauge(), "1");
      assert.equal((await text(await q(h, "/in.php", { key: OTHER_KEY, method: "base64", body: PNG }))).body, "ERROR_NO_SLOT_AVAILABLE", "the gateway sees it");
      const second = await v1();
      assert.equal(second.status, 429, "and so does /v1/tasks");
      const problem = (await second.json()) as { code: string; detail: string };
      assert.equal(problem.code, "ERR_CLIENT_LIMIT");
      assert.match(problem.detail, /bravo holds 1 open tasks, its max_in_flight/);
      assert.equal(second.headers.get("retry-after"), "5");
      await advance(h.clock, 3000);
      await eventually(() => h.worker.pool.find(id)?.status === "solved", "solved");
      assert.equal(await gauge(), "0", "an ended /v1 task frees the slot once, never below 0");
      assert.match((await text(await q(h, "/in.php", { key: OTHER_KEY, method: "base64", body: PNG }))).body, /^OK\|/);
      assert.equal((await v1()).status, 429, "the gateway's task holds the slot for /v1/tasks too");
      // The per-client counters follow the client over both APIs.
      const metrics = await (await fetch(`${h.base}/metrics`)).text();
      assert.match(metrics, /^captcha_worker_client_tasks_total\{client="bravo"\} 2$/m, "one /v1 and one gateway task accepted");
      assert.match(metrics, /^captcha_worker_client_refusals_total\{client="bravo"\} 3$/m, "one gateway and two /v1 refusals");
      assert.match(metrics, /^captcha_worker_client_task_outcomes_total\{client="bravo",status="solved"\} 1$/m);
    }, gatewayHarness()));

  test("without --client-keys-file the gateway paths answer 404", () =>
    withHarness(async (h) => {
      for (const p of ["/in.php", "/res.php", "/createTask", "/getTaskResult"]) assert.equal((await fetch(h.base + p, { method: "POST", body: "{}" })).status, 404, p);
    }));

  test("client keys are bearer tokens of /v1/tasks: with the file, a key is required there", () =>
    withHarness(async (h) => {
      const body = JSON.stringify({ type: "image", image: PNG });
      const headers = { "content-type": "application/json" };
      assert.equal((await fetch(`${h.base}/v1/tasks`, { method: "POST", headers, body })).status, 401);
      assert.equal((await fetch(`${h.base}/v1/tasks`, { method: "POST", headers: { ...headers, authorization: "Bearer wrong-key-000000" }, body })).status, 401);
      const ok = await fetch(`${h.base}/v1/tasks`, { method: "POST", headers: { ...headers, authorization: `Bearer ${CLIENT_KEY}` }, body });
      assert.equal(ok.status, 202);
      const { id } = (await ok.json()) as { id: string };
      assert.match(id, /^[1-9]\d*$/, "the same integer ids as the gateway, as decimal strings");
      assert.equal((await text(await q(h, "/res.php", { key: CLIENT_KEY, action: "get", id }))).body, "CAPCHA_NOT_READY", "one id scheme for both APIs");
    }, gatewayHarness()));

  test("a client sees only its own tasks, whichever API made or reads them: another's is unknown (and its report refused)", () =>
    withHarness(async (h) => {
      const bearer = (key: string) => ({ authorization: `Bearer ${key}`, "content-type": "application/json" });
      const bobs = (await (await fetch(`${h.base}/v1/tasks`, { method: "POST", headers: bearer(OTHER_KEY), body: JSON.stringify({ type: "image", image: PNG }) })).json()) as { id: string };
      const alices = (await (await q(h, "/in.php", { key: CLIENT_KEY, method: "base64", body: PNG })).text()).slice(3);
      await advance(h.clock, 3000);
      assert.equal(await (await q(h, "/res.php", { key: CLIENT_KEY, action: "get", id: bobs.id })).text(), "ERROR_WRONG_CAPTCHA_ID", "alice cannot read bob's /v1 task");
      assert.match(await (await q(h, "/res.php", { key: OTHER_KEY, action: "get", id: bobs.id })).text(), /^OK\|/, "bob can");
      assert.equal((await fetch(`${h.base}/v1/tasks/${alices}`, { headers: bearer(OTHER_KEY) })).status, 404, "bob cannot read alice's task");
      assert.equal((await fetch(`${h.base}/v1/tasks/${alices}/report`, { method: "POST", headers: bearer(OTHER_KEY), body: '{"correct":false}' })).status, 404);
      assert.equal((await fetch(`${h.base}/v1/tasks/${alices}`, { headers: bearer(CLIENT_KEY) })).status, 200, "alice can");
    }, gatewayHarness()));

  test("an upload over the limit still being sent when ERROR_TOO_BIG_CAPTCHA_FILESIZE goes out: the client reads it, the connection half-closed, not reset", () =>
    withHarness(async (h) => {
      const socket = connect({ port: Number(new URL(h.base).port), host: "127.0.0.1", allowHalfOpen: true });
      const errors: string[] = [];
      socket.on("error", (err: NodeJS.ErrnoException) => errors.push(err.code ?? err.message));
      let received = "";
      socket.on("data", (c: Buffer) => (received += c.toString("latin1")));
      const ended = once(socket, "end");
      socket.write("POST /in.php HTTP/1.1\r\nhost: x\r\ncontent-type: multipart/form-data; boundary=zz\r\ntransfer-encoding: chunked\r\n\r\n");
      const chunk = Buffer.alloc(256 * 1024, 0x41);
      socket.write(`${(16 * chunk.length).toString(16)}\r\n`);
      for (let i = 0; i < 16; i++) socket.write(chunk); // 4 MiB of one chunk: past the limit, the rest unread
      await ended; // the answer, then the server's FIN
      assert.match(received, /^HTTP\/1\.1 200 OK\r\n[^]*connection: close\r\n[^]*\r\n\r\nERROR_TOO_BIG_CAPTCHA_FILESIZE$/i);
      // The upload goes on after the answer: the connection is still there to take it.
      await new Promise<void>((resolve, reject) => socket.write(Buffer.alloc(64 * 1024, 0x41), (err) => (err ? reject(err) : resolve())));
      assert.deepEqual(errors, []);
      socket.destroy();
    }, gatewayHarness()));
});
