/**
 * HttpServer.close with connections in each state a browser leaves: one opened ahead of a request
 * that has sent nothing (closed at once, so a Ctrl-C with the status page open in a tab is not held
 * for the grace), and one whose request is arriving (answered, not cut).
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { connect, type Socket } from "node:net";
import { test } from "node:test";
import { silentLogger } from "../../src/base/log.ts";
import { sendJson } from "../../src/http/respond.ts";
import { Router } from "../../src/http/router.ts";
import { startHttpServer } from "../../src/http/server.ts";

/** Longer than the tests' own timeout: a close that waited it out fails the test instead of passing late. */
const GRACE_MS = 600_000;

const serve = () => startHttpServer({ host: "127.0.0.1", port: 0 }, new Router().on("GET", "/ok", (_req, res) => sendJson(res, 200, { ok: true })), silentLogger);

test("HttpServer.close ends a connection that has sent nothing at once, not after the grace", { timeout: 10_000 }, async (t) => {
  const http = await serve();
  t.after(() => http.server.closeAllConnections()); // a close still waiting (this test failed) ends, not the run's process with it
  const preconnect = connect(http.address.port, "127.0.0.1");
  preconnect.on("error", () => undefined);
  await once(preconnect, "connect");
  // The keep-alive connection of an answered request beside it, as a browser's tab holds one.
  const answered = await fetch(`http://127.0.0.1:${http.address.port}/ok`);
  assert.equal(answered.status, 200);
  await answered.text();
  const closedAt = once(preconnect, "close");
  await http.close(GRACE_MS);
  await closedAt;
});

test("HttpServer.close answers a request whose headers are still arriving, then closes", { timeout: 10_000 }, async (t) => {
  const http = await serve();
  t.after(() => http.server.closeAllConnections());
  const accepted = once(http.server, "connection") as Promise<[Socket]>;
  const socket = connect(http.address.port, "127.0.0.1");
  await once(socket, "connect");
  const [serverSide] = await accepted;
  let answer = "";
  socket.on("data", (c: Buffer) => void (answer += c.toString("latin1")));
  socket.write("GET /ok HTTP/1.1\r\nHost: x\r\n");
  await new Promise<void>((resolve) => {
    // The server has read the first bytes: its side of the socket says so.
    const check = () => (serverSide.bytesRead > 0 ? resolve() : setImmediate(check));
    check();
  });
  const closing = http.close(GRACE_MS);
  socket.write("\r\n");
  await once(socket, "close");
  await closing;
  assert.match(answer, /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(answer, /\{"ok":true\}$/);
});
