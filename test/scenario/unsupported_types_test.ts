/**
 * A task type the upstream does not take (docs/upstream.md): the task
 * fails with the upstream's code charged to nobody (readiness, the error rate, the failure streak
 * and the client's mistakes all untouched), is counted per type, shows on the status page, and new
 * tasks of the type are refused at submit in every API for 10 minutes, then one probe goes through;
 * other types go on. And the edge's own image limit: under 100 bytes is the client's mistake.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { CLIENT_KEY, gatewayHarness, PNG } from "../_support/gateway.ts";
import { advance, eventually, withHarness, type Harness } from "../_support/harness.ts";
import { PNG_99_B64 } from "../_support/images.ts";

const PAGE = "https://example.com/signup";
const TURNSTILE = { type: "turnstile", sitekey: "0x4AAAAAAAexample", pageurl: PAGE };
type Json = Record<string, unknown>;

const BEARER = { authorization: `Bearer ${CLIENT_KEY}` };
const postTask = async (h: Harness, body: Json) => {
  const res = await fetch(`${h.base}/v1/tasks`, { method: "POST", headers: { "content-type": "application/json", ...BEARER }, body: JSON.stringify(body) });
  return { status: res.status, retryAfter: res.headers.get("retry-after"), body: (await res.json()) as Json };
};
const inPhp = async (h: Harness, params: Record<string, string>) => (await fetch(`${h.base}/in.php`, { method: "POST", body: new URLSearchParams({ key: CLIENT_KEY, ...params }) })).text();
const v2 = async (h: Harness, method: string, body: Json) => (await (await fetch(`${h.base}/${method}`, { method: "POST", body: JSON.stringify({ clientKey: CLIENT_KEY, ...body }) })).json()) as Json;
const metric = async (h: Harness, pattern: RegExp) => pattern.exec(await (await fetch(`${h.base}/metrics`)).text())?.[1];

/** Posts a task on the task API and lets the worker take it to its end. */
async function ended(h: Harness, body: Json): Promise<Json> {
  const created = await postTask(h, body);
  assert.equal(created.status, 202, JSON.stringify(created.body));
  const id = created.body.id as string;
  await advance(h.clock, 2000);
  await eventually(() => ["solved", "failed"].includes(h.worker.pool.find(id)?.status ?? ""), "ended");
  return (await (await fetch(`${h.base}/v1/tasks/${id}`, { headers: BEARER })).json()) as Json;
}

describe("a task type the upstream does not take", () => {
  test("fails with its code charged to nobody, is counted and shown, and is refused at submit on every API for 10 minutes while other types go on; then one probe goes through", () =>
    withHarness(async (h) => {
      h.sim.control.setUnsupported(["turnstile"]);
      const before = h.worker.health.snapshot();

      const failed = await ended(h, TURNSTILE);
      assert.equal(failed.status, "failed");
      assert.equal((failed.error as Json).code, "ERROR_METHOD_CALL");
      const task = h.worker.pool.find(failed.id as string)!;
      assert.equal(task.error?.blame, undefined, "charged to nobody");

      // Health untouched: no failure for the worker or the client, no error rate, still ready.
      const after = h.worker.health.snapshot();
      assert.deepEqual([after.failed, after.clientFailed, after.consecutiveFailures, after.windowFailed], [before.failed, before.clientFailed, 0, 0]);
      assert.equal(after.errorRate, 0);
      assert.equal((await fetch(`${h.base}/health/ready`)).status, 200);
      assert.equal(await metric(h, /^captcha_worker_unsupported_total\{type="turnstile",code="ERROR_METHOD_CALL"\} (\d+)$/m), "1");
      assert.equal(await metric(h, /^captcha_worker_task_failures_total\{type="turnstile",code="ERROR_METHOD_CALL",blame="none"\} (\d+)$/m), "1");
      const page = await (await fetch(`${h.base}/`)).text();
      assert.match(page, /<p id="unsupported">Task types the upstream refused lately as unsupported: <code>turnstile<\/code> \(<code>ERROR_METHOD_CALL<\/code>, 1 task, last at [\d:]+ UTC; new ones refused at submit until [\d:]+ UTC\)\.<\/p>/);
      assert.ok(h.logs.some((l) => l.includes("the upstream does not take this task type") && l.includes('"type":"turnstile"')), "logged once");

      // The next one is refused at submit, in each API's terms; the simulator never sees it.
      const submitted = h.sim.counts().requests["in.php"];
      const refused = await postTask(h, TURNSTILE);
      assert.equal(refused.status, 422);
      assert.deepEqual([refused.body.code, refused.body.field], ["ERR_TYPE_UNSUPPORTED", "type"]);
      assert.match(refused.body.detail as string, /does not take turnstile tasks \(ERROR_METHOD_CALL\)/);
      assert.ok(Number(refused.retryAfter) > 590 && Number(refused.retryAfter) <= 600, String(refused.retryAfter));
      assert.equal(await inPhp(h, { method: "turnstile", sitekey: TURNSTILE.sitekey, pageurl: PAGE }), "ERROR_METHOD_CALL");
      const v2Refused = await v2(h, "createTask", { task: { type: "TurnstileTaskProxyless", websiteURL: PAGE, websiteKey: TURNSTILE.sitekey } });
      assert.deepEqual([v2Refused.errorId, v2Refused.errorCode], [23, "ERROR_TASK_NOT_SUPPORTED"]);
      assert.equal(h.sim.counts().requests["in.php"], submitted, "refused before the upstream");

      // A 2captcha client reads the upstream's code for the failed task, not ERROR_CAPTCHA_UNSOLVABLE.
      const legacyId = (await inPhp(h, { method: "base64", body: PNG })).slice(3);
      assert.match(legacyId, /^\d+$/, "other types go on");
      await advance(h.clock, 2000);
      await eventually(() => h.worker.pool.find(legacyId)?.status === "solved", "the image solved");
      assert.equal((await ended(h, { type: "recaptcha_v2", sitekey: "6Le-sitekey-abc", pageurl: PAGE })).status, "solved");

      // Ten minutes on: one probe goes through (the upstream still refuses it), the next waits again.
      await advance(h.clock, 10 * 60_000, 30_000);
      const probe = await ended(h, TURNSTILE);
      assert.equal((probe.error as Json).code, "ERROR_METHOD_CALL");
      assert.equal((await postTask(h, TURNSTILE)).status, 422, "refused again after the probe failed");
      assert.equal(await metric(h, /^captcha_worker_unsupported_total\{type="turnstile",code="ERROR_METHOD_CALL"\} (\d+)$/m), "2");
      assert.equal(h.logs.filter((l) => l.includes("the upstream does not take this task type")).length, 1, "learned once");

      // The upstream takes it again: the next probe is solved and the type is taken from then on.
      h.sim.control.setUnsupported([]);
      await advance(h.clock, 10 * 60_000, 30_000);
      assert.equal((await ended(h, TURNSTILE)).status, "solved", "the probe");
      assert.equal((await ended(h, TURNSTILE)).status, "solved", "taken again");
      assert.match(await (await fetch(`${h.base}/`)).text(), /<code>turnstile<\/code> \(<code>ERROR_METHOD_CALL<\/code>, 2 tasks, last at [\d:]+ UTC; taken again since\)/);
      assert.equal((await fetch(`${h.base}/health/ready`)).status, 200);
      assert.equal(h.worker.health.snapshot().failed, before.failed);
    }, gatewayHarness()));

  test("an answer in words (\"Unsupported captcha type\") reads as ERROR_TASK_NOT_SUPPORTED, on res.php too", () =>
    withHarness(async (h) => {
      h.sim.control.setUnsupported(["userrecaptcha"], "Unsupported captcha type");
      const id = (await inPhp(h, { method: "userrecaptcha", googlekey: "6Le-sitekey-abc", pageurl: PAGE })).slice(3);
      await advance(h.clock, 2000);
      await eventually(() => h.worker.pool.find(id)?.status === "failed", "failed");
      assert.equal(h.worker.pool.find(id)!.error?.code, "ERROR_TASK_NOT_SUPPORTED");
      assert.equal(await (await fetch(`${h.base}/res.php?${new URLSearchParams({ key: CLIENT_KEY, action: "get", id })}`)).text(), "ERROR_TASK_NOT_SUPPORTED");
      assert.equal(await inPhp(h, { method: "userrecaptcha", googlekey: "6Le-sitekey-abc", pageurl: PAGE }), "ERROR_METHOD_CALL", "refused at submit");
      assert.match(await inPhp(h, { method: "userrecaptcha", version: "v3", googlekey: "6Le-sitekey-abc", pageurl: PAGE }), /^OK\|\d+$/, "recaptcha_v3 is another type");
      assert.equal(h.worker.health.snapshot().failed, 0);
    }, gatewayHarness()));
});

describe("an image under 100 bytes", () => {
  test("is refused at the edge on all three APIs as the client's mistake (ERROR_ZERO_CAPTCHA_FILESIZE), never sent upstream", () =>
    withHarness(async (h) => {
      const native = await postTask(h, { type: "image", image: PNG_99_B64 });
      assert.equal(native.status, 400);
      assert.deepEqual([native.body.code, native.body.field], ["ERR_BAD_REQUEST", "image"]);
      assert.match(native.body.detail as string, /Invalid image: is 99 bytes, under the 100-byte minimum/);
      assert.equal(await inPhp(h, { method: "base64", body: PNG_99_B64 }), "ERROR_ZERO_CAPTCHA_FILESIZE");
      const created = await v2(h, "createTask", { task: { type: "ImageToTextTask", body: PNG_99_B64 } });
      assert.deepEqual([created.errorId, created.errorCode], [3, "ERROR_ZERO_CAPTCHA_FILESIZE"]);
      assert.match(created.errorDescription as string, /body/);
      assert.equal(h.sim.counts().requests["in.php"] ?? 0, 0);
    }, gatewayHarness()));
});

