/** `captcha-worker simulate`: the simulator alone (CaptchaAI's protocol, or another provider's with --dialect), for integration tests and load tests; flags from config/options.ts. */
import type { FlagValues, HostPort } from "../config/config.ts";
import type { KindDurations } from "../config/duration.ts";
import { formatHostPort } from "../config/host_port.ts";
import { SIMULATE_FLAGS, type FlagSpec } from "../config/options.ts";
import { resolveFlag, resolveRepeated } from "../config/parse_config.ts";
import { WorkerError } from "../base/errors.ts";
import { createLogger, type LogFormat, type LogLevel } from "../base/log.ts";
import { startSimulator } from "../sim/simulator.ts";
import type { CapacityCode, SimDialect } from "../sim/sim_dialects.ts";
import { EXIT_FAILURE, EXIT_OK, type Runtime } from "../base/runtime.ts";

function spec(name: string): FlagSpec {
  return SIMULATE_FLAGS.find((f) => f.flag === name)!;
}

/** Starts the simulator on --listen and runs it until a signal; exit 78 on a bad flag, 1 when it cannot listen. */
export async function runSimulateCommand(flags: FlagValues, rt: Runtime): Promise<number> {
  const get = <T>(name: string): T => resolveFlag(spec(name), flags, {}).value as T;
  const listen = get<HostPort>("listen");
  const solveTime = get<KindDurations>("solve-time");
  const level = get<LogLevel>("log-level");
  const format = get<LogFormat>("log-format");
  const keys = resolveRepeated(spec("key"), flags) as string[];
  const idleMs = get<number | undefined>("idle-timeout");
  const onIdle = get<"close" | "reset">("idle-mode");
  const dialect = get<SimDialect>("dialect");
  const options = {
    dialect,
    keys,
    balanceUsd: get<number>("balance"),
    pricePerSolveUsd: get<number | undefined>("price"),
    threads: get<number | undefined>("threads"),
    capacityCode: get<CapacityCode | undefined>("capacity-code"),
    unsupported: get<string[]>("unsupported"),
    solveTimeMs: { image: solveTime.imageMs, token: solveTime.tokenMs },
    seed: get<number | undefined>("seed"),
    answerLength: get<number | undefined>("answer-length"),
    idleTimeout: idleMs === undefined ? undefined : { idleMs, onIdle },
  };

  const log = createLogger({ level, format, secrets: keys, write: rt.stderr });
  let sim;
  try {
    sim = await startSimulator(listen, { ...options, log });
  } catch (err) {
    if (err instanceof WorkerError && err.code !== "ERR_LISTEN") throw err;
    log.error("cannot listen", { listen: formatHostPort(listen), err });
    return EXIT_FAILURE;
  }
  log.info("simulator started", { listen: formatHostPort(sim.address), url: sim.url.href, dialect, keys: keys.length || "any" });
  await new Promise<void>((resolve) => {
    const off = rt.onSignal(() => {
      off();
      resolve();
    });
  });
  await sim.close();
  log.info("simulator stopped");
  return EXIT_OK;
}
