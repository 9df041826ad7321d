/**
 * The option table as the documentation shows it: the README's Configuration table is exactly what
 * optionsTable() generates from OPTIONS, and docs/configuration.md's table (written by hand, with
 * what each flag allows) has one row per option of `run`, in the table's order, with its default.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { OPTION_GROUPS, OPTIONS, optionSpec } from "../../../src/config/options.ts";
import { defaultCell, optionsTable } from "../../../src/config/options_doc.ts";
import { readDoc } from "../../_support/markdown.ts";

/** The lines between `<!-- options:` and `<!-- end of options -->`. */
function generatedBlock(markdown: string): string | undefined {
  return /<!-- options: [^>]*-->\n([\s\S]*?)\n<!-- end of options -->/.exec(markdown)?.[1];
}

/** The rows of the first table whose header begins `| flag |`, each as its trimmed cells. */
function tableRows(markdown: string): string[][] {
  const lines = markdown.split("\n");
  const start = lines.findIndex((l) => l.startsWith("| flag |"));
  assert.ok(start >= 0, "a table with a flag column");
  const rows: string[][] = [];
  for (let i = start + 2; i < lines.length && lines[i]!.startsWith("|"); i++) {
    rows.push(lines[i]!.slice(1, -1).split(/(?<!\\)\|/).map((c) => c.trim()));
  }
  return rows;
}

describe("the option table in the documentation", () => {
  test("the README's Configuration table is optionsTable()'s, as generated", () => {
    const block = generatedBlock(readDoc("README.md"));
    assert.ok(block, "README.md has the generated table between its markers");
    assert.equal(block, optionsTable(), "regenerate: node --import tsx -e 'console.log((await import(\"./src/config/options_doc.ts\")).optionsTable())'");
  });

  test("optionsTable(): every option of run once, under its section, sections in --help's order", () => {
    const rows = optionsTable().split("\n").slice(2).map((l) => l.slice(1, -1).split(/(?<!\\)\|/).map((c) => c.trim()));
    const sections = rows.filter((r) => r[0]!.startsWith("**")).map((r) => r[0]!.slice(2, -2));
    assert.deepEqual(sections, Object.values(OPTION_GROUPS));
    const flags = rows.filter((r) => r[0]!.startsWith("`")).map((r) => r[0]!.slice(3, -1));
    assert.deepEqual([...flags].sort(), OPTIONS.map((o) => o.flag).sort());
    assert.ok(rows.every((r) => r.length === 3), "three cells a row: a `|` in a help text is escaped");
  });

  test("defaultCell: a switch on or off, unset, empty, or the default as code", () => {
    assert.equal(defaultCell(optionSpec("demo")), "off");
    assert.equal(defaultCell({ ...optionSpec("demo"), default: "true" }), "on");
    assert.equal(defaultCell(optionSpec("stateDir")), "unset");
    assert.equal(defaultCell(optionSpec("peers")), "empty");
    assert.equal(defaultCell(optionSpec("threads")), "`5`");
  });

  test("docs/configuration.md's table has a row per option of run, in OPTIONS' order, with its default", () => {
    const rows = tableRows(readDoc("docs/configuration.md"));
    assert.deepEqual(rows.map((r) => r[0]), OPTIONS.map((o) => `\`--${o.flag}\``));
    const wrong = OPTIONS.flatMap((o, i) => (rows[i]![1]!.startsWith(defaultCell(o)) ? [] : [`--${o.flag}: ${rows[i]![1]} (the table: ${defaultCell(o)})`]));
    assert.deepEqual(wrong, []);
  });
});
