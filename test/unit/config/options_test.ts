import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ENV_PREFIX, OPTIONS, optionSpec, PROBE_FLAGS, SIMULATE_FLAGS, STATUS_FLAGS } from "../../../src/config/options.ts";
import { BadValue } from "../../../src/config/_values.ts";

const TABLES = { run: OPTIONS, probe: PROBE_FLAGS, status: STATUS_FLAGS, simulate: SIMULATE_FLAGS };

describe("option tables", () => {
  for (const [command, table] of Object.entries(TABLES)) {
    test(`${command}: flag names are unique and every default parses`, () => {
      assert.equal(new Set(table.map((f) => f.flag)).size, table.length);
      for (const f of table) {
        assert.match(f.flag, /^[a-z][a-z-]*$/, f.flag);
        if (f.default !== undefined) assert.doesNotThrow(() => f.parse(f.default!), f.flag);
        assert.ok(f.allowed.length > 0 && f.help.length > 0, f.flag);
      }
    });
  }

  test("OPTIONS: each variable is CAPTCHA_WORKER_ and the flag in upper snake case, each key once", () => {
    for (const o of OPTIONS) assert.equal(o.env, ENV_PREFIX + o.flag.toUpperCase().replaceAll("-", "_"));
    assert.equal(new Set(OPTIONS.map((o) => o.key)).size, OPTIONS.length);
    assert.equal(optionSpec("threads").flag, "threads");
  });

  test("--connect-timeout defaults to 3s and takes 100ms to 60s", () => {
    const spec = optionSpec("connectTimeoutMs");
    assert.equal(spec.flag, "connect-timeout");
    assert.equal(spec.env, "CAPTCHA_WORKER_CONNECT_TIMEOUT");
    assert.equal(spec.parse(spec.default!), 3000);
    assert.equal(spec.parse("100ms"), 100);
    assert.throws(() => spec.parse("99ms"), BadValue);
    assert.throws(() => spec.parse("61s"), BadValue);
  });

  test("probe and status read the worker's --listen with its variable, and differ only in timeout default and --json", () => {
    const listen = PROBE_FLAGS.find((f) => f.flag === "listen")!;
    assert.equal(listen.env, "CAPTCHA_WORKER_LISTEN");
    assert.equal(PROBE_FLAGS.find((f) => f.flag === "timeout")!.default, "1s");
    assert.equal(STATUS_FLAGS.find((f) => f.flag === "timeout")!.default, "2s");
    assert.ok(STATUS_FLAGS.find((f) => f.flag === "json")!.boolean);
    assert.throws(() => PROBE_FLAGS.find((f) => f.flag === "url")!.parse("ftp://x"), BadValue);
  });

  test("simulate's --solve-time and --first-poll share one strict grammar, each with its own limit and defaults", () => {
    const solve = SIMULATE_FLAGS.find((f) => f.flag === "solve-time")!;
    const first = optionSpec("firstPoll");
    assert.deepEqual(solve.parse("token=30m"), { imageMs: 3000, tokenMs: 1_800_000 });
    assert.throws(() => first.parse("token=30m"), BadValue);
    assert.deepEqual(first.parse("token=1s"), { imageMs: 5000, tokenMs: 1000 });
    for (const bad of ["image=1s,image=2s", "image=1s=2s", "captcha=1s"]) {
      assert.throws(() => solve.parse(bad), BadValue, bad);
      assert.throws(() => first.parse(bad), BadValue, bad);
    }
  });

  test("simulate's --key repeats and is never echoed", () => {
    const key = SIMULATE_FLAGS.find((f) => f.flag === "key")!;
    assert.ok(key.multiple && key.secret);
    assert.equal(key.env, undefined);
  });
});
