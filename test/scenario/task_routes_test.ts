import assert from "node:assert/strict";
import { request } from "node:http";
import { connect } from "node:net";
import { describe, test } from "node:test";
import { advance, eventually, withHarness, type Harness } from "../_support/harness.ts";
import { json } from "../_support/http.ts";
import { PNG_B64, pngOfSize } from "../_support/images.ts";

const IMAGE = { type: "image", image: pngOfSize(150, 2).toString("base64") };
const post = (h: Harness, body: unknown, headers: Record<string, string> = {}, path = "/v1/tasks") =>
  fetch(h.base + path, { method: "POST", body: typeof body === "string" ? body : JSON.stringify(body), headers: { "content-type": "application/json", ...headers } });


describe("task API", () => {
  test("POST answers 202 with the id; GET follows the task to solved", () =>
    withHarness(async (h) => {
      const res = await post(h, IMAGE);
      assert.equal(res.status, 202);
      const { id, status } = await json(res);
      assert.equal(status, "queued");
      assert.equal(res.headers.get("location"), `/v1/tasks/${id}`);
      await advance(h.clock, 5000);
      await eventually(() => h.worker.pool.find(id)?.status === "solved", "solved");
      const got = await json(await fetch(`${h.base}/v1/tasks/${id}`));
      assert.equal(got.status, "solved");
      assert.equal(got.type, "image");
      assert.match(got.solution, /^[a-z0-9]{6}$/);
      assert.ok(got.created_at && got.solved_at);
    }));

  test("an ended task carries Server-Timing: queue, upstream, poll waits and the worker's own time", () =>
    withHarness(async (h) => {
      const first = await json(await post(h, IMAGE));
      const second = await json(await post(h, IMAGE));
      await eventually(() => h.worker.pool.inFlight === 1, "first submitted");
      const open = await fetch(`${h.base}/v1/tasks/${first.id}`);
      assert.equal(open.headers.get("server-timing"), null, "no timing before the end");
      await advance(h.clock, 5000);
      await eventually(() => h.worker.pool.find(first.id)?.status === "solved", "first solved");
      await eventually(() => h.worker.pool.inFlight === 1, "second submitted");
      await advance(h.clock, 5000);
      await eventually(() => h.worker.pool.find(second.id)?.status === "solved", "second solved");
      // The fake clock stands still during real I/O, so upstream calls take 0 ms here.
      const timing = async (id: string) => (await fetch(`${h.base}/v1/tasks/${id}`)).headers.get("server-timing");
      assert.equal(await timing(first.id), "queue;dur=0.00, upstream;dur=0.00, poll-wait;dur=5000.00, worker;dur=0.00, total;dur=5000.00");
      assert.equal(await timing(second.id), "queue;dur=5000.00, upstream;dur=0.00, poll-wait;dur=5000.00, worker;dur=0.00, total;dur=10000.00");
    }, { flags: { threads: "1" } }));

  test("Prefer: wait=N holds the answer until the task ends", () =>
    withHarness(async (h) => {
      const pending = post(h, { type: "turnstile", sitekey: "0x4AAAAAAAwait", pageurl: "https://e.com/" }, { prefer: "wait=60" });
      await eventually(() => h.worker.pool.inFlight === 1, "submitted");
      await advance(h.clock, 15_000);
      const res = await pending;
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("preference-applied"), "wait=60");
      assert.equal((await json(res)).status, "solved");
    }));

  test("?wait=N on GET answers when the wait passes, with the task as it is", () =>
    withHarness(async (h) => {
      const { id } = await json(await post(h, IMAGE));
      const pending = fetch(`${h.base}/v1/tasks/${id}?wait=2`);
      await eventually(() => h.worker.pool.stored.waiters === 1, "waiting");
      await h.clock.advance(2000);
      const body = await json(await pending);
      assert.equal(body.status, "submitted");
      assert.equal(h.worker.pool.stored.waiters, 0);
    }));

  test("a waiting client that disconnects leaves the task running and no waiter behind", () =>
    withHarness(async (h) => {
      const abort = new AbortController();
      const pending = post(h, IMAGE, { prefer: "wait=100" }).catch(() => "aborted");
      void pending;
      const req = fetch(`${h.base}/v1/tasks`, { method: "POST", body: JSON.stringify(IMAGE), headers: { "content-type": "application/json", prefer: "wait=100" }, signal: abort.signal }).catch(() => "aborted");
      await eventually(() => h.worker.pool.stored.waiters === 2, "two waiting");
      abort.abort();
      assert.equal(await req, "aborted");
      await eventually(() => h.worker.pool.stored.waiters === 1, "the gone client's waiter dropped");
      await advance(h.clock, 5000);
      await pending;
      await eventually(() => h.worker.pool.stored.open === 0, "both tasks ended");
      assert.equal(h.sim.counts().submitted, 2);
      assert.equal(h.worker.pool.stored.waiters, 0);
    }));

  test("validation: 400 problem details naming the field", () =>
    withHarness(async (h) => {
      const cases: Array<[unknown, string]> = [
        [[1, 2], "body"],
        [{}, "type"],
        [{ type: "audio" }, "type"],
        [{ type: "image" }, "image"],
        [{ type: "image", image: "not base64!" }, "image"],
        [{ type: "image", image: PNG_B64, numeric: 9 }, "numeric"],
        [{ type: "image", image: PNG_B64, min_len: 5, max_len: 3 }, "min_len"],
        [{ type: "image", image: PNG_B64, colour: "red" }, "colour"],
        [{ type: "image", image: PNG_B64, __proto__x: 1 }, "__proto__x"],
        [{ type: "recaptcha_v2", pageurl: "https://e.com/" }, "sitekey"],
        [{ type: "recaptcha_v2", sitekey: "6Le-valid-key", pageurl: "javascript:alert(1)" }, "pageurl"],
        [{ type: "recaptcha_v3", sitekey: "6Le-valid-key", pageurl: "https://e.com/", min_score: 2 }, "min_score"],
        [{ type: "turnstile", sitekey: "0x4AAAAAAAok", pageurl: "https://e.com/", invisible: true }, "invisible"],
      ];
      for (const [body, field] of cases) {
        const res = await post(h, body);
        assert.equal(res.status, 400, JSON.stringify(body));
        assert.equal(res.headers.get("content-type"), "application/problem+json");
        const p = await json(res);
        assert.deepEqual([p.code, p.field, p.status], ["ERR_BAD_REQUEST", field, 400], JSON.stringify(body));
      }
      const proto = await post(h, `{"type":"image","image":"${PNG_B64}","__proto__":{"admin":true}}`);
      assert.equal((await json(proto)).field, "__proto__");
      assert.equal((await json(await post(h, "{not json"))).field, "body");
      const badUtf8 = await fetch(`${h.base}/v1/tasks`, { method: "POST", body: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), headers: { "content-type": "application/json" } });
      assert.equal((await json(badUtf8)).field, "body");
      assert.equal((await json(await fetch(`${h.base}/v1/tasks?wait=abc`, { method: "POST", body: JSON.stringify(IMAGE), headers: { "content-type": "application/json" } }))).field, "wait");
      assert.equal((await fetch(`${h.base}/v1/tasks?wait=121`, { method: "POST", body: JSON.stringify(IMAGE), headers: { "content-type": "application/json" } })).status, 400);
      assert.equal(h.sim.counts().requests["in.php"] ?? 0, 0, "nothing bad reached the upstream");
      // RFC 7240 §2: a preference value the server does not understand is ignored, not refused.
      const ignored = await fetch(`${h.base}/v1/tasks`, { method: "POST", body: JSON.stringify(IMAGE), headers: { "content-type": "application/json", prefer: "wait=abc" } });
      assert.equal(ignored.status, 202);
      assert.equal(ignored.headers.get("preference-applied"), null);
    }));

  test("415 for a wrong content type, 413 over the limit with the connection closed", () =>
    withHarness(async (h) => {
      const wrong = await fetch(`${h.base}/v1/tasks`, { method: "POST", body: JSON.stringify(IMAGE), headers: { "content-type": "text/plain" } });
      assert.equal(wrong.status, 415);
      assert.equal((await json(wrong)).code, "ERR_UNSUPPORTED_MEDIA_TYPE");
      const declared = await post(h, { ...IMAGE, image: "A".repeat(3 * 1024 * 1024) });
      assert.equal(declared.status, 413);
      assert.equal(declared.headers.get("connection"), "close");
      // A chunked body with no length: cut off as it streams past the limit, not read to its end.
      const streamed = await new Promise<{ status: number; sentMb: number }>((resolve, reject) => {
        const req = request(`${h.base}/v1/tasks`, { method: "POST", headers: { "content-type": "application/json" } }, (res) => {
          res.resume();
          resolve({ status: res.statusCode!, sentMb: sent / 1024 / 1024 });
        });
        let sent = 0;
        req.on("error", () => resolve({ status: 0, sentMb: sent / 1024 / 1024 }));
        const chunk = Buffer.alloc(64 * 1024, 0x41);
        req.write('{"type":"image","image":"');
        const pump = () => {
          while (sent < 64 * 1024 * 1024) {
            sent += chunk.length;
            if (!req.write(chunk)) return void req.once("drain", pump);
          }
          req.end('"}');
        };
        pump();
        setTimeout(() => reject(new Error("no answer")), 30_000).unref();
      });
      assert.equal(streamed.status, 413);
      assert.ok(streamed.sentMb < 64, `the worker stopped reading after ${streamed.sentMb} MiB`);
    }));

  test("429 with Retry-After when the queue is full", () =>
    withHarness(async (h) => {
      h.sim.control.setFault("in.php", { hang: true });
      assert.equal((await post(h, IMAGE)).status, 202);
      await eventually(() => h.worker.pool.inFlight === 1, "in flight");
      assert.equal((await post(h, IMAGE)).status, 202);
      const full = await post(h, IMAGE);
      assert.equal(full.status, 429);
      assert.equal(full.headers.get("retry-after"), "5");
      assert.equal((await json(full)).code, "ERR_QUEUE_FULL");
      h.sim.control.clearFaults();
    }, { flags: { threads: "1", "queue-max": "1" } }));

  test("503 with Retry-After when not ready, and when draining", () =>
    withHarness(async (h) => {
      h.sim.control.setBalance(0.5);
      await h.worker.checks.refresh("captchaai_api");
      const low = await post(h, IMAGE);
      assert.equal(low.status, 503);
      assert.equal(low.headers.get("retry-after"), "10");
      const p = await json(low);
      assert.equal(p.code, "ERR_NOT_READY");
      assert.match(p.detail, /low_balance=\$0\.50/);
      h.sim.control.setBalance(10);
      await h.worker.checks.refresh("captchaai_api");
      assert.equal((await post(h, IMAGE)).status, 202);
      h.worker.beginDrain();
      const draining = await post(h, IMAGE);
      assert.equal(draining.status, 503);
      assert.equal((await json(draining)).code, "ERR_DRAINING");
      assert.equal((await fetch(`${h.base}/v1/tasks/x`)).status, 404, "reads still work while draining");
    }));

  test("401 without the bearer token when --api-token-file is set; health and metrics stay open", () =>
    withHarness(async (h) => {
      assert.equal((await post(h, IMAGE)).status, 401);
      const wrong = await post(h, IMAGE, { authorization: "Bearer nope" });
      assert.equal(wrong.status, 401);
      assert.equal(wrong.headers.get("www-authenticate"), 'Bearer realm="captcha-worker"');
      assert.equal((await post(h, IMAGE, { authorization: "Bearer s3cret-token-0123456789" })).status, 202);
      assert.equal((await fetch(`${h.base}/v1/tasks/x`)).status, 401);
      assert.equal((await fetch(`${h.base}/health/live`)).status, 200);
      assert.equal((await fetch(`${h.base}/metrics`)).status, 200);
    }, { apiToken: "s3cret-token-0123456789" }));

  test("report forwards reportgood/reportbad for a solved task once; 409 before that and for a second report; 404 for unknown ids", () =>
    withHarness(async (h) => {
      const { id } = await json(await post(h, IMAGE));
      const early = await post(h, { correct: true }, {}, `/v1/tasks/${id}/report`);
      assert.equal(early.status, 409);
      await advance(h.clock, 5000);
      await eventually(() => h.worker.pool.find(id)?.status === "solved", "solved");
      assert.equal((await json(await post(h, { correct: "yes" }, {}, `/v1/tasks/${id}/report`))).field, "correct");
      const ok = await post(h, { correct: false }, {}, `/v1/tasks/${id}/report`);
      assert.equal(ok.status, 200);
      assert.deepEqual(await json(ok), { id, reported: "bad" });
      assert.equal(h.sim.counts().requests["res.php:report"], 1);
      const again = await post(h, { correct: true }, {}, `/v1/tasks/${id}/report`);
      assert.equal(again.status, 409, "a second report is the client's mistake, not a 502");
      assert.match((await json(again)).detail, /already reported \(bad\)/);
      assert.equal(h.sim.counts().requests["res.php:report"], 1, "and is not sent upstream");
      assert.equal((await post(h, { correct: true }, {}, "/v1/tasks/nope/report")).status, 404);
    }));

  test("two reports of a task at once: one is forwarded upstream (200), the other is 409 and never sent", () =>
    withHarness(async (h) => {
      const { id } = await json(await post(h, IMAGE));
      await advance(h.clock, 5000);
      await eventually(() => h.worker.pool.find(id)?.status === "solved", "solved");
      const both = await Promise.all([post(h, { correct: false }, {}, `/v1/tasks/${id}/report`), post(h, { correct: true }, {}, `/v1/tasks/${id}/report`)]);
      assert.deepEqual(both.map((r) => r.status).sort(), [200, 409]);
      assert.equal(h.sim.counts().requests["res.php:report"], 1, "one report upstream");
    }));

  test("finished tasks are forgotten after the retention time and then answer 404", () =>
    withHarness(async (h) => {
      const { id } = await json(await post(h, IMAGE));
      await advance(h.clock, 5000);
      await eventually(() => h.worker.pool.find(id)?.status === "solved", "solved");
      await h.clock.advance(3_600_000);
      assert.equal((await fetch(`${h.base}/v1/tasks/${id}`)).status, 404);
    }));

  test("raw garbage on the socket gets a 400 and the worker keeps serving", () =>
    withHarness(async (h) => {
      const answer = await new Promise<string>((resolve) => {
        const s = connect(h.worker.address.port, "127.0.0.1", () => s.end("\u0000\u0001GARBAGE / HTTP/9\r\n\r\n"));
        let out = "";
        s.on("data", (c) => (out += c));
        s.on("close", () => resolve(out));
      });
      assert.match(answer, /^HTTP\/1\.1 400/);
      assert.equal((await fetch(`${h.base}/health/live`)).status, 200);
    }));
});
