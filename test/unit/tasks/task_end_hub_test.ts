import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createLogger } from "../../../src/base/log.ts";
import type { Task } from "../../../src/tasks/task.ts";
import { TaskEndHub } from "../../../src/tasks/task_end_hub.ts";

const task = (id: string) => ({ id, status: "solved" }) as Task;

function rig() {
  const logs: Array<Record<string, unknown>> = [];
  const hub = new TaskEndHub(createLogger({ level: "debug", write: (l) => logs.push(JSON.parse(l)) }));
  return { hub, logs };
}

describe("TaskEndHub", () => {
  test("publish calls every subscriber with the task, in the order they subscribed", () => {
    const { hub } = rig();
    const heard: string[] = [];
    hub.subscribe((t) => heard.push(`a:${t.id}`));
    hub.subscribe((t) => heard.push(`b:${t.id}`));
    hub.publish(task("1"));
    hub.publish(task("2"));
    assert.deepEqual(heard, ["a:1", "b:1", "a:2", "b:2"]);
  });

  test("a subscriber that throws is logged with the task's id and the others still hear the end", () => {
    const { hub, logs } = rig();
    const heard: string[] = [];
    hub.subscribe(() => {
      throw new Error("boom");
    });
    hub.subscribe((t) => heard.push(t.id));
    assert.doesNotThrow(() => hub.publish(task("7")));
    assert.deepEqual(heard, ["7"]);
    assert.equal(logs.length, 1);
    assert.equal(logs[0]!.level, "error");
    assert.equal(logs[0]!.id, "7");
  });

  test("unsubscribe stops one subscription; the same function subscribed twice is called twice", () => {
    const { hub } = rig();
    const heard: string[] = [];
    const listener = (t: Task) => void heard.push(t.id);
    const off = hub.subscribe(listener);
    hub.subscribe(listener);
    hub.publish(task("1"));
    off();
    hub.publish(task("2"));
    assert.deepEqual(heard, ["1", "1", "2"]);
    assert.equal(hub.size, 1);
  });

  test("a subscriber added while an end is published hears the next end, not this one", () => {
    const { hub } = rig();
    const heard: string[] = [];
    hub.subscribe(() => void hub.subscribe((t) => heard.push(t.id)));
    hub.publish(task("1"));
    assert.deepEqual(heard, []);
    hub.publish(task("2"));
    assert.deepEqual(heard, ["2"]);
  });
});
