/** The --help text, generated from the option table so it cannot drift from what is parsed. */
import { ENV_PREFIX, OPTIONS } from "../config/config.ts";
import { KEY_SOURCES_HELP } from "../config/key_sources.ts";
import { SIMULATE_FLAGS } from "./simulate.ts";
import { PRODUCT, VERSION } from "../base/version.ts";

export interface CommandHelp {
  name: string;
  synopsis: string;
  summary: string;
}

export const COMMANDS: readonly CommandHelp[] = [
  { name: "run", synopsis: "[run] [flags]", summary: "start the worker (the default command)" },
  { name: "simulate", synopsis: "simulate [flags]", summary: "run the CaptchaAI-protocol simulator alone (fault injection under /__sim/)" },
  { name: "config", synopsis: "config [flags]", summary: "print the effective config as JSON (secrets redacted) and exit" },
  {
    name: "status",
    synopsis: "status [--url URL] [--timeout DUR] [--json]",
    summary: "show a running worker's state, checks and thresholds; exit 0 ready, 1 not ready, 2 unreachable",
  },
  {
    name: "probe",
    synopsis: "probe <live|ready|startup|deps> [--url URL] [--timeout DUR]",
    summary: "exit 0 if the endpoint answers 2xx in time, else 1 (for HEALTHCHECK, no curl)",
  },
];

export const PROBE_FLAGS = [
  { flag: "--url URL", env: "", def: "http://<--listen>", help: "base URL of the worker (0.0.0.0 and :: become loopback)" },
  { flag: "--timeout DUR", env: "", def: "1s", help: "give up after this long, like a kubelet (10ms to 60s)" },
  { flag: "--listen HOST:PORT", env: ENV_PREFIX + "LISTEN", def: "0.0.0.0:8080", help: "where the worker listens, for the default --url" },
];

/** The full help text. */
export function usage(): string {
  const lines: string[] = [];
  lines.push(`${PRODUCT} ${VERSION}: solves CAPTCHAs through the CaptchaAI API and tells orchestrators the truth about its health.`);
  lines.push("", "Usage:");
  for (const c of COMMANDS) lines.push(`  ${PRODUCT} ${c.synopsis}`, `      ${c.summary}`);
  lines.push(`  ${PRODUCT} --help | --version`);
  lines.push("", "Flags of run and config (each also set by its variable; a flag wins over its variable):");
  for (const o of OPTIONS) {
    const name = o.boolean ? `--${o.flag}` : `--${o.flag} VALUE`;
    const def = o.default === undefined ? "unset" : o.default;
    lines.push(`  ${name.padEnd(36)} ${o.env}`, `      ${o.help}; default: ${def}; allowed: ${o.allowed}`);
  }
  lines.push("", "Flags of probe:");
  for (const p of PROBE_FLAGS) lines.push(`  ${p.flag.padEnd(36)} ${p.env}`, `      ${p.help}; default: ${p.def}`);
  lines.push("", "Flags of status: those of probe (--timeout default 2s), and --json for the model as JSON.");
  lines.push("", "Flags of simulate:");
  for (const f of SIMULATE_FLAGS) lines.push(`  ${f.flag.padEnd(36)}`, `      ${f.help}; default: ${f.def}`);
  lines.push("", `The CaptchaAI key: ${KEY_SOURCES_HELP}. It is never printed, logged or put in a URL.`);
  lines.push(
    "",
    "Exit codes: 0 normal stop (also after a graceful drain), 1 runtime failure or probe failed,",
    "            2 usage error, 78 invalid configuration (EX_CONFIG).",
  );
  return lines.join("\n") + "\n";
}

export function usageHint(): string {
  return `Run \`${PRODUCT} --help\` for usage.`;
}
