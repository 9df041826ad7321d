import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { defaultBase, probe } from "../../src/cli/probe.ts";
import { FakeClock } from "../_support/fake_clock.ts";
import { runMain } from "../_support/cli.ts";

describe("probe", () => {
  let server: Server;
  let port: number;
  const hung: Array<() => void> = [];

  before(async () => {
    server = createServer((req, res) => {
      if (req.url === "/health/live") return void res.end('{"status":"ok","uptime_s":3}');
      if (req.url === "/health/ready") {
        res.writeHead(503, { "content-type": "application/json" });
        return void res.end('{"status":"not_ready","issues":["low_balance=$0.42","circuit_open"]}');
      }
      if (req.url === "/health/startup") return void hung.push(() => res.end()); // never answers in time
      res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    for (const release of hung) release();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  test("exits 0 on 2xx with one line", async () => {
    const r = await runMain(["probe", "live", "--url", `http://127.0.0.1:${port}`]);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^ok: GET http:\/\/127\.0\.0\.1:\d+\/health\/live answered 200 in \d+ms \(ok\)\n$/);
  });

  test("exits 1 on 503 and says why from the body", async () => {
    const r = await runMain(["probe", "ready", "--url", `http://127.0.0.1:${port}`]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /answered 503/);
    assert.match(r.stderr, /not_ready: low_balance=\$0\.42, circuit_open/);
    assert.equal(r.stderr.trim().split("\n").length, 1);
  });

  test("exits 1 when nothing listens", async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
    const deadPort = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const r = await runMain(["probe", "deps", "--url", `http://127.0.0.1:${deadPort}`]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /ECONNREFUSED/);
  });

  test("gives up at the timeout when the endpoint hangs", async () => {
    const clock = new FakeClock();
    const pending = probe(new URL(`http://127.0.0.1:${port}/health/startup`), 1000, clock);
    await clock.advance(999);
    let settled = false;
    void pending.then(() => (settled = true));
    await clock.advance(0);
    assert.equal(settled, false);
    await clock.advance(1);
    const result = await pending;
    assert.equal(result.ok, false);
    assert.match(result.line, /no answer within 1000ms/);
  });

  test("defaults to the worker's own --listen, wildcards turned into loopback", async () => {
    assert.equal(defaultBase({ host: "0.0.0.0", port: 8080 }).href, "http://127.0.0.1:8080/");
    assert.equal(defaultBase({ host: "::", port: 81 }).href, "http://[::1]:81/");
    const r = await runMain(["probe", "live"], { CAPTCHA_WORKER_LISTEN: `0.0.0.0:${port}` });
    assert.equal(r.code, 0, r.stderr);
    const viaFlag = await runMain(["probe", "live", "--listen", `127.0.0.1:${port}`]);
    assert.equal(viaFlag.code, 0, viaFlag.stderr);
  });

  test("bad targets are usage errors; bad --timeout and --url are config errors", async () => {
    assert.equal((await runMain(["probe"])).code, 2);
    assert.equal((await runMain(["probe", "lively"])).code, 2);
    assert.equal((await runMain(["probe", "live", "ready"])).code, 2);
    const t = await runMain(["probe", "live", "--timeout", "forever"]);
    assert.equal(t.code, 78);
    assert.match(t.stderr, /--timeout/);
    const u = await runMain(["probe", "live", "--url", "ftp://x"]);
    assert.equal(u.code, 78);
    assert.match(u.stderr, /--url/);
  });
});
