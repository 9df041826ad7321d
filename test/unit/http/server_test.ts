/** The HTTP server's `Expect: 100-continue` handling and reason phrases, asserted on the bytes a raw node:net client receives. */
import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { after, before, describe, test } from "node:test";
import { systemClock } from "../../../src/base/clock.ts";
import { silentLogger } from "../../../src/base/log.ts";
import { parseConfig } from "../../../src/config/parse_config.ts";
import { startWorker, type Worker } from "../../../src/app/start.ts";
import { startSimulator, type Simulator } from "../../../src/sim/simulator.ts";
import { testProcess } from "../../_support/process_stats.ts";

const KEY = "continue-key-0123456789abcdef012";

interface Raw {
  socket: Socket;
  text(): string;
  /** Resolves once what was received matches `re`; rejects after 5 s or when the socket closes first. */
  until(re: RegExp): Promise<void>;
  closed: Promise<void>;
}

function raw(port: number, allowHalfOpen = false): Raw {
  const socket = connect({ port, host: "127.0.0.1", allowHalfOpen });
  let text = "";
  const waiters = new Set<() => void>();
  socket.on("data", (c: Buffer) => {
    text += c.toString("latin1");
    for (const w of waiters) w();
  });
  // Not events.once: an error before the close (a reset the test provokes) would reject it.
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve())).then(() => {
    for (const w of waiters) w();
  });
  let ended = false;
  void closed.then(() => (ended = true));
  return {
    socket,
    text: () => text,
    closed,
    until: (re) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${re} within 5 s; got ${JSON.stringify(text)}`)), 5000);
        const check = () => {
          if (re.test(text)) {
            clearTimeout(timer);
            waiters.delete(check);
            resolve();
          } else if (ended) {
            clearTimeout(timer);
            waiters.delete(check);
            reject(new Error(`closed before ${re}; got ${JSON.stringify(text)}`));
          }
        };
        waiters.add(check);
        check();
      }),
  };
}

/** A whole response: its head and a body of its Content-Length. */
const WHOLE = /HTTP\/1\.1 [2-5]\d\d [^\r]*\r\n(?:[^\r]+\r\n)*?content-length: (\d+)\r\n(?:[^\r]+\r\n)*\r\n/i;

function complete(text: string): boolean {
  const m = WHOLE.exec(text);
  return m !== null && text.length >= m.index + m[0].length + Number(m[1]);
}

async function untilComplete(r: Raw): Promise<{ head: string; body: Record<string, unknown> }> {
  await r.until({ test: complete } as unknown as RegExp);
  const m = WHOLE.exec(r.text())!;
  const body = r.text().slice(m.index + m[0].length, m.index + m[0].length + Number(m[1]));
  return { head: r.text().slice(0, m.index + m[0].length), body: JSON.parse(body) as Record<string, unknown> };
}

describe("HTTP server", () => {
  let sim: Simulator;
  let worker: Worker;
  let port: number;
  before(async () => {
    sim = await startSimulator({ host: "127.0.0.1", port: 0 }, { keys: [KEY], seed: 3 });
    const { config } = parseConfig({ listen: "127.0.0.1:0" }, {});
    worker = await startWorker({ process: testProcess, config, upstreamUrl: sim.url, apiKey: KEY, clock: systemClock, log: silentLogger });
    await worker.startup;
    port = worker.address.port;
  });
  after(async () => {
    await worker.close();
    await sim.close();
  });

  test("Expect: 100-continue with a Content-Length over the limit gets 413 Content Too Large, no 100, and the connection closed", async () => {
    const r = raw(port);
    r.socket.write("POST /v1/tasks HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 5000000\r\nexpect: 100-continue\r\n\r\n");
    const { head, body } = await untilComplete(r);
    assert.match(head, /^HTTP\/1\.1 413 Content Too Large\r\n/);
    assert.doesNotMatch(r.text(), /100 Continue/i);
    assert.match(head, /\r\nconnection: close\r\n/i);
    assert.equal(body.title, "Content Too Large");
    assert.equal(body.code, "ERR_BODY_TOO_LARGE");
    await r.closed;
  });

  test("an expectation other than 100-continue gets a 417 problem and the connection closed, so a body sent anyway is never read as a request", async () => {
    const r = raw(port);
    r.socket.write("POST /v1/tasks HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 5\r\nexpect: something-else\r\n\r\n");
    const { head, body } = await untilComplete(r);
    assert.match(head, /^HTTP\/1\.1 417 Expectation Failed\r\n/);
    assert.match(head, /\r\nconnection: close\r\n/i);
    assert.equal(body.code, "ERR_EXPECTATION_FAILED");
    await r.closed;
  });

  test("Expect: 100-continue with a body the handler reads gets 100 Continue, then its answer", async () => {
    const r = raw(port);
    const json = JSON.stringify({ type: "turnstile", sitekey: "0x4AAAAAAAsite", pageurl: "https://example.com/" });
    r.socket.write(`POST /v1/tasks HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${json.length}\r\nexpect: 100-continue\r\n\r\n`);
    await r.until(/^HTTP\/1\.1 100 Continue\r\n\r\n/);
    r.socket.write(json);
    const { head, body } = await untilComplete(r);
    assert.match(head, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 202 /);
    assert.doesNotMatch(head, /connection: close/i, "a continued request keeps its connection");
    assert.equal(body.status, "queued");
    r.socket.destroy();
  });

  test("Expect: 100-continue refused on its headers (wrong content type) gets its 415 and no 100", async () => {
    const r = raw(port);
    r.socket.write("POST /v1/tasks HTTP/1.1\r\nhost: x\r\ncontent-type: text/plain\r\ncontent-length: 10\r\nexpect: 100-continue\r\n\r\n");
    const { head } = await untilComplete(r);
    assert.match(head, /^HTTP\/1\.1 415 Unsupported Media Type\r\n/);
    assert.doesNotMatch(r.text(), /100 Continue/i);
    await r.closed;
  });

  test("a body over the limit without Expect: the status line and the problem title say Content Too Large", async () => {
    const r = raw(port);
    r.socket.write("POST /v1/tasks HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 5000000\r\n\r\n{");
    const { head, body } = await untilComplete(r);
    assert.match(head, /^HTTP\/1\.1 413 Content Too Large\r\n/);
    assert.equal(body.title, "Content Too Large");
    r.socket.destroy();
  });

  test("a client still sending its body when the 413 goes out reads the answer, not a reset: the socket is half-closed, then closed", async () => {
    const r = raw(port, true); // keeps writing after the server's FIN, as an uploading client does
    const errors: string[] = [];
    r.socket.on("error", (err: NodeJS.ErrnoException) => errors.push(err.code ?? err.message));
    r.socket.write("POST /v1/tasks HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 5000000\r\n\r\n");
    r.socket.write(Buffer.alloc(256 * 1024, 0x41)); // unread by the server: a close now would be a reset
    const { head } = await untilComplete(r);
    assert.match(head, /^HTTP\/1\.1 413 Content Too Large\r\n/);
    // The upload goes on after the answer: the connection is still there to take it, not reset.
    await new Promise<void>((resolve, reject) => r.socket.write(Buffer.alloc(64 * 1024, 0x41), (err) => (err ? reject(err) : resolve())));
    assert.deepEqual(errors, []);
    r.socket.end(); // the client gives up its upload; the server had closed its side already
    await r.closed;
  });

  test("a request pipelined after a body answered 413 on its headers is never handled: the lingering connection said close, so its answer could not be sent", async () => {
    const r = raw(port, true);
    const declared = 3 * 1024 * 1024;
    const json = JSON.stringify({ type: "turnstile", sitekey: "0x4AAAAAAAsite", pageurl: "https://example.com/" });
    const tasks = () => worker.pool.stored.open + worker.pool.stored.finished;
    const before = tasks();
    r.socket.write(`POST /v1/tasks HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${declared}\r\n\r\n`);
    const { head } = await untilComplete(r);
    assert.match(head, /^HTTP\/1\.1 413 Content Too Large\r\n/);
    // The whole declared body, then a second request on the same connection.
    r.socket.write(Buffer.alloc(declared, 0x20));
    r.socket.write(`POST /v1/tasks HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${json.length}\r\n\r\n${json}`);
    // The server's close is silent once it has read everything; a write after it is reset. Empty
    // lines between requests are allowed, so these are no third request.
    r.socket.on("error", () => {});
    const poke = setInterval(() => void (r.socket.writable && r.socket.write("\r\n", () => {})), 50);
    await r.closed; // by a reset (EPIPE or ECONNRESET): the server dropped the connection
    clearInterval(poke);
    assert.equal(tasks(), before, "no task accepted from a request whose answer could not be written");
    assert.equal((r.text().match(/^HTTP\/1\.1 /gm) ?? []).length, 1, "one answer on the connection");
  });

  test("a body refused on its declared length is not read while the connection lingers: the client's upload stalls, it is not drained at line rate", async () => {
    const r = raw(port, true);
    const declared = 1024 * 1024 * 1024;
    r.socket.write(`POST /v1/tasks HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${declared}\r\n\r\n`);
    const { head } = await untilComplete(r);
    assert.match(head, /^HTTP\/1\.1 413 Content Too Large\r\n/);
    // Upload as fast as the connection takes it, until the server drops it a second later.
    let written = 0;
    r.socket.on("error", () => {});
    const chunk = Buffer.alloc(1024 * 1024, 0x20);
    const pump = () => {
      while (r.socket.writable) {
        written += chunk.length;
        if (!r.socket.write(chunk)) return void r.socket.once("drain", pump);
      }
    };
    pump();
    await r.closed;
    // Only what the sockets' buffers hold (a few MiB) went out; drained, it would have been hundreds.
    assert.ok(written < 64 * 1024 * 1024, `${written >> 20} MiB taken by a connection that refused its body`);
  });

  test("a request pipelined after a small body answered 417 is never handled: the answer said close, so its own answer could not be sent", async () => {
    const r = raw(port, true);
    const json = JSON.stringify({ type: "turnstile", sitekey: "0x4AAAAAAAsite", pageurl: "https://example.com/" });
    const tasks = () => worker.pool.stored.open + worker.pool.stored.finished;
    const before = tasks();
    // Sent at once: the body and the next request reach the parser in one read.
    r.socket.write(
      "POST /v1/tasks HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 5\r\nexpect: something-else\r\n\r\n{\"a\":" +
        `POST /v1/tasks HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${json.length}\r\n\r\n${json}`,
    );
    const { head } = await untilComplete(r);
    assert.match(head, /^HTTP\/1\.1 417 Expectation Failed\r\n/);
    r.socket.on("error", () => {});
    const poke = setInterval(() => void (r.socket.writable && r.socket.write("\r\n", () => {})), 50);
    await r.closed;
    clearInterval(poke);
    assert.equal(tasks(), before, "no task accepted from a request whose answer could not be written");
    assert.equal((r.text().match(/^HTTP\/1\.1 /gm) ?? []).length, 1, "one answer on the connection");
  });
});
