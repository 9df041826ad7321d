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
import { COMMANDS, usage, usageHint } from "./cli/usage.ts";
import type { FlagValues } from "./config/config.ts";
import { OPTIONS, PROBE_FLAGS, SIMULATE_FLAGS, STATUS_FLAGS, TYPES_FLAGS, type FlagSpec } from "./config/options.ts";
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

const WORKER_OPTIONS = argOptions(OPTIONS);
const PROBE_OPTIONS = argOptions(PROBE_FLAGS);
const STATUS_OPTIONS = argOptions(STATUS_FLAGS);
const SIMULATE_OPTIONS = argOptions(SIMULATE_FLAGS);
const TYPES_OPTIONS = argOptions(TYPES_FLAGS);

/** Runs one command line to completion and returns the exit code. */
export async function main(argv: readonly string[], rt: Runtime): Promise<number> {
  try {
    return await dispatch(argv, rt);
  } catch (err) {
    if (isWorkerError(err, "ERR_USAGE")) {
      rt.stderr(`${PRODUCT}: ${err.message}. ${usageHint()}\n`);
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

async function dispatch(argv: readonly string[], rt: Runtime): Promise<number> {
  const first = argv[0];
  if (first === "--version" || first === "-v") {
    rt.stdout(`${PRODUCT} ${VERSION} (node ${rt.process.nodeVersion})\n`);
    return EXIT_OK;
  }
  if (first === "--help" || first === "-h" || first === "help") {
    rt.stdout(usage());
    return EXIT_OK;
  }
  let command = "run";
  let rest = argv;
  if (first !== undefined && !first.startsWith("-")) {
    if (!COMMANDS.some((c) => c.name === first)) throw new WorkerError("ERR_USAGE", `Unknown command "${clip(first)}"`);
    command = first;
    rest = argv.slice(1);
  }
  switch (command) {
    case "probe": {
      const { values, positionals } = parse(rest, PROBE_OPTIONS, true);
      if (values.help) return help(rt);
      return runProbeCommand(positionals, values, rt);
    }
    case "status": {
      const { values } = parse(rest, STATUS_OPTIONS, false);
      if (values.help) return help(rt);
      return runStatusCommand(values, rt);
    }
    case "simulate": {
      const { values } = parse(rest, SIMULATE_OPTIONS, false);
      if (values.help) return help(rt);
      return runSimulateCommand(values, rt);
    }
    case "types": {
      const { values } = parse(rest, TYPES_OPTIONS, false);
      if (values.help) return help(rt);
      return runTypesCommand({ json: values.json === true }, rt);
    }
    case "config": {
      const { values } = parse(rest, WORKER_OPTIONS, false);
      if (values.help) return help(rt);
      return runConfigCommand(values, rt);
    }
    default: {
      const { values } = parse(rest, WORKER_OPTIONS, false);
      if (values.help) return help(rt);
      return runRunCommand(values, rt);
    }
  }
}

function help(rt: Runtime): number {
  rt.stdout(usage());
  return EXIT_OK;
}

function parse(args: readonly string[], options: Options, allowPositionals: boolean) {
  try {
    const parsed = parseArgs({ args: joinNegativeValues(args, options), options, allowPositionals, strict: true });
    return { values: parsed.values as FlagValues, positionals: parsed.positionals };
  } catch (err) {
    let message = describeError(err).split("\n")[0]!.replace(/\. To specify a positional argument.*$/, "").replace(/\.$/, "");
    const unknown = /^Unknown option '--([^']+)'/.exec(message)?.[1];
    if (unknown !== undefined) message += didYouMean(unknown, Object.keys(options), (f) => `--${f}`);
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
