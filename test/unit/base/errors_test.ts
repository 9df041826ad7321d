import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { formatErrorMessage, isWorkerError, WorkerError } from "../../../src/base/errors.ts";

describe("WorkerError", () => {
  test("without a message it takes its code's template, filled from data", () => {
    const err = new WorkerError("ERR_BODY_TOO_LARGE", undefined, { field: "body", data: { limitBytes: 4096 } });
    assert.equal(err.message, "The body is over the limit of 4096 bytes.");
    assert.equal(err.field, "body");
    assert.deepEqual(err.data, { limitBytes: 4096 });
    assert.equal(err.name, "WorkerError");
  });

  test("a message given wins over the template; the cause is kept", () => {
    const cause = new Error("inner");
    const err = new WorkerError("ERR_NOT_FOUND", "No such task.", { cause });
    assert.equal(err.message, "No such task.");
    assert.equal(err.cause, cause);
    assert.deepEqual(err.data, {});
  });

  test("isWorkerError matches on the class and, if given, the code", () => {
    const err = new WorkerError("ERR_DRAINING");
    assert.ok(isWorkerError(err));
    assert.ok(isWorkerError(err, "ERR_DRAINING"));
    assert.ok(!isWorkerError(err, "ERR_NOT_READY"));
    assert.ok(!isWorkerError(Object.assign(new Error("x"), { code: "ERR_DRAINING" })));
  });
});

describe("formatErrorMessage", () => {
  test("leaves a placeholder without a value as written, and a code without a template as its code", () => {
    assert.equal(formatErrorMessage("ERR_QUEUE_FULL", {}), "The queue is full ({queueMax} tasks waiting).");
    assert.equal(formatErrorMessage("ERR_QUEUE_FULL", { queueMax: 3 }), "The queue is full (3 tasks waiting).");
    assert.equal(formatErrorMessage("ERR_CONFIG_INVALID"), "ERR_CONFIG_INVALID");
  });

  test("a value is inserted literally, not read as another placeholder or a replacement pattern", () => {
    assert.equal(formatErrorMessage("ERR_NOT_FOUND", { path: "/{path}/$&" }), "No resource at /{path}/$&.");
  });
});
