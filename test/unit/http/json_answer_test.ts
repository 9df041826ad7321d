import assert from "node:assert/strict";
import type { IncomingMessage, ServerResponse } from "node:http";
import { describe, test } from "node:test";
import { silentLogger } from "../../../src/base/log.ts";
import { readyDocument } from "../../../src/health/health_documents.ts";
import { registerHealthRoutes } from "../../../src/http/health_routes.ts";
import { JsonAnswer, sameJson } from "../../../src/http/json_answer.ts";
import { Router } from "../../../src/http/router.ts";
import { fixture } from "../health/_fixture.ts";

/** GETs `path` through the real router and health routes; the status, headers and body written. */
function get(router: Router, path: string, method = "GET") {
  const out = { status: 0, headers: [] as unknown, body: "" };
  const req = { method, url: path } as IncomingMessage;
  const res = {
    req,
    writeHead(status: number, headers: unknown) {
      out.status = status;
      out.headers = headers;
      return this;
    },
    end(body?: string) {
      out.body = body ?? "";
    },
  } as unknown as ServerResponse;
  router.handle(req, res, silentLogger);
  return out;
}

describe("probe bodies serialised once per change", () => {
  test("sameJson is JSON equality, key order included", () => {
    assert.ok(sameJson({ a: 1, b: [1, "x", null] }, { a: 1, b: [1, "x", null] }));
    assert.ok(!sameJson({ a: 1, b: 2 }, { b: 2, a: 1 }));
    assert.ok(!sameJson({ a: [1] }, { a: [1, 2] }));
    assert.ok(!sameJson({ a: null }, { a: 0 }));
    assert.ok(!sameJson([], {}));
  });

  test("the same document reuses its bytes; a different one is serialised", () => {
    const a = new JsonAnswer();
    const first = a.body({ status: "ok", uptime_s: 1 });
    assert.equal(a.body({ status: "ok", uptime_s: 1 }), first);
    assert.equal(a.body({ status: "ok", uptime_s: 2 }), '{"status":"ok","uptime_s":2}');
  });

  test("/health/ready shows a state change at once and an age within the second, on the fake clock", async () => {
    const f = fixture();
    await f.setBalance(10);
    f.view.setPhase("running");
    const router = new Router();
    registerHealthRoutes(router, f.view, { history: () => [] }, silentLogger);
    const fresh = () => JSON.stringify(readyDocument(f.view.evaluate(), f.view.thresholds));

    const before = get(router, "/health/ready");
    assert.equal(before.body, fresh());
    assert.deepEqual(before.headers, ["content-type", "application/json", "content-length", String(Buffer.byteLength(before.body)), "cache-control", "no-store"]);

    // A change of state with no time passing: the very next probe shows it.
    f.setLoad({ queueDepth: 3 });
    const queued = get(router, "/health/ready");
    assert.match(queued.body, /"queue_depth":3/);
    assert.equal(queued.body, fresh());
    f.health.failed("image", "ERROR_X", "worker");
    const failed = get(router, "/health/ready");
    assert.match(failed.body, /"failed":1/);
    assert.equal(failed.body, fresh());

    // Ages: one second later the balance age (and the oldest queued age) have moved.
    await f.clock.advance(1_000);
    const later = get(router, "/health/ready");
    assert.notEqual(later.body, failed.body);
    assert.equal(later.body, fresh());

    // HEAD: the same headers, no body.
    const head = get(router, "/health/ready", "HEAD");
    assert.equal(head.body, "");
    assert.deepEqual(head.headers, later.headers);
  });

  test("/health/live follows its uptime second by second", async () => {
    const f = fixture();
    const router = new Router();
    registerHealthRoutes(router, f.view, { history: () => [] }, silentLogger);
    const a = get(router, "/health/live");
    await f.clock.advance(1_000);
    const b = get(router, "/health/live");
    assert.equal(JSON.parse(b.body).uptime_s, JSON.parse(a.body).uptime_s + 1);
  });
});
