/** The pool's upstream warnings go through RepeatLimiter (unit-tested in test/unit/base/repeat_limiter_test.ts). */
import assert from "node:assert/strict";
import { test } from "node:test";
import { advance, startHarness } from "../_support/harness.ts";
import { pngOfSize } from "../_support/images.ts";

test("a failing upstream writes one line per endpoint and code, not one per call", async () => {
  const h = await startHarness({ flags: { "task-timeout": "10s" } });
  try {
    h.sim.control.setFault("in.php", { error: "MAX_USER_TURN" });
    const image = { type: "image", image: pngOfSize(150, 3).toString("base64") };
    for (let i = 0; i < 5; i++) await fetch(h.base + "/v1/tasks", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(image) });
    await advance(h.clock, 9_000, 500);
    const calls = h.sim.counts().requests["in.php"]!;
    const lines = h.logs.filter((l) => l.includes("MAX_USER_TURN"));
    assert.ok(calls >= 3, `the worker kept trying (${calls} submits)`);
    assert.equal(lines.length, 1, lines.join("\n"));
    assert.match(lines[0]!, /upstream asks to back off; submissions paused/);
  } finally {
    await h.close();
  }
});

test("a plan's 'no free thread' is no warning: the limit absorbs it (a debug line each)", async () => {
  const h = await startHarness({ flags: { "task-timeout": "10s" } });
  try {
    h.sim.control.setFault("in.php", { error: "ERROR_NO_SLOT_AVAILABLE" });
    const image = { type: "image", image: pngOfSize(150, 3).toString("base64") };
    await fetch(h.base + "/v1/tasks", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(image) });
    await advance(h.clock, 9_000, 500);
    const lines = h.logs.filter((l) => l.includes("ERROR_NO_SLOT_AVAILABLE"));
    assert.ok(lines.length >= 2, lines.join("\n"));
    assert.ok(lines.every((l) => /"level":"debug"/.test(l) && /no free thread/.test(l)), lines.join("\n"));
  } finally {
    await h.close();
  }
});
