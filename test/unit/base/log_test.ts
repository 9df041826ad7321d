import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { WorkerError } from "../../../src/base/errors.ts";
import { createLogger, createRedactor, REDACTED, type LoggerOptions } from "../../../src/base/log.ts";

const KEY = "k3y/with+special=chars";

function capture(opts: Partial<LoggerOptions> = {}) {
  const lines: string[] = [];
  const log = createLogger({ write: (l) => lines.push(l), timestamp: () => "2026-01-01T00:00:00.000Z", ...opts });
  return { log, lines };
}

describe("createLogger", () => {
  test("writes one JSON object a line with ts, level, msg and fields", () => {
    const { log, lines } = capture();
    log.info("started", { port: 8080 });
    assert.equal(lines.length, 1);
    assert.ok(lines[0]!.endsWith("\n"));
    assert.deepEqual(JSON.parse(lines[0]!), { ts: "2026-01-01T00:00:00.000Z", level: "info", msg: "started", port: 8080 });
  });

  test("drops lines below the level", () => {
    const { log, lines } = capture({ level: "warn" });
    log.debug("d");
    log.info("i");
    log.warn("w");
    log.error("e");
    assert.deepEqual(lines.map((l) => JSON.parse(l).level), ["warn", "error"]);
    assert.equal(log.enabled("info"), false);
    assert.equal(log.enabled("error"), true);
  });

  test("text format is one readable line with quoted values where needed", () => {
    const { log, lines } = capture({ format: "text" });
    log.warn("not ready", { issues: ["low_balance=$0.42"], reason: "two words" });
    assert.equal(lines[0], '2026-01-01T00:00:00.000Z WARN  not ready issues=["low_balance=$0.42"] reason="two words"\n');
  });

  test("child loggers add their fields", () => {
    const { log, lines } = capture();
    log.child({ component: "solver" }).info("x", { n: 1 });
    assert.deepEqual(JSON.parse(lines[0]!), { ts: "2026-01-01T00:00:00.000Z", level: "info", msg: "x", component: "solver", n: 1 });
  });

  test("serialises errors with their code and cause", () => {
    const { log, lines } = capture();
    log.error("failed", { err: new WorkerError("ERR_CHECK_TIMEOUT", "timed out", { cause: new Error("inner") }) });
    const rec = JSON.parse(lines[0]!);
    assert.equal(rec.err.code, "ERR_CHECK_TIMEOUT");
    assert.equal(rec.err.cause.message, "inner");
  });

  for (const format of ["json", "text"] as const) {
    test(`redacts the key wherever a caller puts it (${format})`, () => {
      const { log, lines } = capture({ format, secrets: [KEY] });
      log.info(`msg with ${KEY}`, {
        field: KEY,
        nested: { deep: [KEY] },
        url: `https://ocr.captchaai.com/res.php?key=${encodeURIComponent(KEY)}`,
        err: new Error(`upstream said ${KEY}`),
      });
      const out = lines.join("");
      assert.ok(!out.includes(KEY), out);
      assert.ok(!out.includes(encodeURIComponent(KEY)), out);
      assert.ok(out.includes(REDACTED));
    });
  }
});

describe("createRedactor", () => {
  test("is the identity without secrets and ignores empty ones", () => {
    assert.equal(createRedactor([])("abc"), "abc");
    assert.equal(createRedactor([""])("abc"), "abc");
    assert.equal(createRedactor(["b"])("abcb"), `a${REDACTED}c${REDACTED}`);
  });
});
