/**
 * The help pages: an overview of the commands, and one page per command generated from its flag
 * table (config/options.ts), so a page cannot drift from what is parsed. `run`'s page groups its
 * options by their section (OPTION_GROUPS).
 */
import { KEY_SOURCES_HELP } from "../config/key_sources.ts";
import { OPTION_GROUPS, OPTIONS, PROBE_FLAGS, SIMULATE_FLAGS, STATUS_FLAGS, TYPES_FLAGS, type FlagSpec, type OptionGroup, type OptionSpec } from "../config/options.ts";
import { PRODUCT, VERSION } from "../base/version.ts";
import { PROBE_PATHS } from "./probe.ts";

export type CommandName = "run" | "simulate" | "config" | "status" | "types" | "probe";

export interface CommandHelp {
  name: CommandName;
  /** What follows the program's name on the page's usage line. */
  synopsis: string;
  /** Its one line in the overview. */
  summary: string;
  /** The page's paragraph under the usage line. */
  about: string;
  /** The flags it parses (and its page lists). */
  flags: readonly FlagSpec[];
  /** Whether it takes words after the command (probe's target). */
  positionals: boolean;
  exits: string;
}

const PROBE_TARGETS = Object.keys(PROBE_PATHS);

/** Every command: what main parses it with and what its help page says. */
export const COMMANDS: readonly CommandHelp[] = [
  {
    name: "run",
    synopsis: "[run] [flags]",
    summary: "start the worker (the default command)",
    about: "Starts the worker: the HTTP server on --listen (health, metrics, task API, gateway, status page), solving through the providers until SIGTERM or SIGINT, then a graceful drain. With --demo it runs on the built-in simulator with sample traffic, no key needed.",
    flags: OPTIONS,
    positionals: false,
    exits: "0 stopped (after a graceful drain), 1 runtime failure (e.g. the port is taken), 2 usage error, 75 --state-dir owned by another worker (EX_TEMPFAIL), 78 invalid configuration (EX_CONFIG)",
  },
  {
    name: "config",
    synopsis: "config [flags]",
    summary: "print the effective config as JSON (secrets redacted) and exit",
    about: "Validates exactly what run would (it exits 78 when run would) and prints every option with its value, source and variable, the key redacted, and the providers.",
    flags: OPTIONS,
    positionals: false,
    exits: "0 printed, 2 usage error, 78 invalid configuration",
  },
  {
    name: "status",
    synopsis: "status [flags]",
    summary: "show a running worker's state, checks and thresholds",
    about: "Reads a running worker's /health/ready, /health/dependencies and /health and prints a table for a person (colour only on a terminal without NO_COLOR), or the same as JSON with --json.",
    flags: STATUS_FLAGS,
    positionals: false,
    exits: "0 ready, 1 not ready, 2 unreachable or not a worker (and usage errors), 78 invalid flag",
  },
  {
    name: "probe",
    synopsis: `probe <${PROBE_TARGETS.join("|")}> [flags]`,
    summary: "exit 0 if a health endpoint answers 2xx in time, else 1 (for HEALTHCHECK, no curl)",
    about: "GETs one health endpoint of a running worker and prints one line saying why it passed or failed: what a distroless image's HEALTHCHECK or a script calls instead of curl.",
    flags: PROBE_FLAGS,
    positionals: true,
    exits: "0 the endpoint answered 2xx in time, 1 otherwise, 2 usage error, 78 invalid flag",
  },
  {
    name: "simulate",
    synopsis: "simulate [flags]",
    summary: "run a provider's simulator alone: CaptchaAI's, or --dialect's (fault injection under /__sim/)",
    about: "Serves a provider's protocol (CaptchaAI's or 2captcha's in.php/res.php, anti-captcha's or CapSolver's createTask API, by --dialect) until SIGTERM or SIGINT, for tests, benchmarks and trying faults without a paid key; /__sim/ changes its behaviour at run time. Its flags have no variables.",
    flags: SIMULATE_FLAGS,
    positionals: false,
    exits: "0 stopped on a signal, 1 cannot listen, 2 usage error, 78 invalid flag",
  },
  {
    name: "types",
    synopsis: "types [flags]",
    summary: "list every task type, its fields and its names in each API (no worker needed)",
    about: "Prints every task type the worker takes from its catalogue: fields (required, optional, bounds) and the names in each API.",
    flags: TYPES_FLAGS,
    positionals: false,
    exits: "0 printed, 2 usage error",
  },
];

/** The command called `name`, if there is one. */
export function commandHelp(name: string): CommandHelp | undefined {
  return COMMANDS.find((c) => c.name === name);
}

/** The overview (`--help`, `help`): every command in one line, and where each command's flags are. */
export function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;
  const lines = [
    `${PRODUCT} ${VERSION}: solves CAPTCHAs through the CaptchaAI API and tells orchestrators the truth about its health.`,
    "",
    `Usage: ${PRODUCT} [COMMAND] [flags]`,
    "",
    "Commands:",
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    "",
    `Run \`${PRODUCT} COMMAND --help\` for a command's flags, each with its default and variable.`,
    `\`${PRODUCT} --version\` prints the version.`,
    "",
    "Exit codes: 0 normal stop (also after a graceful drain), 1 runtime failure or probe failed,",
    "            2 usage error, 75 --state-dir owned by another worker (EX_TEMPFAIL),",
    "            78 invalid configuration (EX_CONFIG).",
  ];
  return lines.join("\n") + "\n";
}

/** One command's page: its usage line, what it does, its flags (run's by section), its exit codes. */
export function commandUsage(name: CommandName): string {
  const c = commandHelp(name)!;
  const lines = [`Usage: ${PRODUCT} ${c.synopsis}`];
  if (c.name === "run") lines.push(`       (run is the default command: \`${PRODUCT} [flags]\` is the same)`);
  lines.push("", ...wrap(c.about, 100), "");
  if (c.name === "run") lines.push(...runFlags());
  else if (c.name === "config") lines.push(...configFlags());
  else lines.push(...commandFlags(c));
  lines.push("", ...wrap(`Exit codes: ${c.exits}.`, 100, "            "));
  return lines.join("\n") + "\n";
}

/** The usage error's last words: where to read more (the command's page once the command is known). */
export function usageHint(command?: CommandName): string {
  return `Run \`${PRODUCT} ${command === undefined ? "" : `${command} `}--help\` for usage.`;
}

/** `run`'s options under their section headings, in OPTION_GROUPS' order; the key's sources after them. */
function runFlags(): string[] {
  const lines = ["Each flag also has a variable, shown beside it; a flag wins over its variable.", "Durations: 500ms, 30s, 10m, 1h or bare seconds."];
  for (const [group, options] of byGroup()) {
    lines.push("", `${OPTION_GROUPS[group]}:`);
    for (const o of options) lines.push(...flagHelp(o));
  }
  lines.push("", ...wrap(`The CaptchaAI key: ${KEY_SOURCES_HELP}. It is never printed, logged or put in a URL.`, 100));
  return lines;
}

/** `config` takes run's flags: their names by section, and where their details are. */
function configFlags(): string[] {
  const lines = [`Flags: every flag of run, with the same defaults and variables (\`${PRODUCT} run --help\`):`];
  for (const [group, options] of byGroup()) {
    lines.push(...wrap(`${OPTION_GROUPS[group]}: ${options.map((o) => `--${o.flag}`).join(", ")}`, 100, "      ").map((l, i) => (i === 0 ? `  ${l}` : l)));
  }
  return lines;
}

function commandFlags(c: CommandHelp): string[] {
  const lines: string[] = [];
  if (c.name === "probe") {
    lines.push("Targets:");
    const width = Math.max(...PROBE_TARGETS.map((t) => t.length)) + 2;
    for (const [target, path] of Object.entries(PROBE_PATHS)) lines.push(`  ${target.padEnd(width)}GET ${path}`);
    lines.push("");
  }
  lines.push(c.flags.some((f) => f.env !== undefined) ? "Flags (a variable beside a flag sets it too; the flag wins):" : "Flags:");
  for (const f of c.flags) lines.push(...flagHelp(f));
  return lines;
}

/** run's options by section, sections in OPTION_GROUPS' order, options in the table's. */
function byGroup(): [OptionGroup, OptionSpec[]][] {
  return (Object.keys(OPTION_GROUPS) as OptionGroup[])
    .map((g): [OptionGroup, OptionSpec[]] => [g, OPTIONS.filter((o) => o.group === g)])
    .filter(([, options]) => options.length > 0);
}

/** Two lines per flag: name and variable, then what it does, its default and what it takes. */
function flagHelp(f: FlagSpec): [string, string] {
  const name = f.placeholder === undefined ? `--${f.flag}` : `--${f.flag} ${f.placeholder}`;
  const def = f.default === "" ? "empty" : (f.default ?? f.defaultHelp ?? "unset");
  return [`  ${name.padEnd(36)} ${f.env ?? ""}`.trimEnd(), `      ${f.help}; default: ${def}; allowed: ${f.allowed}`];
}

/** `text` in lines of at most `width` characters (a longer word stands alone), the rest after `indent`. */
function wrap(text: string, width: number, indent = ""): string[] {
  const out: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    const next = line === "" ? word : `${line} ${word}`;
    if (next.length > width && line !== "" && line !== indent) {
      out.push(line);
      line = indent + word;
    } else line = next;
  }
  if (line !== "") out.push(line);
  return out;
}
