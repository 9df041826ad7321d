/**
 * Memory is bounded in bytes (docs/sizing-and-performance.md, Sizing): queued task payloads by --queue-max-bytes (429
 * ERR_QUEUE_FULL with Retry-After), request bodies being read at once by one budget shared by every
 * API (503 ERR_BUSY or the gateway's ERROR_NO_SLOT_AVAILABLE, the body not read, the connection
 * closed), over real sockets.
 */
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { connect, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { describe, test } from "node:test";
import { ByteBudget } from "../../src/base/byte_budget.ts";
import { DEFAULT_BODY_BUDGET, DEFAULT_BODY_LIMIT, readJsonBody } from "../../src/http/body.ts";
import { sendProblem } from "../../src/http/problem.ts";
import { advance, eventually, withHarness } from "../_support/harness.ts";
import { readBody } from "../../src/http/body.ts";
import { json } from "../_support/http.ts";
import { pngOfSize } from "../_support/images.ts";
import { CLIENT_KEY, gatewayHarness, PNG } from "../_support/gateway.ts";

const KB = 1024;
/** A real PNG of `bytes` base64 characters (the simulator, as CaptchaAI, refuses files that are no jpg, png or gif). */
const image = (bytes: number, fill = 1) => ({ type: "image", image: pngOfSize((bytes / 4) * 3, fill).toString("base64") });

describe("--queue-max-bytes", () => {
  test("a task whose payload would pass the byte budget gets 429 ERR_QUEUE_FULL with Retry-After; ended tasks free their bytes", () =>
    withHarness(
      async (h) => {
        const post = (body: unknown) => fetch(h.base + "/v1/tasks", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
        const accepted: string[] = [];
        for (let i = 0; i < 2; i++) {
          const res = await post(image(400 * KB, i + 1));
          assert.equal(res.status, 202);
          accepted.push((await json(res)).id);
        }
        assert.ok(h.worker.pool.stored.openBytes > 800 * KB);
        const full = await post(image(400 * KB, 9));
        assert.equal(full.status, 429);
        assert.equal(full.headers.get("retry-after"), "5");
        const problem = await json(full);
        assert.equal(problem.code, "ERR_QUEUE_FULL");
        assert.match(problem.detail, /of 1048576 bytes/);
        assert.equal((await post(image(4 * KB, 3))).status, 202, "a small task still fits");
        // Both big tasks end: their payload bytes leave the budget and a big one fits again.
        await advance(h.clock, 12_000);
        await eventually(() => accepted.every((id) => h.worker.pool.find(id)?.status === "solved"), "solved");
        assert.ok(h.worker.pool.stored.openBytes < 400 * KB);
        assert.equal((await post(image(400 * KB, 9))).status, 202);
      },
      { flags: { "queue-max-bytes": "1MiB", threads: "5" } },
    ));
});

describe("retained results", () => {
  test("the simulator's answerLength gives long solutions, which the retained byte count carries", () =>
    withHarness(
      async (h) => {
        const res = await fetch(h.base + "/v1/tasks", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(image(4 * KB)) });
        const { id } = await json(res);
        await advance(h.clock, 6000);
        await eventually(() => h.worker.pool.find(id)?.status === "solved", "solved");
        const got = await json(await fetch(`${h.base}/v1/tasks/${id}`));
        assert.equal(got.solution.length, 60_000);
        assert.ok(h.worker.pool.stored.finishedBytes >= 60_000, "the solution counts");
        assert.ok(h.worker.pool.stored.finishedBytes < 60_000 + 1024, `the image does not (emptied at the end): ${h.worker.pool.stored.finishedBytes}`);
      },
      { sim: { answerLength: 60_000 } },
    ));
});

describe("request body budget", () => {
  test("slow bodies hold at most the budget together: past it a request is answered 503 ERR_BUSY at once and closed; room comes back as bodies end", async () => {
    const budget = new ByteBudget(2 * 1024 * KB);
    const server = createServer((req, res) => {
      readJsonBody(req, 1024 * KB, budget).then(
        () => res.writeHead(200).end("ok"),
        (err: unknown) => sendProblem(res, err),
      );
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const { port } = server.address() as AddressInfo;
    const slow = (length: number): Socket => {
      const s = connect(port, "127.0.0.1");
      s.write(`POST / HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${length}\r\n\r\n{"a":"`);
      return s;
    };
    const answer = (s: Socket) =>
      new Promise<string>((resolve) => {
        let text = "";
        s.on("data", (c) => (text += c));
        s.on("close", () => resolve(text));
        s.on("error", () => resolve(text));
      });
    try {
      const holders = [slow(1024 * KB), slow(1024 * KB)];
      await eventually(() => budget.used === 2 * 1024 * KB, "two slow bodies hold the budget");
      const third = slow(10 * KB);
      const refused = await answer(third);
      assert.match(refused, /^HTTP\/1\.1 503 /);
      assert.match(refused, /retry-after: 1/i);
      assert.match(refused, /connection: close/i);
      assert.match(refused, /"code":"ERR_BUSY"/);
      assert.equal(budget.used, 2 * 1024 * KB, "nothing taken for the refused body");
      // One slow body goes away: its share comes back.
      holders[0]!.destroy();
      await eventually(() => budget.used === 1024 * KB, "the gone body's share given back");
      const body = JSON.stringify({ a: "x".repeat(100) });
      const ok = await fetch(`http://127.0.0.1:${port}/`, { method: "POST", headers: { "content-type": "application/json" }, body });
      assert.equal(ok.status, 200);
      holders[1]!.destroy();
      await eventually(() => budget.used === 0, "all given back");
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });

  test("the gateway's bodies read against the same kind of budget, before any key is looked at: past it the answer is no-slot", async () => {
    const budget = new ByteBudget(2 * 1024 * KB);
    const server = createServer((req, res) => {
      readBody(req, 3 * 1024 * KB, budget).then(
        () => res.writeHead(200).end("read"),
        (err: { code?: string }) => res.writeHead(200).end(err.code === "ERR_BUSY" ? "busy" : String(err.code)),
      );
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const { port } = server.address() as AddressInfo;
    const slow = (length: number): Socket => {
      const s = connect(port, "127.0.0.1");
      s.write(`POST /in.php HTTP/1.1\r\nhost: x\r\ncontent-type: application/x-www-form-urlencoded\r\ncontent-length: ${length}\r\n\r\nmethod=base64&body=`);
      return s;
    };
    try {
      const holders = [slow(1024 * KB), slow(1024 * KB)];
      await eventually(() => budget.used === 2 * 1024 * KB, "two slow bodies hold the budget");
      const third = await fetch(`http://127.0.0.1:${port}/in.php`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "key=x&method=base64&body=abc" });
      assert.equal(await third.text(), "busy");
      holders.forEach((h) => h.destroy());
      await eventually(() => budget.used === 0, "all given back");
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});

describe("the default body budget, through the worker", () => {
  test("one budget for every API: slow bodies that fill it get /v1/tasks 503 ERR_BUSY with Retry-After, in.php and createTask ERROR_NO_SLOT_AVAILABLE, each closing the connection; room comes back", () =>
    withHarness(async (h) => {
      const { port } = new URL(h.base);
      // The largest task bodies, declared and never sent: together they hold the whole budget.
      const holders = Array.from({ length: DEFAULT_BODY_BUDGET / DEFAULT_BODY_LIMIT }, () => {
        const s = connect(Number(port), "127.0.0.1");
        s.on("error", () => {});
        s.write(`POST /v1/tasks HTTP/1.1\r\nhost: w\r\nauthorization: Bearer ${CLIENT_KEY}\r\ncontent-type: application/json\r\ncontent-length: ${DEFAULT_BODY_LIMIT}\r\n\r\n{"type":"image","image":"`);
        return s;
      });
      const legacy = () => fetch(`${h.base}/in.php`, { method: "POST", body: new URLSearchParams({ key: CLIENT_KEY, method: "base64", body: PNG }) });
      try {
        // Until the server has read every holder's headers a small body may still fit.
        let refused: Response | undefined;
        for (let i = 0; i < 200 && !refused; i++) {
          const res = await legacy();
          const body = await res.text();
          if (body === "ERROR_NO_SLOT_AVAILABLE") refused = res;
          else assert.match(body, /^OK\|\d+$/);
        }
        assert.ok(refused, "in.php refused once the budget was full");
        assert.equal(refused.headers.get("connection"), "close", "the body was not read");
        const v2 = await fetch(`${h.base}/createTask`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ clientKey: CLIENT_KEY, task: { type: "ImageToTextTask", body: PNG } }) });
        assert.equal(v2.headers.get("connection"), "close");
        const answer = await json(v2);
        assert.deepEqual([answer.errorId, answer.errorCode], [2, "ERROR_NO_SLOT_AVAILABLE"]);
        const native = await fetch(`${h.base}/v1/tasks`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${CLIENT_KEY}` }, body: JSON.stringify({ type: "image", image: PNG }) });
        assert.equal(native.status, 503);
        assert.equal(native.headers.get("retry-after"), "1");
        assert.equal(native.headers.get("connection"), "close");
        assert.equal((await json(native)).code, "ERR_BUSY");
        // One holder goes: its share comes back and a submit is taken again.
        holders[0]!.destroy();
        let taken = false;
        for (let i = 0; i < 200 && !taken; i++) taken = /^OK\|\d+$/.test(await (await legacy()).text());
        assert.ok(taken, "in.php taken again once a holder left");
      } finally {
        for (const s of holders) s.destroy();
      }
    }, gatewayHarness()));
});
