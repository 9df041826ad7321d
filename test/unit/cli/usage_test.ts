import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { usage } from "../../../src/cli/usage.ts";
import { OPTIONS, PROBE_FLAGS, SIMULATE_FLAGS } from "../../../src/config/options.ts";

describe("usage", () => {
  test("is built from every flag table: each flag with its variable, default and what it allows", () => {
    const text = usage();
    for (const f of [...OPTIONS, ...PROBE_FLAGS, ...SIMULATE_FLAGS]) {
      assert.ok(text.includes(`--${f.flag}`), f.flag);
      if (f.env) assert.ok(text.includes(f.env), f.env);
      assert.ok(text.includes(`default: ${f.default ?? f.defaultHelp ?? "unset"}; allowed: ${f.allowed}`), f.flag);
    }
    assert.ok(text.includes("--connect-timeout VALUE"));
    assert.ok(text.includes("CAPTCHA_WORKER_CONNECT_TIMEOUT"));
  });
});
