import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { MAX_WAIT_S, readWait } from "../../../src/http/wait_param.ts";

const q = (s: string) => new URLSearchParams(s);

describe("readWait", () => {
  test("readWait reads ?wait=N and RFC 7240's Prefer: wait=N in whole seconds; the query wins", () => {
    assert.deepEqual(readWait(q(""), undefined), { kind: "none" });
    assert.deepEqual(readWait(q("wait=30"), undefined), { kind: "wait", seconds: 30 });
    assert.deepEqual(readWait(q(""), "respond-async, wait=15"), { kind: "wait", seconds: 15 });
    assert.deepEqual(readWait(q(""), 'wait="7"'), { kind: "wait", seconds: 7 });
    assert.deepEqual(readWait(q("wait=0"), "wait=90"), { kind: "wait", seconds: 0 });
  });

  test("readWait ignores a Prefer value it does not understand (RFC 7240 §2) and caps a large one; a bad ?wait= is invalid", () => {
    assert.deepEqual(readWait(q(""), "wait=abc"), { kind: "none" });
    assert.deepEqual(readWait(q(""), "wait=12abc"), { kind: "none" });
    assert.deepEqual(readWait(q(""), "wait=999"), { kind: "wait", seconds: MAX_WAIT_S });
    for (const bad of ["wait=abc", "wait=-1", "wait=1.5", "wait=", `wait=${MAX_WAIT_S + 1}`, "wait=1234567"]) assert.deepEqual(readWait(q(bad), undefined), { kind: "invalid" }, bad);
    assert.deepEqual(readWait(q(`wait=${MAX_WAIT_S}`), undefined), { kind: "wait", seconds: MAX_WAIT_S });
  });
});
