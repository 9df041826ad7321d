/**
 * The HTTP server's limits against hostile clients (slowloris, slow bodies, idle connection floods,
 * oversized headers, garbage): real sockets and real time, since the server's own timeouts are what
 * is under test; they are set small so each test ends in a few seconds, and waits are deadlines.
 */
import { testProcess } from "../_support/process_stats.ts";
import assert from "node:assert/strict";
import { get } from "node:http";
import { connect, type Socket } from "node:net";
import { describe, test } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { systemClock } from "../../src/base/clock.ts";
import { parseConfig } from "../../src/config/parse_config.ts";
import { DEFAULT_MAX_HEADER_BYTES, type HttpServerOptions } from "../../src/http/server.ts";
import { silentLogger } from "../../src/base/log.ts";
import { startSimulator, type Simulator } from "../../src/sim/simulator.ts";
import { startWorker, type Worker } from "../../src/app/start.ts";
import { PNG_B64 } from "../_support/images.ts";

const KEY = "hardening-key-0123456789abcdef01";

interface Rig {
  worker: Worker;
  sim: Simulator;
  port: number;
  /** Every raw client socket a test opened; destroyed before the worker closes. */
  sockets: Set<Socket>;
}

async function withWorker(http: HttpServerOptions, fn: (rig: Rig) => Promise<void>): Promise<void> {
  const sim = await startSimulator({ host: "127.0.0.1", port: 0 }, { keys: [KEY], seed: 5 });
  const { config } = parseConfig({ listen: "127.0.0.1:0" }, {});
  const worker = await startWorker({ process: testProcess, config, upstreamUrl: sim.url, apiKey: KEY, clock: systemClock, log: silentLogger, http });
  await worker.startup;
  const rig: Rig = { worker, sim, port: worker.address.port, sockets: new Set() };
  try {
    await fn(rig);
  } finally {
    for (const s of rig.sockets) s.destroy();
    await worker.close();
    await sim.close();
  }
}

interface Probe {
  status: number;
  ms: number;
}

/** One GET on a fresh connection, as a kubelet probes: fails past `deadlineMs`. */
function probe(port: number, path: string, deadlineMs = 1000): Promise<Probe> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = get({ host: "127.0.0.1", port, path, agent: false, timeout: deadlineMs }, (res) => {
      res.resume();
      res.on("end", () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - started }));
    });
    req.on("timeout", () => req.destroy(new Error(`${path}: no answer within ${deadlineMs}ms`)));
    req.on("error", reject);
  });
}

async function assertPrompt(port: number, path: string): Promise<void> {
  const p = await probe(port, path);
  assert.equal(p.status, 200, `${path} answered ${p.status}`);
  assert.ok(p.ms < 1000, `${path} took ${p.ms}ms`);
}

interface Raw {
  socket: Socket;
  /** Everything the server sent. */
  received(): string;
  /** Bytes written so far. */
  sent(): number;
  /** Resolves with the ms from connect until the server ended its side (FIN) or the socket closed. */
  ended(deadlineMs: number): Promise<number>;
  /**
   * Resolves with the ms from connect until the socket is fully closed. The client never closes
   * its side, so this happens only when the server destroys the connection (a write then fails).
   */
  closed(deadlineMs: number): Promise<number>;
  isEnded(): boolean;
  isClosed(): boolean;
}

/**
 * A raw connection that writes the first `atOnce` bytes of `payload`, then the rest one byte every
 * `tickMs` (all at once when tickMs is 0), and ignores the server's FIN (allowHalfOpen), as a
 * hostile client would.
 */
function rawClient(rig: Rig, payload: string | Buffer, tickMs = 0, atOnce = 0): Promise<Raw> {
  const data = typeof payload === "string" ? Buffer.from(payload, "latin1") : payload;
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port: rig.port, allowHalfOpen: true });
    rig.sockets.add(socket);
    const chunks: Buffer[] = [];
    let sent = 0;
    let timer: NodeJS.Timeout | undefined;
    const started = performance.now();
    let endedAt: number | undefined;
    let closedAt: number | undefined;
    const waiters: Array<() => void> = [];
    const changed = () => {
      for (const w of waiters.splice(0)) w();
    };
    socket.on("data", (c: Buffer) => chunks.push(c));
    socket.on("error", () => {});
    socket.on("end", () => {
      endedAt ??= performance.now();
      changed();
    });
    socket.on("close", () => {
      clearInterval(timer);
      endedAt ??= performance.now();
      closedAt = performance.now();
      rig.sockets.delete(socket);
      changed();
    });
    const until = (what: string, at: () => number | undefined, deadlineMs: number) =>
      new Promise<number>((ok, fail) => {
        const t = setTimeout(() => fail(new Error(`the server did not ${what} within ${deadlineMs}ms`)), deadlineMs);
        const check = () => {
          const when = at();
          if (when === undefined) return void waiters.push(check);
          clearTimeout(t);
          ok(when - started);
        };
        check();
      });
    socket.once("error", reject);
    socket.on("connect", () => {
      socket.off("error", reject);
      if (data.length > 0 && tickMs === 0) {
        socket.write(data);
        sent = data.length;
      } else if (data.length > 0) {
        if (atOnce > 0) socket.write(data.subarray(0, (sent = atOnce)));
        timer = setInterval(() => {
          if (sent >= data.length || socket.destroyed || !socket.writable) return clearInterval(timer);
          socket.write(data.subarray(sent, ++sent));
        }, tickMs);
      }
      resolve({
        socket,
        received: () => Buffer.concat(chunks).toString("latin1"),
        sent: () => sent,
        isEnded: () => endedAt !== undefined,
        isClosed: () => closedAt !== undefined,
        ended: (deadlineMs) => until("end the connection", () => endedAt, deadlineMs),
        closed: (deadlineMs) => until("close the connection", () => closedAt, deadlineMs),
      });
    });
  });
}

/** Status line and headers of a raw answer, and its body parsed as JSON when there is one. */
function parseAnswer(text: string): { status: number; headers: Record<string, string>; body: unknown } {
  const [head = "", body = ""] = text.split("\r\n\r\n", 2);
  const [statusLine = "", ...lines] = head.split("\r\n");
  const status = Number(/^HTTP\/1\.1 (\d{3}) /.exec(statusLine)?.[1] ?? 0);
  const headers: Record<string, string> = {};
  for (const l of lines) {
    const i = l.indexOf(":");
    headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
  }
  return { status, headers, body: body ? JSON.parse(body) : undefined };
}

/** A raw error answer is RFC 9457 problem details like every other error answer (docs/health.md). */
function assertProblem(text: string, status: number): void {
  const a = parseAnswer(text);
  assert.equal(a.status, status, JSON.stringify(text.slice(0, 200)));
  assert.equal(a.headers["content-type"], "application/problem+json");
  const p = a.body as Record<string, unknown>;
  assert.equal(p.status, status);
  for (const k of ["type", "title", "detail", "code"]) assert.equal(typeof p[k], "string", k);
  assert.match(p.code as string, /^ERR_[A-Z_]+$/);
}

/**
 * The server released the connection, not just ended its side: a hostile client that ignores the
 * FIN and keeps writing must not hold a socket (the server would otherwise keep it half-open).
 */
async function assertReleased(c: Raw): Promise<void> {
  await c.ended(3000);
  const poke = setInterval(() => c.socket.writable && c.socket.write("x"), 50);
  try {
    await c.closed(2000);
  } finally {
    clearInterval(poke);
  }
}

/** Probes every `everyMs` until `done()`; each must answer 200 within 1 s. Returns how many ran. */
async function probeWhile(port: number, done: () => boolean, everyMs = 100): Promise<number> {
  let n = 0;
  while (!done()) {
    await assertPrompt(port, n % 2 ? "/health/ready" : "/health/live");
    n++;
    await delay(everyMs);
  }
  return n;
}

describe("HTTP hardening", () => {
  test("slowloris: headers sent a byte at a time are cut off at headersTimeout while probes answer promptly", () =>
    withWorker({ headersTimeoutMs: 500, requestTimeoutMs: 2000 }, async (rig) => {
      const head = "GET /health/live HTTP/1.1\r\nHost: worker\r\nX-Pad: " + "a".repeat(4000);
      // 20 of them, one byte every 50 ms: the headers would take 200 s to arrive.
      const loris = await Promise.all(Array.from({ length: 20 }, () => rawClient(rig, head, 50)));
      const probes = probeWhile(rig.port, () => loris.every((l) => l.isClosed()));
      const times = await Promise.all(loris.map((l) => l.closed(3000)));
      assert.ok((await probes) >= 3, "probes ran while the slow clients were connected");
      for (const [i, l] of loris.entries()) {
        assert.ok(times[i]! >= 400, `cut off after ${times[i]}ms, before headersTimeout`);
        assert.ok(l.sent() < head.length, "the headers never completed");
        assertProblem(l.received(), 408);
      }
      await assertPrompt(rig.port, "/health/live");
    }));

  test("slow body: a POST /v1/tasks trickling its declared 1000 bytes is cut off at requestTimeout; nothing is accepted", () =>
    withWorker({ headersTimeoutMs: 500, requestTimeoutMs: 1200 }, async (rig) => {
      const body = JSON.stringify({ type: "image", image: "A".repeat(960) }).padEnd(1000, " ");
      assert.equal(body.length, 1000);
      const head = `POST /v1/tasks HTTP/1.1\r\nHost: worker\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n`;
      // The headers arrive at once; the body, a byte every 25 ms, would need 25 s.
      const slow = await Promise.all(Array.from({ length: 5 }, () => rawClient(rig, head + body, 25, head.length)));
      const probes = probeWhile(rig.port, () => slow.every((s) => s.isClosed()));
      const times = await Promise.all(slow.map((s) => s.closed(3500)));
      assert.ok((await probes) >= 3, "probes ran while the slow bodies were arriving");
      for (const [i, s] of slow.entries()) {
        assert.ok(times[i]! >= 1100, `cut off after ${times[i]}ms, before requestTimeout`);
        assert.ok(s.sent() < head.length + body.length, "the body never completed");
        assertProblem(s.received(), 408);
      }
      assert.equal(rig.worker.pool.stored.open, 0, "no task was accepted");
      assert.equal(rig.sim.counts().requests["in.php"] ?? 0, 0);
      await assertPrompt(rig.port, "/health/live");
    }));

  test("requestTimeout bounds receiving a request, not a held Prefer: wait answer", () =>
    withWorker({ headersTimeoutMs: 300, requestTimeoutMs: 600 }, async (rig) => {
      const started = performance.now();
      const res = await fetch(`http://127.0.0.1:${rig.port}/v1/tasks`, {
        method: "POST",
        headers: { "content-type": "application/json", prefer: "wait=2" },
        body: JSON.stringify({ type: "image", image: PNG_B64 }),
      });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("preference-applied"), "wait=2");
      assert.ok(performance.now() - started >= 1500, "the answer was held past requestTimeout");
      assert.match((await res.json() as { status: string }).status, /^(submitted|solved)$/);
    }));

  test("1,000 idle connections (silent, half a request line, idle keep-alive) leave /health/live and /health/ready answering within 1 s", () =>
    withWorker({}, async (rig) => {
      const idle: Raw[] = [];
      const open = (payload: string, n: number) => Promise.all(Array.from({ length: n }, () => rawClient(rig, payload)));
      for (let i = 0; i < 7; i++) idle.push(...(await open("", 100)));
      idle.push(...(await open("GET /health/live HTTP/1.1\r\nHost: w", 100)));
      idle.push(...(await open("GET /health/live HTTP/1.1\r\nHost: w\r\n", 100)));
      const keepAlive = await open("GET /health/live HTTP/1.1\r\nHost: w\r\nConnection: keep-alive\r\n\r\n", 100);
      idle.push(...keepAlive);
      assert.equal(idle.length, 1000);
      // The keep-alive ones got their answer and now sit idle on an open connection.
      const started = performance.now();
      while (!keepAlive.every((k) => /\r\n\r\n\{.*\}$/s.test(k.received()))) {
        assert.ok(performance.now() - started < 5000, "keep-alive answers");
        await delay(10);
      }
      for (const k of keepAlive) assert.match(k.received(), /^HTTP\/1\.1 200 /);
      await assertPrompt(rig.port, "/health/live");
      await assertPrompt(rig.port, "/health/ready");
      assert.equal(idle.filter((c) => c.isEnded()).length, 0, "every idle connection was still open during the probes");
      const metrics = await probe(rig.port, "/metrics");
      assert.equal(metrics.status, 200);
    }));

  test("maxConnections: connections past the cap are refused, the worker survives and answers once they go", () =>
    withWorker({ maxConnections: 50 }, async (rig) => {
      const held = await Promise.all(Array.from({ length: 50 }, () => rawClient(rig, "")));
      // At the cap a probe is refused like any other connection: the cost of the cap.
      await assert.rejects(probe(rig.port, "/health/live"), "a probe past the cap is refused");
      const extra = await Promise.all(Array.from({ length: 10 }, () => rawClient(rig, "GET /health/live HTTP/1.1\r\nHost: w\r\n\r\n")));
      await Promise.all(extra.map((e) => e.ended(2000)));
      for (const e of extra) assert.equal(e.received(), "", "refused without an answer");
      for (const h of held.slice(0, 10)) h.socket.destroy();
      // The server learns of the closes on its next event-loop turns: retry within a deadline.
      const started = performance.now();
      for (;;) {
        const p = await probe(rig.port, "/health/live").catch(() => undefined);
        if (p?.status === 200) break;
        assert.ok(performance.now() - started < 2000, "a probe answered once connections were freed");
        await delay(20);
      }
      assert.equal(held.slice(10).filter((h) => h.isEnded()).length, 0, "the held connections were not dropped");
    }));

  test("headers over maxHeaderSize get 431 problem details and the process keeps serving", () =>
    withWorker({}, async (rig) => {
      const bigHeader = await rawClient(rig, `GET /health/live HTTP/1.1\r\nHost: w\r\nX-Big: ${"b".repeat(20_000)}\r\n\r\n`);
      await assertReleased(bigHeader);
      assertProblem(bigHeader.received(), 431);
      const bigTarget = await rawClient(rig, `GET /v1/tasks/${"i".repeat(20_000)} HTTP/1.1\r\nHost: w\r\n\r\n`);
      await assertReleased(bigTarget);
      assertProblem(bigTarget.received(), 431);
      const manyHeaders = await rawClient(rig, `GET /health/live HTTP/1.1\r\nHost: w\r\n${Array.from({ length: 2000 }, (_, i) => `X-H${i}: v`).join("\r\n")}\r\n\r\n`);
      await assertReleased(manyHeaders);
      assertProblem(manyHeaders.received(), 431);
      // The answer to HEAD carries the headers only (RFC 9110 §9.3.2), or the client misreads what follows.
      const head = await rawClient(rig, `HEAD /health/live HTTP/1.1\r\nHost: w\r\nX-Big: ${"b".repeat(20_000)}\r\n\r\n`);
      await assertReleased(head);
      assert.match(head.received(), /^HTTP\/1\.1 431 [^]*content-type: application\/problem\+json\r\n[^]*\r\n\r\n$/);
      await assertPrompt(rig.port, "/health/live");
      await assertPrompt(rig.port, "/health/ready");
    }));

  test("the default header limit (8 KiB, docs/sizing-and-performance.md, Sizing): the longest bearer token the worker takes passes, 9 KiB of headers get 431", async () => {
    assert.equal(DEFAULT_MAX_HEADER_BYTES, 8 * 1024);
    const sim = await startSimulator({ host: "127.0.0.1", port: 0 }, { keys: [KEY], seed: 5 });
    // --api-token-file takes up to 4,096 characters; with the other headers a client sends it fits.
    const token = "t".repeat(4096);
    const { config } = parseConfig({ listen: "127.0.0.1:0" }, {});
    const worker = await startWorker({ process: testProcess, config, upstreamUrl: sim.url, apiKey: KEY, clock: systemClock, log: silentLogger, apiToken: token });
    const rig: Rig = { worker, sim, port: worker.address.port, sockets: new Set() };
    try {
      await worker.startup;
      const headers = `Host: w\r\nUser-Agent: ${"u".repeat(200)}\r\nAccept: application/json\r\nAuthorization: Bearer ${token}\r\n`;
      const read = await rawClient(rig, `GET /v1/tasks/1 HTTP/1.1\r\n${headers}Connection: close\r\n\r\n`);
      await read.ended(3000);
      assertProblem(read.received(), 404);
      const over = await rawClient(rig, `GET /v1/tasks/1 HTTP/1.1\r\n${headers}X-Pad: ${"p".repeat(9 * 1024 - headers.length)}\r\n\r\n`);
      await assertReleased(over);
      assertProblem(over.received(), 431);
    } finally {
      for (const s of rig.sockets) s.destroy();
      await worker.close();
      await sim.close();
    }
  });

  test("a request line of garbage gets 400 problem details and the process keeps serving", () =>
    withWorker({}, async (rig) => {
      const garbage = [
        "\u0000\u0001GARBAGE / HTTP/9\r\n\r\n",
        "HELLO WORLD\r\n\r\n",
        "GET\r\n\r\n",
        "GET /health/live HTTP/1.1 extra\r\n\r\n",
        "get /health/live HTTP/1.1\r\nHost: w\r\n\r\n",
        "GET /health/live HTTP/1.1\r\nBad Header Line\r\n\r\n",
        "POST /v1/tasks HTTP/1.1\r\nHost: w\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        "POST /v1/tasks HTTP/1.1\r\nHost: w\r\nContent-Length: -1\r\n\r\n",
        "\r\n\r\n\r\n\u00ff\u00fe\r\n\r\n",
      ];
      for (const g of garbage) {
        const c = await rawClient(rig, g);
        await assertReleased(c);
        assertProblem(c.received(), 400);
      }
      await assertPrompt(rig.port, "/health/live");
      assert.equal(rig.worker.pool.stored.open, 0);
    }));
});

