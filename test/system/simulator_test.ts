import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { startSimulator, type Simulator } from "../../src/sim/simulator.ts";
import { isWorkerError } from "../../src/base/errors.ts";
import { spawnCli } from "../_support/cli.ts";
import { Agent, request } from "node:http";
import type { IdleTimeout } from "../../src/sim/idle_connections.ts";
import { FakeClock, settle } from "../_support/fake_clock.ts";
import { json, type Json } from "../_support/http.ts";
import { requireProgram } from "../_support/programs.ts";
import { pngOfSize } from "../_support/images.ts";

const KEY = "sim-test-key0123456789abcdefghij";
const B64 = pngOfSize(150, 3).toString("base64");

describe("simulator protocol", () => {
  let sim: Simulator;
  const clock = new FakeClock();
  before(async () => {
    sim = await startSimulator({ host: "127.0.0.1", port: 0 }, { keys: [KEY], clock, threads: 50, solveTimeMs: { image: 1000, token: 5000 }, balanceUsd: 1, pricePerSolveUsd: 0.5, seed: 3 });
  });
  after(() => sim.close());
  const inUrl = () => new URL("in.php", sim.url);
  const resUrl = () => new URL("res.php", sim.url);
  const form = (fields: Record<string, string>) => ({ method: "POST", body: new URLSearchParams(fields) });

  test("takes parameters from the query, a form, multipart and JSON (with or without its content type)", async () => {
    const q = new URL(inUrl());
    for (const [k, v] of Object.entries({ key: KEY, method: "base64", body: B64, json: "1" })) q.searchParams.set(k, v);
    assert.equal((await json(await fetch(q))).status, 1, "query");
    assert.equal((await json(await fetch(inUrl(), form({ key: KEY, method: "base64", body: B64, json: "1" })))).status, 1, "form");
    const fd = new FormData();
    fd.set("key", KEY);
    fd.set("method", "post");
    fd.set("json", "1");
    fd.set("file", new Blob([pngOfSize(120, 9)]), "c.png");
    assert.equal((await json(await fetch(inUrl(), { method: "POST", body: fd }))).status, 1, "multipart");
    const body = JSON.stringify({ key: KEY, method: "base64", body: B64, json: 1 });
    assert.equal((await json(await fetch(inUrl(), { method: "POST", body, headers: { "content-type": "application/json" } }))).status, 1, "json");
    assert.equal((await json(await fetch(inUrl(), { method: "POST", body, headers: { "content-type": "text/plain" } }))).status, 1, "json without its type");
    // let these solve so they free the threads for the tests below
    await clock.advance(1000);
  });

  test("plain answers without json=1, ids as strings with it", async () => {
    const plain = await (await fetch(inUrl(), form({ key: KEY, method: "base64", body: B64 }))).text();
    assert.match(plain, /^OK\|\d+$/);
    const j = await json(await fetch(inUrl(), form({ key: KEY, method: "base64", body: B64, json: "1" })));
    assert.equal(typeof j.request, "string");
    await clock.advance(1000);
  });

  test("CAPCHA_NOT_READY until the solve time passes; the balance falls by the price on delivery", async () => {
    const id = (await json(await fetch(inUrl(), form({ key: KEY, method: "userrecaptcha", googlekey: "6Le-x-sitekey", pageurl: "https://e.com/", json: "1" })))).request;
    const get = async () => (await fetch(resUrl(), form({ key: KEY, action: "get", id }))).text();
    assert.equal(await get(), "CAPCHA_NOT_READY");
    await clock.advance(4999);
    assert.equal(await get(), "CAPCHA_NOT_READY");
    const before = Number(await (await fetch(resUrl(), form({ key: KEY, action: "getbalance" }))).text());
    await clock.advance(1);
    assert.match(await get(), /^OK\|03AFcWeA/);
    await get();
    const afterSolve = Number(await (await fetch(resUrl(), form({ key: KEY, action: "getbalance" }))).text());
    assert.equal(Math.round((before - afterSolve) * 1000) / 1000, 0.5, "charged once");
  });

  test("thread limit: beyond --threads unsolved tasks, CaptchaAI's ERROR_ZERO_BALANCE (no free threads), or ERROR_NO_SLOT_AVAILABLE when switched; counted", async (t) => {
    const small = await startSimulator({ host: "127.0.0.1", port: 0 }, { keys: [KEY], clock, threads: 2, solveTimeMs: { image: 1000, token: 5000 } });
    t.after(() => small.close());
    const submit = async () => (await fetch(new URL("in.php", small.url), form({ key: KEY, method: "base64", body: B64 }))).text();
    assert.match(await submit(), /^OK\|/);
    assert.match(await submit(), /^OK\|/);
    assert.equal(await submit(), "ERROR_ZERO_BALANCE");
    assert.deepEqual([small.counts().busyThreads, small.counts().capacityRefusals], [2, 1]);
    const ctl = await fetch(new URL("__sim/capacity-code", small.url), { method: "POST", body: JSON.stringify({ code: "ERROR_NO_SLOT_AVAILABLE" }) });
    assert.equal(((await ctl.json()) as Json).capacityCode, "ERROR_NO_SLOT_AVAILABLE");
    assert.equal(await submit(), "ERROR_NO_SLOT_AVAILABLE");
    assert.equal((await fetch(new URL("__sim/capacity-code", small.url), { method: "POST", body: JSON.stringify({ code: "ERROR_BUSY" }) })).status, 400);
    await clock.advance(1000);
    assert.equal(small.counts().busyThreads, 0, "a thread is free once its task is solved");
    assert.match(await submit(), /^OK\|/);
    assert.deepEqual(await json(await fetch(new URL("__sim/counts", small.url))), { ...small.counts(), busyThreads: 1, capacityRefusals: 2 });
    await clock.advance(1000);
    const usage = small.counts();
    assert.deepEqual([usage.busyThreadSeconds, usage.peakBusyThreads], [3, 2], "busy threads over time: two for a second, then one for a second; two at most");
  });

  test("key and parameter errors use the real codes", async () => {
    const text = async (fields: Record<string, string>, url = inUrl()) => (await fetch(url, form(fields))).text();
    assert.equal(await text({ method: "base64", body: B64 }), "ERROR_WRONG_USER_KEY", "no key: not 32 characters");
    assert.equal(await text({ key: "nope", method: "base64", body: B64 }), "ERROR_WRONG_USER_KEY");
    assert.equal(await text({ key: "x".repeat(32), method: "base64", body: B64 }), "ERROR_KEY_DOES_NOT_EXIST", "well-formed, unknown");
    assert.equal(await text({ key: KEY, method: "base64" }), "ERROR_ZERO_CAPTCHA_FILESIZE");
    assert.equal(await text({ key: KEY, method: "userrecaptcha", pageurl: "https://e.com/" }), "ERROR_GOOGLEKEY");
    assert.equal(await text({ key: KEY, method: "userrecaptcha", googlekey: "k" }), "ERROR_PAGEURL");
    assert.equal(await text({ key: KEY, method: "nonsense" }), "ERROR_BAD_PARAMETERS");
    assert.equal(await text({ key: KEY, action: "get", id: "1" }, resUrl()), "ERROR_WRONG_CAPTCHA_ID");
    assert.equal(await text({ key: KEY }, resUrl()), "ERROR_EMPTY_ACTION");
    assert.equal(await text({ key: KEY, action: "reportgood", id: "1" }, resUrl()), "ERROR_WRONG_CAPTCHA_ID");
  });

  test("zero balance refuses submissions with ERROR_ZERO_BALANCE", async () => {
    sim.control.setBalance(0);
    assert.equal(await (await fetch(inUrl(), form({ key: KEY, method: "base64", body: B64 }))).text(), "ERROR_ZERO_BALANCE");
    sim.control.setBalance(1);
  });

  test("unsolvable ratio 1 makes every task ERROR_CAPTCHA_UNSOLVABLE", async () => {
    sim.control.setUnsolvableRatio(1);
    const id = (await (await fetch(inUrl(), form({ key: KEY, method: "base64", body: B64 }))).text()).slice(3);
    await clock.advance(1000);
    assert.equal(await (await fetch(resUrl(), form({ key: KEY, action: "get", id }))).text(), "ERROR_CAPTCHA_UNSOLVABLE");
    sim.control.setUnsolvableRatio(0);
  });

  test("the control API sets faults per endpoint, answers counts, resets", async () => {
    const ctl = (path: string, body?: unknown, method = "POST") =>
      fetch(new URL(`__sim/${path}`, sim.url), { method, body: body === undefined ? undefined : JSON.stringify(body) });
    assert.equal((await ctl("faults", { endpoint: "in.php", status: 503 })).status, 200);
    assert.equal((await fetch(inUrl(), form({ key: KEY, method: "base64", body: B64 }))).status, 503);
    assert.equal((await fetch(resUrl(), form({ key: KEY, action: "getbalance" }))).status, 200, "other endpoints unaffected");
    await ctl("faults", { endpoint: "res.php:getbalance", error: "ERROR_IP_NOT_ALLOWED" });
    assert.equal(await (await fetch(resUrl(), form({ key: KEY, action: "getbalance" }))).text(), "ERROR_IP_NOT_ALLOWED");
    await ctl("faults", { endpoint: "all", html: true, status: 502 });
    assert.match(await (await fetch(resUrl(), form({ key: KEY, action: "get", id: "1" }))).text(), /<html>/);
    assert.equal((await ctl("faults", { endpoint: "bogus" })).status, 400);
    assert.equal((await ctl("faults", { endpoint: "all", status: 99 })).status, 400);
    assert.equal((await ctl("faults", undefined, "DELETE")).status, 200);
    assert.equal((await ctl("balance", { balance: 0.25 })).status, 200);
    assert.equal(Number(await (await fetch(resUrl(), form({ key: KEY, action: "getbalance" }))).text()), 0.25);
    assert.equal((await ctl("unsolvable", { ratio: 2 })).status, 400);
    const counts = await json(await ctl("counts", undefined, "GET"));
    assert.ok(counts.requests["in.php"] > 0 && counts.requests["res.php:getbalance"] > 0 && counts.submitted > 0);
    assert.equal(counts.keyInQuery, 1, "only the query-string test above");
    await ctl("reset");
    assert.deepEqual(await json(await ctl("counts", undefined, "GET")), {
      requests: {}, submitted: 0, keyInQuery: 0, idleClosed: 0, staleDropped: 0, busyThreads: 0, capacityRefusals: 0, busyThreadSeconds: 0, peakBusyThreads: 0, bannedRequests: 0, unsupportedRefusals: 0,
      spentUsd: 0, charged: { image: 0, token: 0 },
    });
    assert.equal((await ctl("nothing-here", undefined, "GET")).status, 404);
  });

  test("a dropped connection and a hang end only that request; close() ends hung ones", async () => {
    sim.control.setFault("res.php:getbalance", { drop: true });
    await assert.rejects(fetch(resUrl(), form({ key: KEY, action: "getbalance" })));
    sim.control.setFault("res.php:getbalance", { hang: true });
    const hung = fetch(resUrl(), form({ key: KEY, action: "getbalance" }));
    assert.equal((await fetch(inUrl(), form({ key: KEY, method: "base64", body: B64 }))).status, 200);
    sim.control.clearFaults();
    await assert.rejects(hung);
  });
});

describe("simulator idle timeout", () => {
  /** One POST on `agent` (a kept-alive connection when one is free): its status and Keep-Alive header, or the error's code. */
  const post = (url: URL, agent: Agent) =>
    new Promise<{ status: number; keepAlive: string | undefined; reused: boolean } | { error: string; reused: boolean }>((resolve) => {
      const req = request(new URL("res.php", url), { method: "POST", agent, headers: { "content-type": "application/x-www-form-urlencoded" } }, (res) => {
        res.resume();
        res.on("end", () => resolve({ status: res.statusCode!, keepAlive: res.headers["keep-alive"] as string | undefined, reused: req.reusedSocket }));
      });
      req.on("error", (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? "UNKNOWN", reused: req.reusedSocket }));
      req.end(`key=${KEY}&action=getbalance`);
    });
  const withSim = async (idleTimeout: IdleTimeout | undefined, fn: (s: Simulator, clock: FakeClock, agent: Agent) => Promise<void>) => {
    const clock = new FakeClock();
    const s = await startSimulator({ host: "127.0.0.1", port: 0 }, { keys: [], clock, idleTimeout });
    const agent = new Agent({ keepAlive: true });
    try {
      await fn(s, clock, agent);
    } finally {
      agent.destroy();
      await s.close();
    }
  };

  test("by default Node's own: 5 s, announced in a Keep-Alive header", async () => {
    await withSim(undefined, async (s, _clock, agent) => {
      assert.deepEqual(await post(s.url, agent), { status: 200, keepAlive: "timeout=5", reused: false });
      assert.equal(s.control.state().idleTimeout, null);
    });
  });

  test("close: an idle connection is closed at the timeout on the simulator's clock, unannounced", async () => {
    await withSim({ idleMs: 1000, onIdle: "close" }, async (s, clock, agent) => {
      assert.deepEqual(await post(s.url, agent), { status: 200, keepAlive: undefined, reused: false });
      await clock.advance(999);
      assert.deepEqual(await post(s.url, agent), { status: 200, keepAlive: undefined, reused: true });
      await clock.advance(1000);
      for (let i = 0; i < 1000 && Object.keys(agent.freeSockets).length > 0; i++) await settle(1); // the close reaches the client
      assert.equal(s.counts().idleClosed, 1);
      assert.deepEqual(await post(s.url, agent), { status: 200, keepAlive: undefined, reused: false }, "the client saw the close");
    });
  });

  test("close with a latency: a request sent before the close reached the client is closed unanswered, not counted", async () => {
    await withSim({ idleMs: 1000, onIdle: "close", closeLatencyMs: 100 }, async (s, clock, agent) => {
      await post(s.url, agent);
      await clock.advance(1050);
      assert.deepEqual(await post(s.url, agent), { error: "ECONNRESET", reused: true });
      assert.deepEqual([s.counts().requests["res.php:getbalance"], s.counts().staleDropped], [1, 1]);
    });
  });

  test("reset: the connection stays open; a request on it after the timeout is reset, one at the timeout answered", async () => {
    await withSim({ idleMs: 1000, onIdle: "reset" }, async (s, clock, agent) => {
      await post(s.url, agent);
      await clock.advance(1000);
      assert.deepEqual(await post(s.url, agent), { status: 200, keepAlive: undefined, reused: true });
      await clock.advance(1001);
      assert.deepEqual(await post(s.url, agent), { error: "ECONNRESET", reused: true });
      assert.deepEqual([s.counts().requests["res.php:getbalance"], s.counts().staleDropped, s.counts().idleClosed], [2, 1, 0]);
    });
  });

  test("the control API sets it, shows it and restores Node's own", async () => {
    await withSim(undefined, async (s, clock, agent) => {
      // Each control call on a connection of its own: a kept-alive one would meet the reset it sets.
      const ctl = (body?: unknown, method = "POST") =>
        new Promise<{ status: number; state: Json }>((resolve, reject) => {
          const req = request(new URL("__sim/idle-timeout", s.url), { method, agent: false }, (res) => {
            let text = "";
            res.on("data", (c: Buffer) => (text += c));
            res.on("end", () => resolve({ status: res.statusCode!, state: JSON.parse(text) }));
          });
          req.on("error", reject);
          req.end(body === undefined ? undefined : JSON.stringify(body));
        });
      const set = await ctl({ idle_ms: 1000, on_idle: "reset" });
      assert.equal(set.status, 200);
      assert.deepEqual(set.state.idleTimeout, { idleMs: 1000, onIdle: "reset", closeLatencyMs: 0 });
      await post(s.url, agent);
      await clock.advance(1001);
      assert.deepEqual(await post(s.url, agent), { error: "ECONNRESET", reused: true });
      for (const bad of [{}, { idle_ms: 0 }, { idle_ms: 1000, on_idle: "drop" }, { idle_ms: 1000, close_latency_ms: -1 }]) {
        assert.equal((await ctl(bad)).status, 400, JSON.stringify(bad));
      }
      assert.equal((await ctl(undefined, "DELETE")).state.idleTimeout, null);
      assert.equal(((await post(s.url, agent)) as { keepAlive: string }).keepAlive, "timeout=5");
    });
  });
});

describe("simulator determinism and limits", () => {
  test("the same seed gives the same ids and answers", async () => {
    const run = async () => {
      const clock = new FakeClock();
      const s = await startSimulator({ host: "127.0.0.1", port: 0 }, { keys: [], clock, seed: 99, solveTimeMs: { image: 0, token: 0 } });
      const id = (await (await fetch(new URL("in.php", s.url), { method: "POST", body: new URLSearchParams({ key: KEY, method: "base64", body: B64 }) })).text()).slice(3);
      const answer = await (await fetch(new URL("res.php", s.url), { method: "POST", body: new URLSearchParams({ key: KEY, action: "get", id }) })).text();
      await s.close();
      return [id, answer];
    };
    assert.deepEqual(await run(), await run());
  });

  test("a taken address rejects with ERR_LISTEN naming it", async () => {
    const first = await startSimulator({ host: "127.0.0.1", port: 0 }, { keys: [] });
    try {
      await assert.rejects(
        startSimulator(first.address, { keys: [] }),
        (err: unknown) => isWorkerError(err, "ERR_LISTEN") && err.message.includes(`127.0.0.1:${first.address.port}`) && (err.cause as NodeJS.ErrnoException).code === "EADDRINUSE",
      );
    } finally {
      await first.close();
    }
  });

  test("a body over 4 MiB ends the connection unanswered and is not counted; the simulator keeps serving", async () => {
    const s = await startSimulator({ host: "127.0.0.1", port: 0 }, { keys: [] });
    try {
      await assert.rejects(fetch(new URL("in.php", s.url), { method: "POST", body: new URLSearchParams({ key: KEY, method: "base64", body: "A".repeat(5 * 1024 * 1024) }) }));
      assert.deepEqual(s.counts().requests, {});
      const ok = await fetch(new URL("in.php", s.url), { method: "POST", body: new URLSearchParams({ key: KEY, method: "base64", body: B64 }) });
      assert.match(await ok.text(), /^OK\|\d+$/);
    } finally {
      await s.close();
    }
  });
});

describe("captcha-worker simulate", () => {
  test("answers a curl multipart upload with OK|ID and stops on SIGTERM", async (t) => {
    const curl = requireProgram(t, "curl", "curl");
    if (!curl) return;
    const child = spawnCli(["simulate", "--listen", "127.0.0.1:0", "--key", KEY, "--seed", "1"]);
    const listen = await new Promise<string>((resolve, reject) => {
      let buf = "";
      child.stderr!.on("data", (c: Buffer) => {
        buf += c;
        const m = /"msg":"simulator started","listen":"([^"]+)"/.exec(buf);
        if (m) resolve(m[1]!);
      });
      child.once("exit", () => reject(new Error(buf)));
    });
    const dir = mkdtempSync(join(tmpdir(), "sim-"));
    writeFileSync(join(dir, "x.png"), pngOfSize(200, 5));
    const out = execFileSync(curl, ["-s", "-F", `key=${KEY}`, "-F", "method=post", "-F", `file=@${join(dir, "x.png")}`, `http://${listen}/in.php`], { encoding: "utf8" });
    assert.match(out, /^OK\|\d+$/);
    child.kill("SIGTERM");
    const [code] = await once(child, "exit");
    assert.equal(code, 0);
  });

  test("--idle-timeout and --idle-mode set an unannounced idle timeout; --capacity-code and --unsupported their switches", async () => {
    const child = spawnCli(["simulate", "--listen", "127.0.0.1:0", "--idle-timeout", "1500ms", "--idle-mode", "reset", "--capacity-code", "ERROR_NO_SLOT_AVAILABLE", "--unsupported", "geetest,lemin"]);
    const listen = await new Promise<string>((resolve, reject) => {
      let buf = "";
      child.stderr!.on("data", (c: Buffer) => {
        buf += c;
        const m = /"msg":"simulator started","listen":"([^"]+)"/.exec(buf);
        if (m) resolve(m[1]!);
      });
      child.once("exit", () => reject(new Error(buf)));
    });
    const state = await json(await fetch(`http://${listen}/__sim/state`));
    assert.deepEqual(state.idleTimeout, { idleMs: 1500, onIdle: "reset" });
    assert.deepEqual([state.capacityCode, state.unsupported], ["ERROR_NO_SLOT_AVAILABLE", { methods: ["geetest", "lemin"], code: "ERROR_METHOD_CALL" }]);
    child.kill("SIGTERM");
    await once(child, "exit");
  });

  test("bad flags exit 78 naming them; unknown flags exit 2", async () => {
    for (const [args, code, pattern] of [
      [["simulate", "--idle-timeout", "soon"], 78, /--idle-timeout/],
      [["simulate", "--idle-mode", "drop"], 78, /--idle-mode/],
      [["simulate", "--threads", "0"], 78, /--threads/],
      [["simulate", "--solve-time", "soon"], 78, /--solve-time/],
      [["simulate", "--listen", "nope"], 78, /--listen/],
      [["simulate", "--capacity-code", "ERROR_BUSY"], 78, /--capacity-code/],
      [["simulate", "--dialect", "nextcaptcha"], 78, /--dialect/],
      [["simulate", "--unsupported", "Geetest!"], 78, /--unsupported/],
      [["simulate", "--key", "short"], 78, /--key: expected 32 printable characters/],
      [["simulate", "--frob"], 2, /--frob/],
    ] as const) {
      const child = spawnCli([...args]);
      let err = "";
      child.stderr!.on("data", (c: Buffer) => (err += c));
      const [exit] = await once(child, "exit");
      assert.equal(exit, code, args.join(" "));
      assert.match(err, pattern);
    }
  });
});
