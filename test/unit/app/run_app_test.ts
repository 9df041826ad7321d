import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { WorkerError } from "../../../src/base/errors.ts";
import type { Runtime } from "../../../src/base/runtime.ts";
import { parseConfig } from "../../../src/config/parse_config.ts";
import { runApp, SLOW_START_MS } from "../../../src/app/run_app.ts";
import type { Worker, WorkerOptions } from "../../../src/app/start.ts";
import { FakeClock, settle } from "../../_support/fake_clock.ts";
import { testProcess } from "../../_support/process_stats.ts";

function fakeRuntime(): { rt: Runtime; err: string[] } {
  const err: string[] = [];
  const rt: Runtime = {
    env: {},
    stdout: () => {},
    stderr: (t) => void err.push(t),
    readFile: () => "",
    exists: () => false,
    onSignal: () => () => {},
    exit: (code) => {
      throw new Error(`exit ${code}`);
    },
    isTTY: false,
    process: testProcess,
  };
  return { rt, err };
}

/** A start that logs one line, then waits until the test lets it fail as an unusable state dir. */
function hangingStart() {
  let fail!: () => void;
  const gate = new Promise<void>((resolve) => (fail = resolve));
  const start = async (o: WorkerOptions): Promise<Worker> => {
    o.log.warn("journal: record skipped (unreadable or not applicable)", { line: "{" });
    await gate;
    throw new WorkerError("ERR_STATE_DIR", "The journal in the state directory /x (--state-dir) cannot be read (EIO).", { field: "--state-dir" });
  };
  return { start, fail };
}

/** runApp on a fake clock with a start that hangs until `fail()`. */
async function beginRun() {
  const clock = new FakeClock();
  const { rt, err } = fakeRuntime();
  const { start, fail } = hangingStart();
  const { config } = parseConfig({ listen: "127.0.0.1:0" }, {});
  const exited = runApp({ config, apiKey: "k".repeat(32), apiToken: undefined, runtime: rt, clock, start });
  await settle();
  return { clock, err, fail, exited };
}

describe("runApp", () => {
  test("a start slower than SLOW_START_MS writes what it held back and says it is still starting, rather than nothing", async () => {
    const { clock, err, fail, exited } = await beginRun();
    await clock.advance(SLOW_START_MS - 1);
    assert.deepEqual(err, [], "held: the start line is meant to come first");
    await clock.advance(1);
    const lines = err.map((l) => JSON.parse(l) as { level: string; msg: string });
    assert.deepEqual(lines.map((l) => `${l.level} ${l.msg}`), [
      "warn journal: record skipped (unreadable or not applicable)",
      "warn still starting: what it logged so far is above; the start line follows once it listens",
    ]);
    fail();
    assert.equal(await exited, 78);
    assert.match(err.at(-1)!, /^captcha-worker: The journal in the state directory \/x \(--state-dir\) cannot be read \(EIO\)\.\n$/);
  });

  test("a start that ends before SLOW_START_MS never says it is still starting", async () => {
    const { clock, err, fail, exited } = await beginRun();
    fail();
    assert.equal(await exited, 78);
    await clock.advance(2 * SLOW_START_MS);
    assert.ok(!err.some((l) => l.includes("still starting")), err.join(""));
    assert.equal(err.length, 2, "the held line, then the plain exit-78 line");
  });
});
