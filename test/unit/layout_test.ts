/**
 * The house rules of src/ (README, "Where things live"), checked on the code itself: imports flow
 * down the layers (a folder imports only from folders below it, or from the same-floor neighbour the
 * table names), no file imports itself round a circle, and no file passes 350 lines.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";

const SRC = fileURLToPath(new URL("../../src/", import.meta.url));

/** The floor of each top-level room: higher floors may import lower ones. */
const FLOORS: Record<string, number> = {
  "bin.ts": 12, "main.ts": 11, cli: 10, app: 9, gateway: 8, cluster: 8, http: 7, integrations: 7, intake: 6,
  metrics: 5, journal: 5, status_report: 5, solver: 4, health: 4, upstream: 3, sim: 3, tasks: 2, config: 2, base: 1,
};
/** Same-floor imports the README's table allows: the solver reports to health; the simulator names the protocol's endpoints. */
const SIDEWAYS = new Set(["solver->health", "sim->upstream"]);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : []));
}

const room = (file: string) => relative(SRC, file).split("/")[0]!;

function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const out: string[] = [];
  for (const m of text.matchAll(/^(?:import|export)\s(?:[^;]*?from\s+)?"(\.{1,2}\/[^"]+)"/gm)) out.push(resolve(dirname(file), m[1]!));
  return out.filter((dep) => dep.startsWith(SRC)); // package.json (the version) is data, not a room
}

const files = sourceFiles(SRC);
const graph = new Map(files.map((f) => [f, importsOf(f)]));

describe("src/ layout", () => {
  test("every top-level room has a floor", () => {
    assert.deepEqual(files.map(room).filter((r) => FLOORS[r] === undefined), []);
  });

  test("no import climbs: each goes to a lower floor, its own room, or an allowed neighbour", () => {
    const climbs: string[] = [];
    for (const [file, deps] of graph) {
      for (const dep of deps) {
        const from = room(file);
        const to = room(dep);
        if (from === to || FLOORS[to]! < FLOORS[from]! || SIDEWAYS.has(`${from}->${to}`)) continue;
        climbs.push(`${relative(SRC, file)} -> ${relative(SRC, dep)}`);
      }
    }
    assert.deepEqual(climbs, []);
  });

  test("no circle among the files", () => {
    const state = new Map<string, "open" | "done">();
    const circles: string[] = [];
    const visit = (f: string, path: string[]) => {
      if (state.get(f) === "done") return;
      if (state.get(f) === "open") return void circles.push([...path.slice(path.indexOf(f)), f].map((p) => relative(SRC, p)).join(" -> "));
      state.set(f, "open");
      for (const d of graph.get(f) ?? []) visit(d, [...path, f]);
      state.set(f, "done");
    };
    for (const f of files) visit(f, []);
    assert.deepEqual(circles, []);
  });

  test("no file over 350 lines", () => {
    const big = files.filter((f) => readFileSync(f, "utf8").split("\n").length > 351).map((f) => relative(SRC, f));
    assert.deepEqual(big, []);
  });
});
