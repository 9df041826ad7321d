import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Runtime } from "../../../src/base/runtime.ts";
import { runConfigCommand } from "../../../src/cli/config_cmd.ts";
import type { FlagValues } from "../../../src/config/config.ts";
import { testProcess } from "../../_support/process_stats.ts";

/** `config`'s options as printed, for a runtime whose stderr is (or is not) a terminal. */
function options(flags: FlagValues, stderrIsTTY: boolean, env: Record<string, string> = {}): Record<string, { value: unknown; source: string }> {
  let out = "";
  const rt: Runtime = {
    env,
    stdout: (t) => void (out += t),
    stderr: () => {},
    readFile: () => "",
    exists: () => false,
    onSignal: () => () => {},
    exit: (code) => {
      throw new Error(`exit ${code}`);
    },
    isTTY: stderrIsTTY,
    stderrIsTTY,
    process: testProcess,
  };
  assert.equal(runConfigCommand(flags, rt), 0);
  return (JSON.parse(out) as { options: Record<string, { value: unknown; source: string }> }).options;
}

describe("config", () => {
  test("with --demo it shows what run --demo takes: the 5 s balance TTL and, stderr a terminal, the text log, their source demo", () => {
    const onTerminal = options({ demo: true }, true);
    assert.deepEqual(onTerminal["balance-ttl"], { value: "5s", source: "demo", env: "CAPTCHA_WORKER_BALANCE_TTL" });
    assert.deepEqual(onTerminal["log-format"], { value: "text", source: "demo", env: "CAPTCHA_WORKER_LOG_FORMAT" });
    const piped = options({ demo: true }, false);
    assert.deepEqual(piped["log-format"], { value: "json", source: "default", env: "CAPTCHA_WORKER_LOG_FORMAT" });
    const given = options({ demo: true, "balance-ttl": "60s", "log-format": "json" }, true);
    assert.equal(given["balance-ttl"]!.source, "flag");
    assert.deepEqual([given["balance-ttl"]!.value, given["log-format"]!.value], ["1m", "json"]);
    assert.equal(options({}, true, { CAPTCHAAI_API_KEY: "k".repeat(32) })["balance-ttl"]!.source, "default", "a worker keeps its 60 s");
  });
});
