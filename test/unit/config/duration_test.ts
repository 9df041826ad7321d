import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { formatDuration, formatKindDurations, parseDurationMs, parseKindDurations } from "../../../src/config/duration.ts";

describe("parseDurationMs", () => {
  test("accepts ms, s, m, h and bare seconds", () => {
    assert.equal(parseDurationMs("500ms"), 500);
    assert.equal(parseDurationMs("30s"), 30_000);
    assert.equal(parseDurationMs("10m"), 600_000);
    assert.equal(parseDurationMs("1h"), 3_600_000);
    assert.equal(parseDurationMs("45"), 45_000);
    assert.equal(parseDurationMs("1.5"), 1500);
  });
  test("rejects everything else", () => {
    for (const bad of ["", "s", "-1s", "1d", "1 s", "1e3", "0x10", "1s2", "NaN", "Infinity"]) {
      assert.equal(parseDurationMs(bad), undefined, bad);
    }
  });
});

describe("formatDuration", () => {
  test("writes the largest whole unit", () => {
    assert.equal(formatDuration(3_600_000), "1h");
    assert.equal(formatDuration(600_000), "10m");
    assert.equal(formatDuration(90_000), "90s");
    assert.equal(formatDuration(1500), "1500ms");
    assert.equal(formatDuration(0), "0s");
  });
});

describe("parseKindDurations", () => {
  const DEFAULTS = { imageMs: 5000, tokenMs: 15_000 };

  test("takes one duration for both kinds", () => {
    assert.deepEqual(parseKindDurations("3s", 600_000, DEFAULTS), { imageMs: 3000, tokenMs: 3000 });
  });

  test("takes either part alone, the other left at its default, in any order, spaces around kinds allowed", () => {
    assert.deepEqual(parseKindDurations("token=20s", 600_000, DEFAULTS), { imageMs: 5000, tokenMs: 20_000 });
    assert.deepEqual(parseKindDurations(" token=1s, image=2s", 600_000, DEFAULTS), { imageMs: 2000, tokenMs: 1000 });
  });

  test("is strict: a kind twice, an unknown kind, an empty value, a stray = or a value over the limit is refused", () => {
    for (const bad of ["image=1s,image=2s", "image=5s,captcha=3s", "image=", "image=1s=2s", "token=11m", "11m", "soon", ""]) {
      assert.equal(parseKindDurations(bad, 600_000, DEFAULTS), undefined, bad);
    }
  });

  test("formatKindDurations writes it back", () => {
    assert.equal(formatKindDurations({ imageMs: 500, tokenMs: 60_000 }), "image=500ms,token=1m");
    assert.deepEqual(parseKindDurations(formatKindDurations({ imageMs: 500, tokenMs: 60_000 }), 600_000, DEFAULTS), { imageMs: 500, tokenMs: 60_000 });
  });
});
