// The worker's HTTP client against scripted node:http servers on port 0, its deadline on a fake clock.
import assert from "node:assert/strict";
import { once } from "node:events";
import { Agent, createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { Readable } from "node:stream";
import { after, describe, test } from "node:test";
import { HttpClientError, sendRequest } from "../../../src/http/http_client.ts";
import { FakeClock, settle } from "../../_support/fake_clock.ts";
import { eventually } from "../../_support/harness.ts";

/** A server answering with `handle`; its sockets are destroyed when the file ends. */
async function serve(handle: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ url: URL; sockets: Set<Socket>; closed: () => number }> {
  const sockets = new Set<Socket>();
  let closed = 0;
  const server = createServer(handle);
  server.on("connection", (s: Socket) => {
    sockets.add(s);
    s.once("close", () => void closed++);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  after(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  return { url: new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/x`), sockets, closed: () => closed };
}

/** Settles a promise into a value to inspect without awaiting it. */
function track<T>(p: Promise<T>): { readonly value: T | undefined; readonly error: HttpClientError | undefined } {
  let value: T | undefined;
  let error: HttpClientError | undefined;
  p.then((v) => (value = v), (e: HttpClientError) => (error = e));
  return { get value() { return value; }, get error() { return error; } };
}

const kindOf = (t: { readonly error: HttpClientError | undefined }) => t.error?.kind;

describe("sendRequest", () => {
  test("sendRequest sends the method, headers and body (a Buffer or a piped stream) and reads the whole answer", async () => {
    const { url } = await serve((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => res.writeHead(201, { "x-seen": `${req.method} ${req.headers["x-a"]}` }).end(Buffer.concat(chunks)));
    });
    const clock = new FakeClock();
    const a = await sendRequest(url, { method: "POST", headers: { "x-a": "1" }, body: Buffer.from("hello"), clock, timeoutMs: 1000 });
    assert.deepEqual([a.status, a.headers["x-seen"], a.body.toString(), a.truncated], [201, "POST 1", "hello", false]);
    const b = await sendRequest(url, { method: "PUT", body: Readable.from([Buffer.from("str"), Buffer.from("eamed")]), clock, timeoutMs: 1000 });
    assert.equal(b.body.toString(), "streamed");
  });

  test("sendRequest's deadline covers queueing for a socket: a request behind a held one in a pool of one fails at its deadline", async () => {
    const held: ServerResponse[] = [];
    const { url } = await serve((_req, res) => void held.push(res));
    const clock = new FakeClock();
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    after(() => agent.destroy());
    const first = track(sendRequest(url, { clock, timeoutMs: 60_000, agent }));
    await eventually(() => held.length === 1, "the first request holds the only socket");
    const queued = track(sendRequest(url, { clock, timeoutMs: 5000, agent }));
    await clock.advance(4999);
    assert.equal(kindOf(queued), undefined);
    await clock.advance(1);
    await settle();
    assert.equal(queued.error?.kind, "timeout");
    assert.equal(kindOf(first), undefined, "the first goes on");
    held[0]!.end("done");
    await eventually(() => first.value !== undefined, "the first answered");
    assert.equal(held.length, 1, "the timed-out request was never sent");
  });

  test("sendRequest cuts a peer trickling its answer at the deadline: the total time, not an idle timeout", async () => {
    const { url, closed } = await serve((_req, res) => {
      res.writeHead(200, { "content-length": "1000" });
      res.write("x");
    });
    const clock = new FakeClock();
    const r = track(sendRequest(url, { clock, timeoutMs: 10_000 }));
    for (let t = 0; t < 9000; t += 3000) {
      await clock.advance(3000);
      assert.equal(kindOf(r), undefined, `still within the deadline at ${t + 3000} ms`);
    }
    await clock.advance(1000);
    await eventually(() => r.error !== undefined && closed() === 1, "cut and its connection closed");
    assert.equal(r.error!.kind, "timeout");
  });

  test("sendRequest caps the answer: past maxAnswerBytes it fails too_large, or with overCap cut keeps the first bytes", async () => {
    const { url } = await serve((_req, res) => res.end(Buffer.alloc(300_000, 97)));
    const clock = new FakeClock();
    await assert.rejects(sendRequest(url, { clock, timeoutMs: 1000, maxAnswerBytes: 1000 }), (e: HttpClientError) => e.kind === "too_large");
    const cut = await sendRequest(url, { clock, timeoutMs: 1000, maxAnswerBytes: 1000, overCap: "cut" });
    assert.deepEqual([cut.body.length, cut.truncated], [1000, true]);
  });

  test("sendRequest with maxAnswerBytes 0 resolves with the status alone and hangs up on an endless answer", async () => {
    const { url, closed } = await serve((_req, res) => {
      res.writeHead(202);
      res.write("and more, for ever");
    });
    const a = await sendRequest(url, { clock: new FakeClock(), timeoutMs: 1000, maxAnswerBytes: 0, agent: false });
    assert.deepEqual([a.status, a.body.length], [202, 0]);
    await eventually(() => closed() === 1, "the connection closed");
  });

  test("sendRequest stops at the signal (aborted) and says why a connection failed (network)", async () => {
    const { url } = await serve(() => {});
    const stop = new AbortController();
    const r = track(sendRequest(url, { clock: new FakeClock(), timeoutMs: 60_000, signal: stop.signal }));
    await settle();
    stop.abort();
    await settle();
    assert.equal(r.error?.kind, "aborted");
    await assert.rejects(sendRequest(new URL("http://127.0.0.1:9/"), { clock: new FakeClock(), timeoutMs: 1000 }), (e: HttpClientError) => e.kind === "network" && e.message === "ECONNREFUSED");
  });
});
