/**
 * Memory is bounded in bytes (issue 14 finding 8): queued task payloads by --queue-max-bytes (429
 * ERR_QUEUE_FULL with Retry-After), request bodies being read at once by a shared budget (503
 * ERR_BUSY, the body not read, the connection closed), over real sockets.
 */
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { connect, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { describe, test } from "node:test";
import { ByteBudget } from "../../src/base/byte_budget.ts";
import { readJsonBody } from "../../src/http/body.ts";
import { sendProblem } from "../../src/http/problem.ts";
import { advance, eventually, withHarness } from "../_support/harness.ts";
import { readBody } from "../../src/http/body.ts";
import { json } from "../_support/http.ts";
import { pngOfSize } from "../_support/images.ts";

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
