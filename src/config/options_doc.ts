/**
 * The option table described for people: the README's Configuration table, generated from OPTIONS
 * and OPTION_GROUPS (the sections of `run --help`), so the page cannot drift from what `run` parses.
 */
import { OPTION_GROUPS, OPTIONS, type OptionGroup, type OptionSpec } from "./options.ts";

/** A table cell takes no bare `|`. */
const cell = (s: string) => s.replaceAll("|", "\\|");

/** The default as the table shows it: `off` for a switch, `unset` or `empty` when there is none. */
export function defaultCell(o: OptionSpec): string {
  if (o.boolean) return o.default === "true" ? "on" : "off";
  if (o.default === undefined) return "unset";
  if (o.default === "") return "empty";
  return `\`${o.default}\``;
}

/**
 * The README's Configuration table (markdown): one row per option of `run`, under a row naming its
 * section, sections in OPTION_GROUPS' order and options in the table's order within each, as
 * `run --help` lists them.
 */
export function optionsTable(): string {
  const rows: string[] = ["| flag | default | what it sets |", "|---|---|---|"];
  for (const group of Object.keys(OPTION_GROUPS) as OptionGroup[]) {
    rows.push(`| **${OPTION_GROUPS[group]}** | | |`);
    for (const o of OPTIONS.filter((x) => x.group === group)) rows.push(`| \`--${o.flag}\` | ${cell(defaultCell(o))} | ${cell(o.help)} |`);
  }
  return rows.join("\n");
}
