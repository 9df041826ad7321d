// 2captcha's JSON API v2 on the worker, with plain HTTP: each method, task type and error.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { CLIENT_KEY, gatewayHarness, OTHER_KEY, PNG } from "../_support/gateway.ts";
import { advance, eventually, withHarness, type Harness } from "../_support/harness.ts";

type Answer = Record<string, unknown> & { errorId: number; errorCode?: string };
const call = async (h: Harness, method: string, body: unknown): Promise<Answer> => {
  const res = await fetch(`${h.base}/${method}`, { method: "POST", headers: { "content-type": "application/json" }, body: typeof body === "string" ? body : JSON.stringify(body) });
  assert.equal(res.status, 200, method);
  assert.equal(res.headers.get("content-type"), "application/json");
  return (await res.json()) as Answer;
};
const PAGE = "https://example.com/login";

async function solved(h: Harness, task: Record<string, unknown>): Promise<number> {
  const created = await call(h, "createTask", { clientKey: CLIENT_KEY, task });
  assert.equal(created.errorId, 0, JSON.stringify(created));
  const id = created.taskId as number;
  await advance(h.clock, 2000);
  await eventually(() => h.worker.pool.find(String(id))?.status === "solved", "solved");
  return id;
}

describe("gateway: API v2", () => {
  test("createTask answers {errorId:0, taskId} as a JSON number; getTaskResult goes processing -> ready with text, cost, times, solveCount", () =>
    withHarness(async (h) => {
      const created = await call(h, "createTask", { clientKey: CLIENT_KEY, task: { type: "ImageToTextTask", body: PNG, numeric: 1, case: true, math: false, minLength: 4, maxLength: 8, comment: "red letters" }, softId: 123, languagePool: "en" });
      assert.equal(created.errorId, 0);
      assert.ok(Number.isSafeInteger(created.taskId) && (created.taskId as number) > 0);
      assert.deepEqual(h.worker.pool.find(String(created.taskId))!.params, { type: "image", image: PNG, numeric: 1, regsense: true, calc: false, min_len: 4, max_len: 8, textinstructions: "red letters", client: "alpha" });
      assert.deepEqual(await call(h, "getTaskResult", { clientKey: CLIENT_KEY, taskId: created.taskId }), { errorId: 0, status: "processing" });
      await advance(h.clock, 2000);
      await eventually(() => h.worker.pool.find(String(created.taskId))?.status === "solved", "solved");
      const r = await call(h, "getTaskResult", { clientKey: CLIENT_KEY, taskId: String(created.taskId) });
      assert.equal(r.status, "ready");
      assert.match((r.solution as { text: string }).text, /^[a-z0-9]{6}$/);
      assert.equal(r.cost, "0");
      assert.ok(typeof r.createTime === "number" && typeof r.endTime === "number" && r.endTime >= r.createTime);
      assert.equal(r.solveCount, 1);
    }, gatewayHarness()));

  test("reCAPTCHA v2, v2 Enterprise, v3 and Turnstile tasks map to the worker's types; solutions carry gRecaptchaResponse or token", () =>
    withHarness(async (h) => {
      const params = async (task: Record<string, unknown>) => h.worker.pool.find(String((await call(h, "createTask", { clientKey: CLIENT_KEY, task })).taskId))!.params;
      assert.deepEqual(await params({ type: "RecaptchaV2TaskProxyless", websiteURL: PAGE, websiteKey: "6Le-sitekey-abc", isInvisible: true }),
        { type: "recaptcha_v2", sitekey: "6Le-sitekey-abc", pageurl: PAGE, invisible: true, client: "alpha" });
      assert.deepEqual(await params({ type: "RecaptchaV2EnterpriseTaskProxyless", websiteURL: PAGE, websiteKey: "6Le-sitekey-abc" }),
        { type: "recaptcha_v2", sitekey: "6Le-sitekey-abc", pageurl: PAGE, enterprise: true, client: "alpha" });
      assert.deepEqual(await params({ type: "RecaptchaV3TaskProxyless", websiteURL: PAGE, websiteKey: "6Le-sitekey-abc", minScore: 0.7, pageAction: "login" }),
        { type: "recaptcha_v3", sitekey: "6Le-sitekey-abc", pageurl: PAGE, min_score: 0.7, action: "login", client: "alpha" });
      assert.deepEqual(await params({ type: "TurnstileTaskProxyless", websiteURL: PAGE, websiteKey: "0x4AAAAAAAexample", action: "signup", data: "cd" }),
        { type: "turnstile", sitekey: "0x4AAAAAAAexample", pageurl: PAGE, action: "signup", data: "cd", client: "alpha" });
      const re = await solved(h, { type: "RecaptchaV2TaskProxyless", websiteURL: PAGE, websiteKey: "6Le-sitekey-abc" });
      const reSolution = (await call(h, "getTaskResult", { clientKey: CLIENT_KEY, taskId: re })).solution as Record<string, string>;
      assert.ok(reSolution.gRecaptchaResponse!.length > 100 && reSolution.token === reSolution.gRecaptchaResponse);
      const ts = await solved(h, { type: "TurnstileTaskProxyless", websiteURL: PAGE, websiteKey: "0x4AAAAAAAexample" });
      assert.ok(((await call(h, "getTaskResult", { clientKey: CLIENT_KEY, taskId: ts })).solution as Record<string, string>).token!.length > 20);
    }, gatewayHarness()));

  test("getBalance answers from the cache; reportCorrect, reportIncorrect and anti-captcha's names answer success once", () =>
    withHarness(async (h) => {
      assert.deepEqual(await call(h, "getBalance", { clientKey: CLIENT_KEY }), { errorId: 0, balance: 10 });
      const ids = [];
      for (let i = 0; i < 5; i++) ids.push(await solved(h, { type: "ImageToTextTask", body: PNG }));
      const methods = ["reportCorrect", "reportIncorrect", "reportIncorrectImageCaptcha", "reportIncorrectRecaptcha", "reportCorrectRecaptcha"];
      for (const [i, m] of methods.entries()) assert.deepEqual(await call(h, m, { clientKey: CLIENT_KEY, taskId: ids[i] }), { errorId: 0, status: "success" }, m);
      assert.equal(h.worker.pool.find(String(ids[0]))!.reported, "good");
      assert.equal(h.worker.pool.find(String(ids[1]))!.reported, "bad");
      assert.equal((await call(h, "reportCorrect", { clientKey: CLIENT_KEY, taskId: ids[0] })).errorCode, "ERROR_DUPLICATE_REPORT");
    }, gatewayHarness()));

  test("errors carry 2captcha's errorId, errorCode and errorDescription, with status 200", () =>
    withHarness(async (h) => {
      const image = { type: "ImageToTextTask", body: PNG };
      const cases: [string, unknown, number, string][] = [
        ["createTask", { task: image }, 1, "ERROR_KEY_DOES_NOT_EXIST"],
        ["createTask", { clientKey: "nope-nope-nope", task: image }, 1, "ERROR_KEY_DOES_NOT_EXIST"],
        ["createTask", { clientKey: 42, task: image }, 1, "ERROR_KEY_DOES_NOT_EXIST"],
        ["createTask", "not json", 1, "ERROR_KEY_DOES_NOT_EXIST"],
        ["createTask", [1, 2], 1, "ERROR_KEY_DOES_NOT_EXIST"],
        ["createTask", { clientKey: CLIENT_KEY }, 22, "ERROR_TASK_ABSENT"],
        ["createTask", { clientKey: CLIENT_KEY, task: "image" }, 22, "ERROR_TASK_ABSENT"],
        ["createTask", { clientKey: CLIENT_KEY, task: { type: "HCaptchaTaskProxyless" } }, 23, "ERROR_TASK_NOT_SUPPORTED"],
        ["createTask", { clientKey: CLIENT_KEY, task: { type: "__proto__" } }, 23, "ERROR_TASK_NOT_SUPPORTED"],
        ["createTask", { clientKey: CLIENT_KEY, task: { type: "ImageToTextTask" } }, 3, "ERROR_ZERO_CAPTCHA_FILESIZE"],
        ["createTask", { clientKey: CLIENT_KEY, task: { type: "ImageToTextTask", body: "###" } }, 15, "ERROR_IMAGE_TYPE_NOT_SUPPORTED"],
        ["createTask", { clientKey: CLIENT_KEY, task: { type: "ImageToTextTask", body: PNG, numeric: { x: 1 } } }, 110, "ERROR_BAD_PARAMETERS"],
        ["createTask", { clientKey: CLIENT_KEY, task: { type: "RecaptchaV2TaskProxyless", websiteURL: PAGE } }, 31, "ERROR_RECAPTCHA_INVALID_SITEKEY"],
        ["createTask", { clientKey: CLIENT_KEY, task: { type: "RecaptchaV2TaskProxyless", websiteKey: "6Le-sitekey-abc" } }, 110, "ERROR_BAD_PARAMETERS"],
        ["createTask", { clientKey: CLIENT_KEY, task: image, callbackUrl: "http://169.254.169.254/latest" }, 110, "ERROR_BAD_PARAMETERS"],
        ["getTaskResult", { clientKey: CLIENT_KEY, taskId: 12345 }, 16, "ERROR_NO_SUCH_CAPCHA_ID"],
        ["getTaskResult", { clientKey: CLIENT_KEY, taskId: "abc" }, 16, "ERROR_NO_SUCH_CAPCHA_ID"],
        ["getTaskResult", { clientKey: CLIENT_KEY }, 16, "ERROR_NO_SUCH_CAPCHA_ID"],
        ["getTaskResult", { taskId: 1 }, 1, "ERROR_KEY_DOES_NOT_EXIST"],
        ["getBalance", {}, 1, "ERROR_KEY_DOES_NOT_EXIST"],
        ["reportCorrect", { clientKey: CLIENT_KEY, taskId: 1 }, 16, "ERROR_NO_SUCH_CAPCHA_ID"],
      ];
      for (const [method, body, errorId, errorCode] of cases) {
        const r = await call(h, method, body);
        assert.deepEqual([r.errorId, r.errorCode, typeof r.errorDescription], [errorId, errorCode, "string"], `${method} ${JSON.stringify(body)}`);
      }
      const big = await call(h, "createTask", { clientKey: CLIENT_KEY, task: { type: "ImageToTextTask", body: "A".repeat(2 * 1024 * 1024 + 4) } });
      assert.equal(big.errorCode, "ERROR_TOO_BIG_CAPTCHA_FILESIZE");
      assert.equal((await fetch(`${h.base}/createTask`)).status, 405);
    }, gatewayHarness()));

  test("a failed task reads as ERROR_CAPTCHA_UNSOLVABLE (errorId 12); another client's task as ERROR_NO_SUCH_CAPCHA_ID", () =>
    withHarness(async (h) => {
      h.sim.control.setUnsolvableRatio(1);
      const { taskId } = await call(h, "createTask", { clientKey: CLIENT_KEY, task: { type: "ImageToTextTask", body: PNG } });
      assert.equal((await call(h, "getTaskResult", { clientKey: OTHER_KEY, taskId })).errorCode, "ERROR_NO_SUCH_CAPCHA_ID");
      for (let i = 0; i < 10 && h.worker.pool.find(String(taskId))?.status !== "failed"; i++) await advance(h.clock, 2000);
      const r = await call(h, "getTaskResult", { clientKey: CLIENT_KEY, taskId });
      assert.deepEqual([r.errorId, r.errorCode], [12, "ERROR_CAPTCHA_UNSOLVABLE"]);
    }, gatewayHarness()));

  test("createTask answers ERROR_NO_SLOT_AVAILABLE (errorId 2) while the worker drains", () =>
    withHarness(async (h) => {
      h.worker.beginDrain();
      const r = await call(h, "createTask", { clientKey: CLIENT_KEY, task: { type: "ImageToTextTask", body: PNG } });
      assert.deepEqual([r.errorId, r.errorCode], [2, "ERROR_NO_SLOT_AVAILABLE"]);
    }, gatewayHarness()));
});
