import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { json } from "../_support/http.ts";
import { isWorkerError, WorkerError } from "../../src/base/errors.ts";
import { createLogger, silentLogger } from "../../src/base/log.ts";
import { sendJson } from "../../src/http/respond.ts";
import { Router } from "../../src/http/router.ts";
import { startHttpServer, type HttpServer } from "../../src/http/server.ts";

describe("Router", () => {
  let http: HttpServer;
  let base: string;

  before(async () => {
    const router = new Router()
      .on("GET", "/ok", (_req, res) => sendJson(res, 200, { ok: true }))
      .on("POST", "/ok", (_req, res) => sendJson(res, 201, { posted: true }))
      .on("GET", "/items/:id", (_req, res, params) => sendJson(res, 200, { id: params.id }))
      .on("POST", "/items/:id/report", (_req, res, params) => sendJson(res, 200, { reported: params.id }))
      .on("GET", "/throws", () => {
        throw new Error("secret internals");
      })
      .on("GET", "/rejects", async () => {
        throw new WorkerError("ERR_BAD_REQUEST", "bad field", { field: "image" });
      });
    http = await startHttpServer({ host: "127.0.0.1", port: 0 }, router, silentLogger);
    base = `http://127.0.0.1:${http.address.port}`;
  });
  after(() => http.close());

  test("routes exact paths by method", async () => {
    assert.deepEqual(await json(await fetch(`${base}/ok`)), { ok: true });
    const posted = await fetch(`${base}/ok`, { method: "POST" });
    assert.equal(posted.status, 201);
  });

  test("captures :params, decoded", async () => {
    assert.deepEqual(await json(await fetch(`${base}/items/a%20b`)), { id: "a b" });
    assert.deepEqual(await json(await fetch(`${base}/items/x/report`, { method: "POST" })), { reported: "x" });
  });

  test("HEAD is answered by GET without a body", async () => {
    const res = await fetch(`${base}/ok`, { method: "HEAD" });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), "");
    assert.equal(res.headers.get("cache-control"), "no-store");
  });

  test("unknown paths are 404 problem details", async () => {
    const res = await fetch(`${base}/nope`);
    assert.equal(res.status, 404);
    assert.equal(res.headers.get("content-type"), "application/problem+json");
    const body = await json(res);
    assert.equal(body.status, 404);
    assert.equal(body.code, "ERR_NOT_FOUND");
    assert.equal(typeof body.type, "string");
    assert.equal(body.title, "Not Found");
    assert.equal(typeof body.detail, "string");
  });

  test("a wrong method is 405 with Allow", async () => {
    const res = await fetch(`${base}/items/1`, { method: "DELETE" });
    assert.equal(res.status, 405);
    assert.equal(res.headers.get("allow"), "GET, HEAD");
    assert.equal((await json(res)).code, "ERR_METHOD_NOT_ALLOWED");
  });

  test("a thrown error is a 500 problem without internals; a WorkerError maps to its status and field", async () => {
    const res = await fetch(`${base}/throws`);
    assert.equal(res.status, 500);
    const text = await res.text();
    assert.ok(!text.includes("secret internals"));
    assert.equal(JSON.parse(text).code, "ERR_INTERNAL");
    const bad = await fetch(`${base}/rejects`);
    assert.equal(bad.status, 400);
    assert.deepEqual(
      { code: (await json(bad.clone())).code, field: (await json(bad)).field },
      { code: "ERR_BAD_REQUEST", field: "image" },
    );
  });

  test("a malformed percent-escape in a param is a 404, not a crash", async () => {
    const res = await fetch(`${base}/items/%E0%A4%A`);
    assert.equal(res.status, 404);
  });

  test("startHttpServer on a taken address rejects with ERR_LISTEN naming it and --listen", async () => {
    await assert.rejects(startHttpServer(http.address, new Router(), silentLogger), (err: unknown) => {
      assert.ok(isWorkerError(err, "ERR_LISTEN"));
      assert.equal(err.field, "--listen");
      assert.match(err.message, new RegExp(`127\\.0\\.0\\.1:${http.address.port}: EADDRINUSE; choose another address with --listen HOST:PORT \\(or CAPTCHA_WORKER_LISTEN\\)$`));
      assert.equal((err.cause as NodeJS.ErrnoException).code, "EADDRINUSE");
      return true;
    });
  });
});

describe("Router errors", () => {
  test("a refusal answers with its code's status and headers unlogged; only an unexpected error is logged", async (t) => {
    const lines: string[] = [];
    const log = createLogger({ level: "debug", format: "json", secrets: [], write: (line) => void lines.push(line) });
    const router = new Router()
      .on("POST", "/busy", async () => {
        throw new WorkerError("ERR_NOT_READY", "Not ready: circuit_open.");
      })
      .on("GET", "/broken", () => {
        throw new TypeError("x is undefined");
      });
    const http = await startHttpServer({ host: "127.0.0.1", port: 0 }, router, log);
    t.after(() => http.close());
    const base = `http://127.0.0.1:${http.address.port}`;

    const busy = await fetch(`${base}/busy`, { method: "POST" });
    assert.equal(busy.status, 503);
    assert.equal(busy.headers.get("retry-after"), "10");
    assert.equal((await json(busy)).code, "ERR_NOT_READY");
    assert.deepEqual(lines, []);

    const broken = await fetch(`${base}/broken`);
    assert.equal(broken.status, 500);
    assert.equal((await json(broken)).code, "ERR_INTERNAL");
    assert.equal(lines.length, 1);
    assert.equal(JSON.parse(lines[0]!).msg, "request failed");
  });
});
