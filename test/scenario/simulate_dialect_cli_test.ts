/**
 * `captcha-worker simulate --dialect` run in-process through main() (docs/simulator.md): each
 * dialect listens and answers its own protocol, logs the dialect it speaks, shows it and its
 * defaults in /__sim/state, and stops with exit 0 on a stop signal; a dialect it does not know is
 * exit 78 naming --dialect.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Runtime, StopSignal } from "../../src/base/runtime.ts";
import { main } from "../../src/main.ts";
import { runMain } from "../_support/cli.ts";
import { eventually } from "../_support/harness.ts";
import { PNG_B64 } from "../_support/images.ts";
import { testProcess } from "../_support/process_stats.ts";

const KEY = "0123456789abcdef0123456789abcdef";

/** Starts `simulate` with `args`; resolves once it logged its start, with its URL, a stop() and the exit code to come. */
async function simulate(args: string[]): Promise<{ url: URL; start: Record<string, unknown>; stop: () => Promise<number> }> {
  let stderr = "";
  let stopHandler: ((s: StopSignal) => void) | undefined;
  const rt: Runtime = {
    env: {},
    stdout: () => {},
    stderr: (t) => void (stderr += t),
    readFile: () => {
      throw new Error("no files");
    },
    exists: () => false,
    onSignal: (h) => {
      stopHandler = h;
      return () => void (stopHandler = undefined);
    },
    exit: (code) => {
      throw new Error(`exit(${code}) called`);
    },
    isTTY: false,
    process: testProcess,
  };
  const exit = main(["simulate", "--listen", "127.0.0.1:0", "--key", KEY, "--seed", "1", ...args], rt);
  await eventually(() => stderr.includes('"simulator started"'), "the start line");
  const start = JSON.parse(stderr.split("\n").find((l) => l.includes('"simulator started"'))!) as Record<string, unknown>;
  return {
    url: new URL(String(start.url)),
    start,
    stop: async () => {
      stopHandler!("SIGTERM");
      return exit;
    },
  };
}

const json = async (res: Response) => ({ status: res.status, body: (await res.json()) as Record<string, unknown> });

describe("captcha-worker simulate --dialect", () => {
  test("--dialect capsolver answers CapSolver's createTask API, with its prices and no thread cap, and stops with 0", async () => {
    const sim = await simulate(["--dialect", "capsolver"]);
    assert.equal(sim.start.dialect, "capsolver");
    const created = await json(await fetch(new URL("createTask", sim.url), { method: "POST", body: JSON.stringify({ clientKey: KEY, task: { type: "ImageToTextTask", body: PNG_B64 } }) }));
    assert.deepEqual([created.status, created.body.errorId, created.body.status], [200, 0, "ready"]);
    const state = (await json(await fetch(new URL("__sim/state", sim.url)))).body;
    assert.deepEqual([state.dialect, state.threads, state.pricesUsd, state.capacityCode], ["capsolver", null, { image: 0.0012, token: 0.0012 }, "ERROR_NO_SLOT_AVAILABLE"]);
    assert.equal((await json(await fetch(new URL("__sim/counts", sim.url)))).body.spentUsd, 0.0012);
    assert.equal((await fetch(new URL("in.php", sim.url))).status, 404, "no in.php on a createTask API");
    assert.equal(await sim.stop(), 0);
  });

  test("--dialect 2captcha answers in.php with its prices and capacity code; --threads and --price override the dialect's", async () => {
    const sim = await simulate(["--dialect", "2captcha", "--threads", "1", "--price", "0.005"]);
    const submit = async () => (await fetch(new URL("in.php", sim.url), { method: "POST", body: new URLSearchParams({ key: KEY, method: "base64", body: PNG_B64 }) })).text();
    assert.match(await submit(), /^OK\|\d+$/);
    assert.equal(await submit(), "ERROR_NO_SLOT_AVAILABLE");
    const state = (await json(await fetch(new URL("__sim/state", sim.url)))).body;
    assert.deepEqual([state.dialect, state.threads, state.pricesUsd], ["2captcha", 1, { image: 0.005, token: 0.005 }]);
    assert.equal(await sim.stop(), 0);
  });

  test("without --dialect: CaptchaAI's, as before (50 threads, ERROR_ZERO_BALANCE, $0.001 a solve)", async () => {
    const sim = await simulate([]);
    const state = (await json(await fetch(new URL("__sim/state", sim.url)))).body;
    assert.deepEqual([state.dialect, state.threads, state.pricesUsd, state.capacityCode], ["captchaai", 50, { image: 0.001, token: 0.001 }, "ERROR_ZERO_BALANCE"]);
    assert.equal(await sim.stop(), 0);
  });

  test("a dialect it does not know is exit 78 naming --dialect and the allowed ones", async () => {
    const r = await runMain(["simulate", "--dialect", "deathbycaptcha"]);
    assert.equal(r.code, 78);
    assert.match(r.stderr, /Invalid --dialect: expected captchaai, 2captcha, anticaptcha or capsolver, got "deathbycaptcha"/);
  });
});
