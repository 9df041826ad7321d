/** Dispatches the command line to a command; maps usage and configuration errors to exit codes 2 and 78. */
import { didYouMean } from "./base/did_you_mean.ts";
import { parseArgs, type ParseArgsConfig } from "node:util";
import { runConfigCommand } from "./cli/config_cmd.ts";
import { runProbeCommand } from "./cli/probe.ts";
import { runRunCommand } from "./cli/run.ts";
import { runSimulateCommand } from "./cli/simulate.ts";
import { runStatusCommand } from "./cli/status.ts";
import { runTypesCommand } from "./cli/types.ts";
import { EXIT_CONFIG, EXIT_FAILURE, EXIT_OK, EXIT_USAGE, type Runtime } from "./base/runtime.ts";
import { commandHelp, commandUsage, COMMANDS, usage, usageHint, type CommandName } from "./cli/usage.ts";
import type { FlagValues } from "./config/config.ts";
import type { FlagSpec } from "./config/options.ts";
import { describeError, isWorkerError, WorkerError } from "./base/errors.ts";
import { PRODUCT, VERSION } from "./base/version.ts";

type Options = NonNullable<ParseArgsConfig["options"]>;

/** parseArgs' view of a flag table, with -h/--help beside it. */
function argOptions(specs: readonly FlagSpec[]): Options {
  return Object.fromEntries([
    ...specs.map((s) => [s.flag, { type: s.boolean ? "boolean" : "string", ...(s.multiple ? { multiple: true } : {}) }] as const),
    ["help", { type: "boolean", short: "h" }],
  ]);
}

/** Each command's parseArgs options, from the same table its help page lists. */
const ARG_OPTIONS = new Map(COMMANDS.map((c) => [c.name, argOptions(c.flags)]));

/** Runs one command line to completion and returns the exit code. */
export async function main(argv: readonly string[], rt: Runtime): Promise<number> {
  // The command, once known: a usage error points at its own help page.
  const at: { command?: CommandName } = {};
  try {
    return await dispatch(argv, rt, at);
  } catch (err) {
    if (isWorkerError(err, "ERR_USAGE")) {
      rt.stderr(`${PRODUCT}: ${err.message}. ${usageHint(at.command)}\n`);
      return EXIT_USAGE;
    }
    if (isWorkerError(err, "ERR_CONFIG_INVALID") || isWorkerError(err, "ERR_NO_API_KEY")) {
      rt.stderr(`${PRODUCT}: ${err.message}\n`);
      return EXIT_CONFIG;
    }
    rt.stderr(`${PRODUCT}: ${describeError(err)}\n`);
    return EXIT_FAILURE;
  }
}

async function dispatch(argv: readonly string[], rt: Runtime, at: { command?: CommandName }): Promise<number> {
  const first = argv[0];
  if (first === "--version" || first === "-v") {
    rt.stdout(`${PRODUCT} ${VERSION} (node ${rt.process.nodeVersion})\n`);
    return EXIT_OK;
  }
  if (first === "--help" || first === "-h") return help(rt);
  if (first === "help") return help(rt, argv[1] === undefined ? undefined : knownCommand(argv[1]));
  let command: CommandName = "run";
  let rest = argv;
  if (first !== undefined && !first.startsWith("-")) {
    command = knownCommand(first);
    rest = argv.slice(1);
  }
  at.command = command;
  // Without a command word, a mistyped first flag may be --version (`--versoin`), taken only there.
  const { values, positionals } = parse(rest, ARG_OPTIONS.get(command)!, commandHelp(command)!.positionals, rest === argv ? ["version"] : []);
  if (values.help) return help(rt, command);
  switch (command) {
    case "probe":
      return runProbeCommand(positionals, values, rt);
    case "status":
      return runStatusCommand(values, rt);
    case "simulate":
      return runSimulateCommand(values, rt);
    case "types":
      return runTypesCommand({ json: values.json === true }, rt);
    case "config":
      return runConfigCommand(values, rt);
    case "run":
      return runRunCommand(values, rt);
  }
}

/** `name` as a command; a usage error naming the closest command otherwise (`statsu`: status). */
function knownCommand(name: string): CommandName {
  const c = commandHelp(name);
  if (c) return c.name;
  const names = COMMANDS.map((k) => k.name);
  throw new WorkerError("ERR_USAGE", `Unknown command "${clip(name)}"${didYouMean(name, names) || `; commands: ${names.join(", ")}`}`);
}

/** The overview, or one command's page; on stdout, exit 0. */
function help(rt: Runtime, command?: CommandName): number {
  rt.stdout(command === undefined ? usage() : commandUsage(command));
  return EXIT_OK;
}

function parse(args: readonly string[], options: Options, allowPositionals: boolean, firstOnly: readonly string[] = []) {
  try {
    const parsed = parseArgs({ args: joinNegativeValues(args, options), options, allowPositionals, strict: true });
    return { values: parsed.values as FlagValues, positionals: parsed.positionals };
  } catch (err) {
    let message = describeError(err).split("\n")[0]!.replace(/\. To specify a positional argument.*$/, "").replace(/\.$/, "");
    const unknown = /^Unknown option '--([^']+)'/.exec(message)?.[1];
    if (unknown !== undefined) message += didYouMean(unknown, [...Object.keys(options), ...(args[0] === `--${unknown}` ? firstOnly : [])], (f) => `--${f}`);
    throw new WorkerError("ERR_USAGE", message, { cause: err });
  }
}

/**
 * `--min-balance -1` as `--min-balance=-1`: parseArgs would read the value as an option; this way
 * the option's own check refuses it with exit 78 naming the flag.
 */
function joinNegativeValues(args: readonly string[], options: Options): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const name = a.startsWith("--") && !a.includes("=") ? a.slice(2) : undefined;
    const next = args[i + 1];
    if (name !== undefined && options[name]?.type === "string" && next !== undefined && /^-\d/.test(next)) {
      out.push(`${a}=${next}`);
      i++;
    } else out.push(a);
  }
  return out;
}

function clip(s: string): string {
  return s.length > 40 ? s.slice(0, 37) + "..." : s;
}
