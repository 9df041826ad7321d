/**
 * Start-up cost (docs/sizing-and-performance.md, Performance): the bundle esbuild makes of src/bin.ts, as build.mjs makes it,
 * started as a worker with an http upstream and no --state-dir, loads none of the built-ins only some
 * runs need (ON_DEMAND_BUILTINS, src/base/builtin.ts). esbuild hoists every `require` to the top of
 * the bundle, so a value import of one anywhere in src/ would load it at every start. A preloaded
 * hook records each built-in the bundle asks for (its `require`s and process.getBuiltinModule) and,
 * on SIGUSR2 once the worker is ready and idle, writes that list with node's own list of loaded
 * modules (process.moduleLoadList). node:dns and node:child_process are loaded by node:net itself
 * once a server listens (its cluster support), so for those two only what the bundle asked counts.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { build } from "esbuild";
import { ON_DEMAND_BUILTINS } from "../../src/base/builtin.ts";
import { startSimulator, type Simulator } from "../../src/sim/simulator.ts";
import { ROOT, spawnCli, waitForStart } from "../_support/cli.ts";
import { pollUntil } from "../_support/net.ts";
import { tempDir } from "../_support/temp_dirs.ts";

const KEY = "startup-builtins-key-5b0e2c01234";
/** Loaded by node:net's listen (cluster, its round-robin handles) whatever the program asks. */
const LOADED_BY_NODE_ON_LISTEN = new Set(["dns", "child_process"]);

const HOOK = String.raw`"use strict";
const Module = require("node:module");
const { writeFileSync } = require("node:fs");
const onDemand = new Set(JSON.parse(process.env.ON_DEMAND));
const asked = {};
function note(id, how) {
  const name = String(id).replace(/^node:/, "");
  if (asked[name] !== undefined) return;
  // For an on-demand one, the bundle's line that asked: the test names the source file from it.
  const at = onDemand.has(name) ? /captcha-worker\.cjs:(\d+):/.exec(new Error().stack) : null;
  asked[name] = { how, line: at ? Number(at[1]) : undefined };
}
const load = Module._load;
Module._load = function (request) {
  if (Module.isBuiltin(request)) note(request, "require");
  return load.apply(this, arguments);
};
const getBuiltinModule = process.getBuiltinModule;
process.getBuiltinModule = function (id) {
  note(id, "process.getBuiltinModule");
  return getBuiltinModule.call(process, id);
};
process.on("SIGUSR2", () => {
  const loaded = process.moduleLoadList.filter((m) => m.startsWith("NativeModule ")).map((m) => m.slice("NativeModule ".length));
  writeFileSync(process.env.BUILTINS_REPORT, JSON.stringify({ asked, loaded }));
});
`;

interface Report {
  /** Each built-in the bundle asked for: how, and for an on-demand one the bundle's line. */
  asked: Record<string, { how: string; line?: number }>;
  /** node's own modules loaded so far, internal ones included. */
  loaded: string[];
}

const dir = tempDir("cw-startup-");
const bundle = join(dir, "captcha-worker.cjs");
const hook = join(dir, "hook.cjs");
const stateDir = tempDir("cw-startup-state-");
let sim: Simulator | undefined;

before(async () => {
  // build.mjs's options but minify: the names in a failure's stack stay readable.
  await build({ entryPoints: [ROOT + "src/bin.ts"], outfile: bundle, bundle: true, platform: "node", format: "cjs", target: "node24", logLevel: "warning" });
  writeFileSync(hook, HOOK);
});
after(() => sim?.close());

/** Starts the bundle with the hook, waits for readiness and a moment idle, and returns what it had loaded. */
async function idleReport(extra: string[]): Promise<Report> {
  sim ??= await startSimulator({ host: "127.0.0.1", port: 0 }, { keys: [KEY] });
  const report = join(dir, `report-${Date.now()}-${Math.random().toString(36).slice(2)}.json`);
  const child = spawnCli(["--require", hook, bundle, "run", "--listen", "127.0.0.1:0", "--upstream", sim.url.href, ...extra], {
    CAPTCHAAI_API_KEY: KEY,
    ON_DEMAND: JSON.stringify(ON_DEMAND_BUILTINS),
    BUILTINS_REPORT: report,
  }, process.execPath);
  try {
    const { listen } = await waitForStart(child);
    // Ready: the first balance check and every other start-up step have run.
    await pollUntil("ready", async () => (await fetch(`http://${listen}/health/ready`)).status === 200, { timeoutMs: 20_000, intervalMs: 25 });
    child.kill("SIGUSR2");
    await pollUntil("the hook's report", () => existsSync(report), { timeoutMs: 10_000 });
    return JSON.parse(readFileSync(report, "utf8")) as Report;
  } finally {
    child.kill("SIGTERM");
    if (child.exitCode === null && child.signalCode === null) await once(child, "exit");
  }
}

/** The source file of a line of the (unminified) bundle: esbuild heads each module with `// src/...ts`. */
function sourceOf(line: number | undefined): string {
  const lines = readFileSync(bundle, "utf8").split("\n");
  for (let i = (line ?? 0) - 1; i >= 0; i--) {
    const m = /^\/\/ (src\/\S+\.ts)$/.exec(lines[i]!);
    if (m) return m[1]!;
  }
  return `the bundle's line ${line}`;
}

describe("start-up cost of the bundle", () => {
  test("an idle worker (http upstream, no --state-dir) has loaded none of the built-ins only some runs need", async () => {
    const r = await idleReport([]);
    assert.ok(r.asked["http"] !== undefined, `the hook saw the bundle's requires: ${Object.keys(r.asked).join(", ")}`);
    const asked = ON_DEMAND_BUILTINS.filter((m) => r.asked[m] !== undefined).map((m) => `node:${m} by ${r.asked[m]!.how} in ${sourceOf(r.asked[m]!.line)}`);
    assert.deepEqual(asked, [], "asked for by the bundle");
    const loaded = ON_DEMAND_BUILTINS.filter((m) => !LOADED_BY_NODE_ON_LISTEN.has(m) && r.loaded.includes(m));
    assert.deepEqual(loaded, [], "loaded in the process");
  });

  test("with --state-dir the same hook sees node:sqlite load at first use: the check above can see a lazy load", async () => {
    const r = await idleReport(["--state-dir", stateDir]);
    assert.equal(r.asked["sqlite"]?.how, "process.getBuiltinModule");
    assert.equal(sourceOf(r.asked["sqlite"]?.line), "src/base/builtin.ts");
    assert.ok(r.loaded.includes("sqlite"));
  });
});
