import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { TaskQueues } from "../../../src/solver/_task_queues.ts";
import type { Task } from "../../../src/tasks/task.ts";
import type { TaskParams } from "../../../src/tasks/task_catalogue.ts";
import { TaskProxy } from "../../../src/tasks/task_proxy.ts";

const TURNSTILE: TaskParams = { type: "turnstile", sitekey: "0x4AAAAAAAunit", pageurl: "https://example.com/" };
const PROXIED: TaskParams = { ...TURNSTILE, proxy: TaskProxy.parse("u:p@10.0.0.1:3128", "HTTP") as TaskProxy };
const V2: TaskParams = { type: "recaptcha_v2", sitekey: "k".repeat(40), pageurl: "https://example.com/" };

let ids = 0;
const task = (params: TaskParams, deadlineAt = 1e12): Task => ({ id: String(++ids), type: params.type, kind: "token", params, createdAt: ids, deadlineAt, status: "queued" }) as Task;
const none = () => false;

describe("TaskQueues", () => {
  test("one order across the classes of a kind; one put back goes before all; a class passed over is looked past, whatever its length", () => {
    const q = new TaskQueues();
    const stuck = Array.from({ length: 50_000 }, () => task(PROXIED));
    for (const t of stuck) q.add(t);
    const [a, b] = [task(V2), task(TURNSTILE)];
    q.add(a);
    q.add(b);
    assert.equal(q.head("token"), stuck[0]);
    assert.equal(q.oldest("token", (key) => key === "turnstile+proxy", 0), a);
    q.remove(a);
    q.add(a, true);
    assert.equal(q.head("token"), a, "put back at the head");
    assert.deepEqual([q.size, q.ofKind("token"), q.ofClass("turnstile+proxy"), q.ofClass("recaptcha_v2")], [50_002, 50_002, 50_000, 1]);
  });

  test("a task out and back has one live entry; ended ones and those past their deadline are passed over", () => {
    const q = new TaskQueues();
    const [a, b, c] = [task(V2), task(V2, 5), task(V2)];
    for (const t of [a, b, c]) q.add(t);
    q.remove(a);
    q.add(a); // back of the line: its old entry is dead
    q.add(a); // already queued: nothing
    assert.deepEqual(q.ofType("recaptcha_v2", "token"), [b, c, a]);
    assert.equal(q.oldest("token", none, 10), c, "b's deadline has come: it is failing");
    c.status = "failed";
    q.remove(c);
    assert.equal(q.oldest("token", none, 10), a);
    assert.equal(q.size, 2);
  });
});
