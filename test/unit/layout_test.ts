/**
 * The house rules of src/ (docs/development.md, Where things live), checked on the code itself: imports flow
 * down the layers (a folder imports only from folders below it, or from the same-floor neighbour the
 * table names), no file imports itself round a circle, a `_` file is private to its folder, no
 * file passes 350 lines, and no built-in that only some runs need is imported at the top
 * (docs/sizing-and-performance.md, Performance).
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { ON_DEMAND_BUILTINS } from "../../src/base/builtin.ts";
import { anchorsOf, boldLabelsOf, headingsOf, readDoc, repoPath, ROOT } from "../_support/markdown.ts";

const SRC = fileURLToPath(new URL("../../src/", import.meta.url));

/** The floor of each top-level room: higher floors may import lower ones. */
const FLOORS: Record<string, number> = {
  "bin.ts": 12, "main.ts": 11, cli: 10, app: 9, gateway: 8, cluster: 8, http: 7, integrations: 7, intake: 6,
  metrics: 5, journal: 5, status_report: 5, solver: 4, health: 4, upstream: 3, sim: 3, tasks: 2, config: 2, base: 1,
};
/** Same-floor imports docs/development.md's table allows: the solver reports to health; the simulator names the protocol's endpoints. */
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

  test("a file starting with _ is imported only from its own folder", () => {
    const leaks: string[] = [];
    for (const [file, deps] of graph) {
      for (const dep of deps) {
        if (dep.split("/").pop()!.startsWith("_") && dirname(dep) !== dirname(file)) leaks.push(`${relative(SRC, file)} -> ${relative(SRC, dep)}`);
      }
    }
    assert.deepEqual(leaks, []);
  });

  test("the core knows no HTTP: no node:http(s) or node:net import under tasks/, solver/, health/, intake/, and under upstream/ only in its transport", () => {
    const core = new Set(["tasks", "solver", "health", "intake", "upstream"]);
    const allowed = new Set(["upstream/transport.ts"]);
    const leaks = files
      .filter((f) => core.has(room(f)) && !allowed.has(relative(SRC, f)))
      .filter((f) => /^[ \t]*(?:import|export)\s[^;]*?["']node:(?:http|https|net|tls)["']/m.test(readFileSync(f, "utf8")))
      .map((f) => relative(SRC, f));
    assert.deepEqual(leaks, []);
  });

  test("comments cite what a maintainer of this repository can read: never a SPEC section or the seed article, which are not in it", () => {
    const deploy = fileURLToPath(new URL("../../deploy/", import.meta.url));
    const walk = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
    const cites = [...files, ...walk(deploy)].filter((f) => {
      const text = readFileSync(f, "utf8");
      return /\bSPEC\b/.test(text) || /\bthe seed(?:'s)? (?:article|row|values?|table)|\bseed's\b/i.test(text);
    });
    assert.deepEqual(cites.map((f) => relative(fileURLToPath(new URL("../../", import.meta.url)), f)), []);
  });

  test("comments cite what exists: a docs/ page (its #anchor, its section), or a section the README still has", () => {
    const problems = citingFiles().flatMap((f) => citationProblems(readFileSync(f, "utf8")).map((p) => `${repoPath(f)}: ${p}`));
    assert.deepEqual(problems, []);
  });

  test("the citation check reads a page, an anchor and a section, and the README's sections", () => {
    const page = "docs/" + "health.md";
    assert.deepEqual(citationProblems(`(${page}, Readiness) (${page}#status-page) (${page}, Status page: the rows)`), []);
    assert.deepEqual(citationProblems(`(${page}, Nothing like it) (${page}#nowhere) (docs/` + "nope.md) (README, " + "Nothing like it)"), [
      `${page}, Nothing like it: no such section`,
      `${page}#nowhere: no such anchor`,
      "docs/" + "nope.md: no such page",
      "README, " + "Nothing like it: not a section of README.md (moved to docs/?)",
    ]);
  });

  test("no file over 350 lines", () => {
    const big = files.filter((f) => readFileSync(f, "utf8").split("\n").length > 351).map((f) => relative(SRC, f));
    assert.deepEqual(big, []);
  });
});

/** Every file whose comments may cite the documentation: src/, test/, scripts/, deploy/, the build and CI scripts (not this checker). */
function citingFiles(): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
  const self = fileURLToPath(import.meta.url);
  return [...["src", "test", "scripts", "deploy"].flatMap((d) => walk(join(ROOT, d))), join(ROOT, "build.mjs"), join(ROOT, ".ci/run")].filter((f) => f !== self);
}

const pages = new Map<string, string | undefined>();
/** A documentation page's text (read once), or undefined when there is no such page. */
function docPage(file: string): string | undefined {
  if (!pages.has(file)) pages.set(file, existsSync(join(ROOT, file)) ? readDoc(file) : undefined);
  return pages.get(file);
}

/** A section name as cited matches a heading (or a bold run-in label) when one begins the other: `Readiness` cites "Readiness: states, ...". */
function namesSection(cited: string, names: readonly string[]): boolean {
  const c = cited.toLowerCase();
  return names.some((n) => {
    const h = n.replace(/`/g, "").toLowerCase();
    return c.startsWith(h) || h.startsWith(c);
  });
}

/**
 * What is wrong with the citations in `text`: `docs/x.md` must exist, `docs/x.md#a` have the anchor,
 * `docs/x.md, Section` a heading or bold label that begins so; `README, Section` (or `README "Section"`)
 * must name a heading of README.md, since a section that moved to docs/ is cited there.
 */
function citationProblems(text: string): string[] {
  const problems: string[] = [];
  for (const m of text.matchAll(/\bdocs\/([\w-]+\.md)(?:#([\w-]+)(?![\w<.-]))?(?:, ([A-Z][\w '-]*\w))?/g)) {
    const [cite, file, anchor, section] = m as unknown as [string, string, string | undefined, string | undefined];
    const page = docPage(`docs/${file}`);
    if (page === undefined) {
      problems.push(`docs/${file}: no such page`);
      continue;
    }
    if (anchor !== undefined && !anchorsOf(page).has(anchor)) problems.push(`${cite}: no such anchor`);
    if (section !== undefined && !namesSection(section, [...headingsOf(page), ...boldLabelsOf(page)])) problems.push(`${cite}: no such section`);
  }
  const readme = headingsOf(docPage("README.md")!);
  for (const m of text.matchAll(/\bREADME(?:, | ")([A-Z][\w '-]*\w)/g)) {
    if (!namesSection(m[1]!, readme)) problems.push(`README, ${m[1]}: not a section of README.md (moved to docs/?)`);
  }
  return problems;
}

/**
 * A value import of a built-in from ON_DEMAND_BUILTINS (src/base/builtin.ts): esbuild hoists it to
 * the bundle's top, so the module loads at every start. `import type` is erased and fine; reach the
 * module through loadBuiltin at first use instead. `import { type X }` is refused too: under
 * verbatimModuleSyntax it stays an `import {} from`, which still loads the module.
 */
const EAGER_BUILTIN = new RegExp(
  String.raw`^[ \t]*(?:import|export)\s+(?!type\s)(?:[^;]*?\sfrom\s+)?["'](?:node:)?(${ON_DEMAND_BUILTINS.join("|")})["']`,
  "gm",
);
/** Files allowed a value import of one of them, each with why it is needed on every start: none today. */
const ALWAYS_NEEDED: Record<string, string> = {};

/** `file: import of node:x` for each value import of an on-demand built-in in `text`. */
function eagerBuiltinImports(file: string, text: string): string[] {
  return [...text.matchAll(EAGER_BUILTIN)].map((m) => `${file}: imports node:${m[1]} at the top`);
}

describe("start-up cost", () => {
  test("the static check sees value imports (any spelling) and lets type-only ones by", () => {
    const text = [
      `import { createHash } from "node:crypto";`,
      `import {\n  request,\n  type RequestOptions,\n} from "https";`,
      `import * as zlib from "node:zlib";`,
      `import "node:dns";`,
      `export { spawn } from "node:child_process";`,
      `import { type DatabaseSync } from "node:sqlite";`,
      `import type { Socket } from "node:tls";`,
      `import type { LookupAddress } from "node:dns";`,
      `import { readFileSync } from "node:fs";`,
      `const https = () => loadBuiltin("node:https");`,
    ].join("\n");
    assert.deepEqual(eagerBuiltinImports("x.ts", text), ["crypto", "https", "zlib", "dns", "child_process", "sqlite"].map((m) => `x.ts: imports node:${m} at the top`));
  });

  test(`no file in src/ imports a built-in only some runs need (${ON_DEMAND_BUILTINS.join(", ")}) but through loadBuiltin`, () => {
    const eager = files.filter((f) => ALWAYS_NEEDED[relative(SRC, f)] === undefined).flatMap((f) => eagerBuiltinImports(relative(SRC, f), readFileSync(f, "utf8")));
    assert.deepEqual(eager, []);
  });
});
