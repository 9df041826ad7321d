/** The --help text, generated from the option table so it cannot drift from what is parsed. */
import { KEY_SOURCES_HELP } from "../config/key_sources.ts";
import { OPTIONS, PROBE_FLAGS, SIMULATE_FLAGS, type FlagSpec } from "../config/options.ts";
import { PRODUCT, VERSION } from "../base/version.ts";

export interface CommandHelp {
  name: string;
  synopsis: string;
  summary: string;
}

export const COMMANDS: readonly CommandHelp[] = [
  { name: "run", synopsis: "[run] [flags]", summary: "start the worker (the default command)" },
  { name: "simulate", synopsis: "simulate [flags]", summary: "run a provider's simulator alone: CaptchaAI's, or --dialect's (fault injection under /__sim/)" },
  { name: "config", synopsis: "config [flags]", summary: "print the effective config as JSON (secrets redacted) and exit" },
  {
    name: "status",
    synopsis: "status [--url URL] [--timeout DUR] [--json]",
    summary: "show a running worker's state, checks and thresholds; exit 0 ready, 1 not ready, 2 unreachable",
  },
  { name: "types", synopsis: "types [--json]", summary: "list every task type, its fields and its names in each API (no worker needed)" },
  {
    name: "probe",
    synopsis: "probe <live|ready|startup|deps> [--url URL] [--timeout DUR]",
    summary: "exit 0 if the endpoint answers 2xx in time, else 1 (for HEALTHCHECK, no curl)",
  },
];

/** The full help text. */
export function usage(): string {
  const lines: string[] = [];
  lines.push(`${PRODUCT} ${VERSION}: solves CAPTCHAs through the CaptchaAI API and tells orchestrators the truth about its health.`);
  lines.push("", "Usage:");
  for (const c of COMMANDS) lines.push(`  ${PRODUCT} ${c.synopsis}`, `      ${c.summary}`);
  lines.push(`  ${PRODUCT} --help | --version`);
  lines.push("", "Flags of run and config (each also set by its variable; a flag wins over its variable):");
  for (const o of OPTIONS) lines.push(...flagHelp(o));
  lines.push("", "Flags of probe:");
  for (const f of PROBE_FLAGS) lines.push(...flagHelp(f));
  lines.push("", "Flags of status: those of probe (--timeout default 2s), and --json for the model as JSON.");
  lines.push("", "Flags of simulate:");
  for (const f of SIMULATE_FLAGS) lines.push(...flagHelp(f));
  lines.push("", `The CaptchaAI key: ${KEY_SOURCES_HELP}. It is never printed, logged or put in a URL.`);
  lines.push(
    "",
    "Exit codes: 0 normal stop (also after a graceful drain), 1 runtime failure or probe failed,",
    "            2 usage error, 75 --state-dir owned by another worker (EX_TEMPFAIL),",
    "            78 invalid configuration (EX_CONFIG).",
  );
  return lines.join("\n") + "\n";
}

export function usageHint(): string {
  return `Run \`${PRODUCT} --help\` for usage.`;
}

/** Two lines per flag: name and variable, then what it does, its default and what it takes. */
function flagHelp(f: FlagSpec): [string, string] {
  const name = f.placeholder === undefined ? `--${f.flag}` : `--${f.flag} ${f.placeholder}`;
  const def = f.default ?? f.defaultHelp ?? "unset";
  return [`  ${name.padEnd(36)} ${f.env ?? ""}`.trimEnd(), `      ${f.help}; default: ${def}; allowed: ${f.allowed}`];
}
