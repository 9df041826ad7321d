import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { isWorkerError, WorkerError } from "../../../src/base/errors.ts";
import { createIntake, INTAKE_REFUSALS, type Caller } from "../../../src/intake/submit_task.ts";
import type { Refusal } from "../../../src/intake/admission.ts";
import type { Task } from "../../../src/tasks/task.ts";
import type { TaskParams } from "../../../src/tasks/task_catalogue.ts";
import { UnsupportedTypes } from "../../../src/health/unsupported_types.ts";
import { FakeClock } from "../../_support/fake_clock.ts";
import { PNG_B64 } from "../../_support/images.ts";
import { makeTask } from "../../_support/tasks.ts";
import { problemFromError } from "../../../src/http/problem.ts";
import { TaskProxy } from "../../../src/tasks/task_proxy.ts";

/** A pool port that records what it was asked and answers as told. */
function fakePool(o: { atLimit?: boolean; accept?: (p: TaskParams) => Task | Error; takes?: (type: string, proxied: boolean) => boolean } = {}) {
  const calls: string[] = [];
  const accepted: TaskParams[] = [];
  return {
    calls,
    accepted,
    takes(type: string, proxied: boolean) {
      return o.takes?.(type, proxied) ?? true;
    },
    atClientLimit(name: string, max: number | undefined) {
      calls.push(`limit:${name}:${max}`);
      return o.atLimit ?? false;
    },
    async accept(_type: string, params: TaskParams) {
      calls.push("accept");
      const r = o.accept?.(params) ?? ({ id: "1", params } as unknown as Task);
      if (r instanceof Error) throw r;
      accepted.push(params);
      return r;
    },
  };
}

function counts() {
  const seen: string[] = [];
  return { seen, accepted: (n: string) => void seen.push(`accepted:${n}`), refused: (n: string) => void seen.push(`refused:${n}`) };
}

const ALPHA: Caller = { kind: "client", name: "alpha", maxInFlight: 2 };
const IMAGE: TaskParams = { type: "image", image: PNG_B64 };
const rejects = (p: Promise<unknown>, code: string) => assert.rejects(p, (err: unknown) => isWorkerError(err) && err.code === code);

describe("createIntake", () => {
  test("one order for every API: admission, then the client's limit, then the pool; the client's name goes with the task", async () => {
    const pool = fakePool();
    const c = counts();
    const submit = createIntake({ pool, admission: () => undefined, clientMetrics: c });
    await submit(ALPHA, IMAGE);
    assert.deepEqual(pool.calls, ["limit:alpha:2", "accept"]);
    assert.deepEqual(pool.accepted, [{ type: "image", image: PNG_B64, client: "alpha" }]);
    assert.deepEqual(c.seen, ["accepted:alpha"]);
  });

  test("not ready refuses before the client's limit is looked at; the refusal is counted for the client", async () => {
    const pool = fakePool({ atLimit: true });
    const c = counts();
    const refusal: Refusal = { code: "ERR_NOT_READY", detail: "Not ready: circuit_open." };
    const submit = createIntake({ pool, admission: () => refusal, clientMetrics: c });
    await rejects(submit(ALPHA, IMAGE), "ERR_NOT_READY");
    assert.deepEqual(pool.calls, []);
    assert.deepEqual(c.seen, ["refused:alpha"]);
  });

  test("a client at its limit is refused with ERR_CLIENT_LIMIT naming the limit; the pool is not asked", async () => {
    const pool = fakePool({ atLimit: true });
    const submit = createIntake({ pool, admission: () => undefined });
    await assert.rejects(submit(ALPHA, IMAGE), (err: unknown) => isWorkerError(err, "ERR_CLIENT_LIMIT") && err.data.limit === 2);
    assert.deepEqual(pool.calls, ["limit:alpha:2"]);
  });

  test("the pool's refusals (a full queue, the state dir) are refusals like the others; anything else is not counted as one", async () => {
    for (const code of ["ERR_QUEUE_FULL", "ERR_STATE_DIR", "ERR_DRAINING"] as const) {
      const c = counts();
      const submit = createIntake({ pool: fakePool({ accept: () => new WorkerError(code) }), admission: () => undefined, clientMetrics: c });
      await rejects(submit(ALPHA, IMAGE), code);
      assert.deepEqual(c.seen, ["refused:alpha"], code);
      assert.ok((INTAKE_REFUSALS as readonly string[]).includes(code));
    }
    const c = counts();
    const submit = createIntake({ pool: fakePool({ accept: () => new Error("disk on fire") }), admission: () => undefined, clientMetrics: c });
    await assert.rejects(submit(ALPHA, IMAGE), /disk on fire/);
    assert.deepEqual(c.seen, []);
  });

  test("the operator has no limit and no counts; its task carries no client", async () => {
    const pool = fakePool({ atLimit: true });
    const c = counts();
    await createIntake({ pool, admission: () => undefined, clientMetrics: c })({ kind: "operator" }, IMAGE);
    assert.deepEqual(pool.calls, ["accept"]);
    assert.deepEqual(pool.accepted, [IMAGE]);
    assert.deepEqual(c.seen, []);
  });

  test("a type the upstream refused lately is refused ERR_TYPE_UNSUPPORTED (422 naming type) before admission, not counted as the client's refusal; other types go on", async () => {
    const clock = new FakeClock();
    const unsupported = new UnsupportedTypes(clock);
    unsupported.taskEnded(makeTask("1", { type: "turnstile", status: "failed", error: { code: "ERROR_METHOD_CALL", message: "" } }));
    const pool = fakePool();
    const c = counts();
    let admissions = 0;
    const submit = createIntake({ pool, admission: () => void admissions++, clientMetrics: c, unsupported });
    const turnstile = { type: "turnstile", sitekey: "0x4AAAAAAAexample", pageurl: "https://a.example/" } as TaskParams;
    await assert.rejects(submit(ALPHA, turnstile), (err: unknown) =>
      isWorkerError(err, "ERR_TYPE_UNSUPPORTED") && err.field === "type" && err.data.retryAfterS === 600 && /does not take turnstile tasks \(ERROR_METHOD_CALL\); they are refused for 600 s more/.test(err.message));
    assert.deepEqual([pool.calls, admissions, c.seen], [[], 0, []]);
    await submit(ALPHA, IMAGE);
    assert.deepEqual(c.seen, ["accepted:alpha"]);
  });

  test("a type no provider in use takes (or not with the task's proxy) is refused ERR_TYPE_UNSUPPORTED before admission, for good: no Retry-After", async () => {
    const clock = new FakeClock();
    const unsupported = new UnsupportedTypes(clock);
    const pool = fakePool({ takes: (type, proxied) => type === "turnstile" && !proxied });
    const c = counts();
    let admissions = 0;
    const submit = createIntake({ pool, admission: () => void admissions++, clientMetrics: c, unsupported });
    const refused = (err: unknown) => isWorkerError(err, "ERR_TYPE_UNSUPPORTED") && err.field === "type" && err.data.retryAfterS === undefined;
    await assert.rejects(submit(ALPHA, IMAGE), (err: unknown) => refused(err) && /No provider in use takes image tasks\.$/.test((err as Error).message));
    const turnstile = { type: "turnstile", sitekey: "0x4AAAAAAAexample", pageurl: "https://a.example/" } as TaskParams;
    const proxy = TaskProxy.parse("u:p@10.0.0.1:3128", "HTTP") as TaskProxy;
    await assert.rejects(submit(ALPHA, { ...turnstile, proxy }), (err: unknown) => refused(err) && /turnstile tasks with a proxy/.test((err as Error).message));
    assert.deepEqual([pool.calls, admissions, c.seen], [[], 0, []], "refused before admission, not the client's refusal");
    await submit(ALPHA, turnstile);
    assert.deepEqual(c.seen, ["accepted:alpha"]);
    assert.equal(problemFromError(new WorkerError("ERR_TYPE_UNSUPPORTED", "x", { data: { type: "image" } })).headers["retry-after"], undefined);
  });

  test("the probe past the window is given back when the task is refused for another reason, so the next one may probe", async () => {
    const clock = new FakeClock();
    const unsupported = new UnsupportedTypes(clock);
    unsupported.taskEnded(makeTask("1", { type: "turnstile", status: "failed", error: { code: "ERROR_METHOD_CALL", message: "" } }));
    await clock.advance(600_000);
    let ready = false;
    const refusal: Refusal = { code: "ERR_NOT_READY", detail: "Not ready." };
    const submit = createIntake({ pool: fakePool(), admission: () => (ready ? undefined : refusal), unsupported });
    const turnstile = { type: "turnstile", sitekey: "0x4AAAAAAAexample", pageurl: "https://a.example/" } as TaskParams;
    await rejects(submit(ALPHA, turnstile), "ERR_NOT_READY");
    ready = true;
    await submit(ALPHA, turnstile);
    await rejects(submit(ALPHA, turnstile), "ERR_TYPE_UNSUPPORTED");
  });
});
