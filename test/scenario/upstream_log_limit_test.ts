import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createLogger } from "../../src/base/log.ts";
import { RepeatLimiter } from "../../src/base/repeat_limiter.ts";
import { FakeClock } from "../_support/fake_clock.ts";
import { advance, startHarness } from "../_support/harness.ts";

function capture() {
  const lines: Record<string, unknown>[] = [];
  return { lines, log: createLogger({ level: "debug", write: (l) => lines.push(JSON.parse(l)) }) };
}

describe("RepeatLimiter", () => {
  test("the first line at once, repeats counted, the count on the first line after the window", async () => {
    const clock = new FakeClock();
    const { lines, log } = capture();
    const r = new RepeatLimiter(log, clock, 60_000);
    for (let i = 0; i < 100; i++) r.warn("in.php HTTP_500", "upstream transient", { code: "HTTP_500" });
    assert.equal(lines.length, 1);
    assert.equal(lines[0]!.repeated, undefined);
    r.warn("res.php:get NETWORK", "upstream transient", { code: "NETWORK" });
    assert.equal(lines.length, 2, "another key is its own line");
    await clock.advance(60_000);
    r.warn("in.php HTTP_500", "upstream transient", { code: "HTTP_500" });
    assert.equal(lines.length, 3);
    assert.equal(lines[2]!.repeated, 99);
    assert.equal(lines[2]!.over_s, 60);
    assert.equal(lines[2]!.code, "HTTP_500");
  });

  test("keys stay bounded however many codes an upstream invents", () => {
    const clock = new FakeClock();
    const { lines, log } = capture();
    const r = new RepeatLimiter(log, clock, 60_000, 10);
    for (let i = 0; i < 1000; i++) r.warn(`in.php ERROR_${i}`, "upstream transient");
    assert.equal(lines.length, 1000, "each new key logs once");
    r.warn("in.php ERROR_0", "upstream transient");
    assert.equal(lines.length, 1001, "an evicted key logs again rather than grow the map");
  });
});

test("a failing upstream writes one line per endpoint and code, not one per call", async () => {
  const h = await startHarness({ flags: { "task-timeout": "10s" } });
  try {
    h.sim.control.setFault("in.php", { error: "ERROR_NO_SLOT_AVAILABLE" });
    const image = { type: "image", image: Buffer.alloc(150, 3).toString("base64") };
    for (let i = 0; i < 5; i++) await fetch(h.base + "/v1/tasks", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(image) });
    await advance(h.clock, 9_000, 500);
    const calls = h.sim.counts().requests["in.php"]!;
    const lines = h.logs.filter((l) => l.includes("ERROR_NO_SLOT_AVAILABLE"));
    assert.ok(calls >= 3, `the worker kept trying (${calls} submits)`);
    assert.equal(lines.length, 1, lines.join("\n"));
    assert.match(lines[0]!, /upstream asks to back off; submissions paused/);
  } finally {
    await h.close();
  }
});
