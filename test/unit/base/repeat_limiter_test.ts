import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createLogger } from "../../../src/base/log.ts";
import { RepeatLimiter } from "../../../src/base/repeat_limiter.ts";
import { FakeClock } from "../../_support/fake_clock.ts";

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

  test("the window runs from the line written: one tick short stays quiet, the full window writes again", async () => {
    const clock = new FakeClock();
    const { lines, log } = capture();
    const r = new RepeatLimiter(log, clock, 10_000);
    r.warn("k", "m");
    await clock.advance(9_999);
    r.warn("k", "m");
    assert.equal(lines.length, 1);
    await clock.advance(1);
    r.warn("k", "m", { attempt: 3 });
    assert.equal(lines.length, 2);
    assert.deepEqual([lines[1]!.level, lines[1]!.msg, lines[1]!.attempt, lines[1]!.repeated, lines[1]!.over_s], ["warn", "m", 3, 1, 10]);
    // A new window began with that line: a repeat inside it is counted against it, not the old one.
    await clock.advance(5_000);
    r.warn("k", "m");
    assert.equal(lines.length, 2);
  });

  test("a line after a quiet window carries no count", async () => {
    const clock = new FakeClock();
    const { lines, log } = capture();
    const r = new RepeatLimiter(log, clock, 1_000);
    r.warn("k", "m");
    await clock.advance(5_000);
    r.warn("k", "m");
    assert.equal(lines.length, 2);
    assert.ok(!("repeated" in lines[1]!) && !("over_s" in lines[1]!), JSON.stringify(lines[1]));
  });

  test("within the key bound, the oldest key is the one evicted", () => {
    const clock = new FakeClock();
    const { lines, log } = capture();
    const r = new RepeatLimiter(log, clock, 60_000, 2);
    r.warn("a", "m");
    r.warn("b", "m");
    r.warn("c", "m"); // evicts a
    r.warn("c", "m");
    r.warn("b", "m");
    assert.equal(lines.length, 3, "b and c are still limited");
    r.warn("a", "m");
    assert.equal(lines.length, 4, "a was forgotten");
  });
});
