// Gateway callbacks over real sockets: pingback and callbackUrl bodies, retries on the fake clock,
// no redirects followed, hosts outside --callback-allow refused, and the journal keeping them.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { createServer as createTcpServer, type AddressInfo, type Socket } from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { JOURNAL_FILE } from "../../src/journal/file_journal.ts";
import { CLIENT_KEY, gatewayHarness, PNG } from "../_support/gateway.ts";
import { advance, eventually, withHarness, type Harness } from "../_support/harness.ts";
import type { FakeClock } from "../_support/fake_clock.ts";
import { journalLines, tempDir } from "../_support/temp_dirs.ts";

interface Hit {
  path: string;
  type: string;
  body: string;
}

/** A scripted receiver: answers each request with the next status of `script` (then 200). */
let receiver: Server;
let hits: Hit[] = [];
let script: number[] = [];
let hook = "";
before(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      hits.push({ path: req.url ?? "", type: String(req.headers["content-type"]), body: Buffer.concat(chunks).toString() });
      const status = script.shift() ?? 200;
      res.writeHead(status, status === 302 ? { location: `${hook}/redirected` } : {}).end();
    });
  });
  await new Promise<void>((ok) => receiver.listen(0, "127.0.0.1", ok));
  hook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
});
after(() => new Promise<void>((ok) => receiver.close(() => ok())));

const allowed = (extra: Record<string, string> = {}) => gatewayHarness({ "callback-allow": "127.0.0.1", ...extra });
const inPhp = async (h: Harness, params: Record<string, string>) => (await (await fetch(`${h.base}/in.php?${new URLSearchParams({ key: CLIENT_KEY, ...params })}`)).text());

/**
 * Advances `ms`, then on in small steps until `n` callbacks arrived (at most 30 s more): a submit and
 * a callback each wait for the journal's fsync, which a busy disk can make late for the clock.
 */
async function settle(h: Harness, n: number, ms = 2000) {
  await advance(h.clock, ms);
  for (let extra = 0; hits.length < n && extra < 30_000; extra += 250) await advance(h.clock, 250);
  await eventually(() => hits.length >= n, `${n} callback(s)`);
}

/** Real I/O (a journal fsync, then the POST) with the fake clock still: more event-loop turns than `eventually`'s default. */
const seen = (cond: () => boolean, what: string) => eventually(cond, what, 500_000);

describe("gateway callbacks", () => {
  test("pingback POSTs a form with id and code (the answer) when the task is solved", () =>
    withHarness(async (h) => {
      hits = [];
      const id = (await inPhp(h, { method: "base64", body: PNG, pingback: `${hook}/pingback` })).slice(3);
      await settle(h, 1);
      assert.equal(hits[0]!.path, "/pingback");
      assert.equal(hits[0]!.type, "application/x-www-form-urlencoded");
      const form = new URLSearchParams(hits[0]!.body);
      assert.equal(form.get("id"), id);
      assert.equal(form.get("code"), h.worker.pool.find(id)!.solution);
    }, allowed()));

  test("callbackUrl POSTs the getTaskResult answer as JSON with taskId", () =>
    withHarness(async (h) => {
      hits = [];
      const created = (await (await fetch(`${h.base}/createTask`, { method: "POST", body: JSON.stringify({ clientKey: CLIENT_KEY, task: { type: "ImageToTextTask", body: PNG }, callbackUrl: `${hook}/v2` }) })).json()) as { taskId: number };
      await settle(h, 1);
      const body = JSON.parse(hits[0]!.body) as Record<string, unknown>;
      assert.equal(hits[0]!.type, "application/json");
      assert.deepEqual([body.taskId, body.errorId, body.status], [created.taskId, 0, "ready"]);
      assert.match((body.solution as { text: string }).text, /^[a-z0-9]{6}$/);
    }, allowed()));

  test("a callback answered 500 is retried after the back-off, then delivered", () =>
    withHarness(async (h) => {
      hits = [];
      script = [500];
      await inPhp(h, { method: "base64", body: PNG, pingback: `${hook}/retry` });
      await settle(h, 1);
      await advance(h.clock, 5000);
      await eventually(() => hits.length === 2, "the retry");
      assert.match(await (await fetch(`${h.base}/metrics`)).text(), /captcha_worker_callbacks_total\{outcome="delivered"\} 1/);
    }, allowed()));

  test("a redirect is never followed", () =>
    withHarness(async (h) => {
      hits = [];
      script = [302];
      await inPhp(h, { method: "base64", body: PNG, pingback: `${hook}/moved` });
      await settle(h, 1);
      await advance(h.clock, 300_000, 5000);
      assert.deepEqual(hits.map((x) => x.path), ["/moved"]);
      assert.match(await (await fetch(`${h.base}/metrics`)).text(), /captcha_worker_callbacks_total\{outcome="failed"\} 1/);
    }, allowed()));

  test("a host outside --callback-allow is refused at submit: by name (localhost for 127.0.0.1) and without the flag", async () => {
    await withHarness(async (h) => {
      assert.equal(await inPhp(h, { method: "base64", body: PNG, pingback: hook.replace("127.0.0.1", "localhost") + "/x" }), "ERROR_BAD_PARAMETERS");
      assert.equal(await inPhp(h, { method: "base64", body: PNG, pingback: "http://user:pw@127.0.0.1/x" }), "ERROR_BAD_PARAMETERS");
      assert.equal(await inPhp(h, { method: "base64", body: PNG, pingback: "file:///etc/passwd" }), "ERROR_BAD_PARAMETERS");
    }, allowed());
    await withHarness(async (h) => {
      assert.equal(await inPhp(h, { method: "base64", body: PNG, pingback: `${hook}/x` }), "ERROR_BAD_PARAMETERS");
    }, gatewayHarness());
  });

  test("the callback rides in the journal's accept record, so a task open across a restart still calls back", async () => {
    const dir = tempDir();
    await withHarness(async (h) => {
      const id = (await inPhp(h, { method: "base64", body: PNG, pingback: `${hook}/journaled` })).slice(3);
      const accept = journalLines(dir).find((r) => r.op === "accept" && r.id === id)!;
      assert.deepEqual((accept.params as Record<string, unknown>).callback, { url: `${hook}/journaled`, format: "pingback" });
      assert.equal((accept.params as Record<string, unknown>).client, "alpha");
    }, allowed({ "state-dir": dir }));
    // A journal as an earlier process left it: the task accepted, never submitted.
    const restartDir = tempDir();
    const now = Date.UTC(2026, 0, 1);
    const params = { type: "image", image: PNG, client: "alpha", callback: { url: `${hook}/after-restart`, format: "pingback" } };
    writeFileSync(join(restartDir, JOURNAL_FILE), JSON.stringify({ op: "accept", id: "12345678", type: "image", params, created_at: now, deadline_at: now + 600_000 }) + "\n");
    hits = [];
    await withHarness(async (h) => {
      await settle(h, 1, 3000);
      assert.equal(hits[0]!.path, "/after-restart");
      assert.equal(new URLSearchParams(hits[0]!.body).get("id"), "12345678");
      assert.equal(await (await fetch(`${h.base}/res.php?key=${CLIENT_KEY}&action=get&id=12345678`)).text(), `OK|${h.worker.pool.find("12345678")!.solution}`);
    }, allowed({ "state-dir": restartDir }));
  });

  test("with --state-dir a callback still owed at a stop resumes at the next start with the attempts it has left: five in all, then none", async () => {
    const dir = tempDir();
    hits = [];
    script = Array.from({ length: 10 }, () => 503);
    const owed = () => hits.filter((x) => x.path === "/owed").length;
    const pending = (h: Harness) => /^captcha_worker_callbacks_pending (\d+)$/m.exec(h.worker.registry.render())?.[1];
    try {
      await withHarness(async (h) => {
        await inPhp(h, { method: "base64", body: PNG, pingback: `${hook}/owed` });
        await settle(h, 1);
        await advance(h.clock, 6000);
        await seen(() => owed() === 2, "the second attempt");
        assert.equal(pending(h), "1");
      }, allowed({ "state-dir": dir }));
      // Stopped while its third attempt waited 15 s: the next start makes it at once, then the last two
      // (45 and 180 s apart; each advance overshoots by less than the next wait).
      await withHarness(async (h) => {
        await seen(() => owed() === 3, "resumed at start");
        await advance(h.clock, 60_000, 1000);
        await seen(() => owed() === 4, "the fourth attempt");
        await advance(h.clock, 200_000, 5000);
        await seen(() => owed() === 5, "the fifth attempt");
        await advance(h.clock, 600_000, 20_000);
        assert.equal(owed(), 5, "never a sixth");
        assert.equal(pending(h), "0");
        assert.match(h.worker.registry.render(), /^captcha_worker_callbacks_total\{outcome="failed"\} 1$/m);
      }, allowed({ "state-dir": dir }));
      await withHarness(async (h) => {
        await advance(h.clock, 10_000);
        assert.equal(owed(), 5, "settled: not resumed again");
      }, allowed({ "state-dir": dir }));
    } finally {
      script = [];
    }
  });

  test("a receiver that never finishes its answer holds nothing: the worker reads the status and hangs up", async () => {
    const held = new Set<import("node:net").Socket>();
    let closed = 0;
    const drip = createServer((req, res) => {
      held.add(req.socket);
      req.socket.on("close", () => void closed++);
      req.resume();
      req.on("end", () => {
        res.writeHead(200, { "content-type": "text/plain" });
        res.write("x"); // and never more, never the end
      });
    });
    await new Promise<void>((ok) => drip.listen(0, "127.0.0.1", ok));
    const port = (drip.address() as AddressInfo).port;
    try {
      await withHarness(async (h) => {
        await inPhp(h, { method: "base64", body: PNG, pingback: `http://127.0.0.1:${port}/drip` });
        await advance(h.clock, 2000);
        await eventually(() => held.size === 1 && closed === 1, "the worker closed the dripping answer after its status");
        assert.equal(h.worker.registry.render().match(/captcha_worker_callbacks_total\{outcome="delivered"\} (\d+)/)?.[1], "1");
      }, allowed());
    } finally {
      for (const s of held) s.destroy();
      await new Promise<void>((ok) => drip.close(() => ok()));
    }
  });

  test("a receiver trickling its status line a byte every 3 s is cut at each attempt's 10 s deadline on the worker's clock; after the last attempt the callback fails and frees its slot", async () => {
    const status = Buffer.from("HTTP/1.1 200 OK\r\n");
    const held: { socket: Socket; at: number; sent: number }[] = [];
    let closed = 0;
    let clock: FakeClock | undefined;
    const trickle = createTcpServer((socket) => {
      held.push({ socket, at: clock!.now(), sent: 0 });
      socket.on("error", () => {});
      socket.once("close", () => void closed++);
      socket.resume();
    });
    await new Promise<void>((ok) => trickle.listen(0, "127.0.0.1", ok));
    const drip = () => {
      for (const h of held) if (!h.socket.destroyed && h.sent < status.length) h.socket.write(status.subarray(h.sent, ++h.sent));
    };
    const gauge = (h: Harness, name: string) => Number(new RegExp(`^${name} (\\d+)$`, "m").exec(h.worker.registry.render())?.[1]);
    try {
      await withHarness(async (h) => {
        clock = h.clock;
        await inPhp(h, { method: "base64", body: PNG, pingback: `http://127.0.0.1:${(trickle.address() as AddressInfo).port}/slow` });
        await advance(h.clock, 2000);
        await eventually(() => held.length === 1, "the first attempt connected");
        assert.equal(gauge(h, "captcha_worker_callbacks_pending"), 1);
        const started = held[0]!.at;
        for (let t = 3000; t <= 9000; t += 3000) {
          await advance(h.clock, started + t - h.clock.now());
          drip();
          assert.equal(closed, 0, `still within the deadline ${t} ms in`);
        }
        await advance(h.clock, started + 10_250 - h.clock.now());
        await eventually(() => closed === 1, "the attempt cut at its deadline");
        // Four more attempts (5, 15, 45 and 180 s apart), each cut at its deadline too; then the slot is free.
        await advance(h.clock, 300_000, 1000);
        await eventually(() => closed === 5, "five attempts, each cut");
        assert.equal(held.length, 5);
        assert.equal(gauge(h, "captcha_worker_callbacks_pending"), 0);
        assert.match(h.worker.registry.render(), /^captcha_worker_callbacks_total\{outcome="failed"\} 1$/m);
      }, allowed());
    } finally {
      for (const h of held) h.socket.destroy();
      await new Promise<void>((ok) => trickle.close(() => ok()));
    }
  });
});
