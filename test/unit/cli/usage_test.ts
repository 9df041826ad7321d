import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { PROBE_PATHS } from "../../../src/cli/probe.ts";
import { commandUsage, COMMANDS, usage } from "../../../src/cli/usage.ts";
import { OPTION_GROUPS, OPTIONS, PROBE_FLAGS, SIMULATE_FLAGS, STATUS_FLAGS, TYPES_FLAGS, type FlagSpec } from "../../../src/config/options.ts";

/** Every table's flag names: a page must list its own and no other table's. */
const ALL_FLAGS = new Set([...OPTIONS, ...PROBE_FLAGS, ...STATUS_FLAGS, ...SIMULATE_FLAGS, ...TYPES_FLAGS].map((f) => f.flag));

/** The flags a page lists as flag lines (`  --name ...`), in order, with repeats. */
function flagLines(page: string): string[] {
  return page.split("\n").flatMap((l) => /^ {2}--([a-z-]+)(?: |$)/.exec(l)?.[1] ?? []);
}

/** The line after `--flag`'s own line: what it does, its default and what it allows. */
function detailOf(page: string, flag: string): string {
  const lines = page.split("\n");
  const i = lines.findIndex((l) => new RegExp(`^ {2}--${flag}(?: |$)`).test(l));
  return lines[i + 1] ?? "";
}

function defaultWords(f: FlagSpec): string {
  return f.default === "" ? "empty" : (f.default ?? f.defaultHelp ?? "unset");
}

describe("usage (the overview)", () => {
  test("names every command in one line and where each command's flags are, and lists no flag", () => {
    const text = usage();
    for (const c of COMMANDS) assert.match(text, new RegExp(`^ {2}${c.name} +${c.summary.replace(/[()]/g, "\\$&")}$`, "m"), c.name);
    assert.ok(text.includes("captcha-worker COMMAND --help"));
    assert.ok(text.includes("--version"));
    assert.deepEqual(flagLines(text), []);
    assert.ok(!text.includes("CAPTCHA_WORKER_"), "variables are on the command pages");
  });
});

describe("commandUsage", () => {
  test("run: every option exactly once, under its section's heading, sections in OPTION_GROUPS' order", () => {
    const page = commandUsage("run");
    const listed = flagLines(page);
    assert.deepEqual([...listed].sort(), OPTIONS.map((o) => o.flag).sort(), "each option once, nothing else");
    const headings = Object.values(OPTION_GROUPS) as string[];
    let heading: string | undefined;
    const seen: string[] = [];
    for (const line of page.split("\n")) {
      const h = /^([A-Z][^:]*):$/.exec(line)?.[1];
      if (h !== undefined && headings.includes(h)) {
        heading = h;
        seen.push(h);
      }
      const flag = /^ {2}--([a-z-]+)(?: |$)/.exec(line)?.[1];
      if (flag !== undefined) assert.equal(heading, OPTION_GROUPS[OPTIONS.find((o) => o.flag === flag)!.group], flag);
    }
    assert.deepEqual(seen, headings.filter((h) => OPTIONS.some((o) => OPTION_GROUPS[o.group] === h)), "each section once, in order");
  });

  test("run: each option with its placeholder, its variable, its default and what it allows", () => {
    const page = commandUsage("run");
    for (const o of OPTIONS) {
      const own = o.placeholder === undefined ? `--${o.flag}` : `--${o.flag} ${o.placeholder}`;
      assert.match(page, new RegExp(`^ {2}${own.replace(/[.*+?()[\]|]/g, "\\$&")} +${o.env}$`, "m"), o.flag);
      assert.ok(detailOf(page, o.flag).endsWith(`; default: ${defaultWords(o)}; allowed: ${o.allowed}`), o.flag);
    }
    assert.match(page, /^ {2}--listen HOST:PORT +CAPTCHA_WORKER_LISTEN$/m);
    assert.match(detailOf(page, "peers"), /; default: empty;/);
    assert.match(page, /CAPTCHAAI_API_KEY_FILE/, "where the key may come from");
    assert.match(page, /\b78 invalid configuration/);
  });

  test("config: run's options by section, each named once, details left to run's page", () => {
    const page = commandUsage("config");
    assert.deepEqual(flagLines(page), []);
    for (const o of OPTIONS) assert.equal(page.split(new RegExp(`--${o.flag}(?![a-z-])`)).length - 1, 1, o.flag);
    for (const group of new Set(OPTIONS.map((o) => o.group))) assert.ok(page.includes(`  ${OPTION_GROUPS[group]}: `), group);
    assert.ok(page.includes("captcha-worker run --help"));
  });

  test("status, probe, simulate, types: each lists its own table's flags once, with default and variable, and no other flag", () => {
    const tables = { status: STATUS_FLAGS, probe: PROBE_FLAGS, simulate: SIMULATE_FLAGS, types: TYPES_FLAGS } as const;
    for (const [name, table] of Object.entries(tables) as [keyof typeof tables, readonly FlagSpec[]][]) {
      const page = commandUsage(name);
      assert.deepEqual(flagLines(page), table.map((f) => f.flag), name);
      for (const f of table) {
        if (f.env !== undefined) assert.match(page, new RegExp(`^ {2}--${f.flag}\\b.* ${f.env}$`, "m"), `${name} --${f.flag}`);
        assert.ok(detailOf(page, f.flag).endsWith(`; default: ${defaultWords(f)}; allowed: ${f.allowed}`), `${name} --${f.flag}`);
      }
      for (const other of ALL_FLAGS) if (!table.some((f) => f.flag === other)) assert.ok(!flagLines(page).includes(other), `${name} lists --${other}`);
      assert.match(page, new RegExp(`^Usage: captcha-worker ${name}\\b`), name);
      assert.match(page, /^Exit codes: 0 /m, name);
    }
  });

  test("probe: every target with the path it GETs, from the same table the command reads", () => {
    const page = commandUsage("probe");
    assert.ok(page.includes(`probe <${Object.keys(PROBE_PATHS).join("|")}>`));
    for (const [target, path] of Object.entries(PROBE_PATHS)) assert.match(page, new RegExp(`^ {2}${target} +GET ${path}$`, "m"), target);
  });

  test("every page fits a terminal: prose wrapped at 100 columns (flag detail lines aside)", () => {
    for (const c of COMMANDS) {
      for (const line of commandUsage(c.name).split("\n")) if (!line.startsWith("      ")) assert.ok(line.length <= 100, `${c.name}: ${line}`);
    }
  });
});
