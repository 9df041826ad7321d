/** `captcha-worker simulate`: the CaptchaAI-protocol simulator alone, for integration tests and load tests. */
import { parseArgs } from "node:util";
import { parseDurationMs, parseHostPort, formatHostPort } from "../config/config.ts";
import { WorkerError } from "../base/errors.ts";
import { createLogger } from "../base/log.ts";
import { startSimulator } from "../sim/simulator.ts";
import { EXIT_FAILURE, EXIT_OK, type Runtime } from "../base/runtime.ts";

export const SIMULATE_FLAGS = [
  { flag: "--listen HOST:PORT", def: "127.0.0.1:8090", help: "address to listen on" },
  { flag: "--key KEY", def: "any key", help: "an accepted key (repeat for more); others get ERROR_WRONG_USER_KEY" },
  { flag: "--balance USD", def: "10", help: "starting balance" },
  { flag: "--price USD", def: "0.001", help: "charged per delivered solution" },
  { flag: "--threads N", def: "50", help: "unsolved tasks per key; beyond: ERROR_NO_SLOT_AVAILABLE" },
  { flag: "--solve-time DUR", def: "image=3s,token=10s", help: "one duration, or image=DUR,token=DUR" },
  { flag: "--seed N", def: "random", help: "makes ids, answers and random faults repeat" },
  { flag: "--log-level LEVEL", def: "info", help: "debug, info, warn or error" },
  { flag: "--log-format FORMAT", def: "json", help: "json or text" },
];

export async function runSimulateCommand(args: readonly string[], rt: Runtime): Promise<number> {
  let values;
  try {
    values = parseArgs({
      args: [...args],
      strict: true,
      options: {
        listen: { type: "string" }, key: { type: "string", multiple: true }, balance: { type: "string" }, price: { type: "string" },
        threads: { type: "string" }, "solve-time": { type: "string" }, seed: { type: "string" },
        "log-level": { type: "string" }, "log-format": { type: "string" },
      },
    }).values;
  } catch (err) {
    throw new WorkerError("ERR_USAGE", (err as Error).message.split("\n")[0]!.replace(/\.$/, ""));
  }
  const bad = (flag: string, allowed: string, got: string) =>
    new WorkerError("ERR_CONFIG_INVALID", `Invalid --${flag}: expected ${allowed}, got ${JSON.stringify(got.slice(0, 80))}`, { field: `--${flag}` });
  const num = (flag: string, raw: string | undefined, def: number, min: number, max: number, integer = false) => {
    if (raw === undefined) return def;
    const n = Number(raw);
    if (raw.trim() === "" || !Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
      throw bad(flag, `${integer ? "a whole number" : "a number"} from ${min} to ${max}`, raw);
    }
    return n;
  };
  const listen = parseHostPort(values.listen ?? "127.0.0.1:8090");
  if (!listen) throw bad("listen", "host:port", values.listen ?? "");
  const solveTimeMs = parseSolveTime(values["solve-time"] ?? "image=3s,token=10s");
  if (!solveTimeMs) throw bad("solve-time", "a duration up to 1h, or image=DUR,token=DUR", values["solve-time"] ?? "");
  const level = values["log-level"] ?? "info";
  if (!["debug", "info", "warn", "error"].includes(level)) throw bad("log-level", "debug, info, warn or error", level);
  const format = values["log-format"] ?? "json";
  if (format !== "json" && format !== "text") throw bad("log-format", "json or text", format);
  const keys = values.key ?? [];
  for (const k of keys) if (!/^[\x21-\x7e]{1,256}$/.test(k)) throw new WorkerError("ERR_CONFIG_INVALID", "Invalid --key: expected 1 to 256 printable characters", { field: "--key" });

  const log = createLogger({ level: level as "info", format, secrets: keys, write: rt.stderr });
  let sim;
  try {
    sim = await startSimulator(listen, {
      keys,
      balanceUsd: num("balance", values.balance, 10, 0, 1e9),
      pricePerSolveUsd: num("price", values.price, 0.001, 0, 1000),
      threads: num("threads", values.threads, 50, 1, 100_000, true),
      solveTimeMs,
      seed: values.seed === undefined ? undefined : num("seed", values.seed, 0, 0, 2 ** 32 - 1, true),
      log,
    });
  } catch (err) {
    if (err instanceof WorkerError && err.code !== "ERR_LISTEN") throw err;
    log.error("cannot listen", { listen: formatHostPort(listen), err });
    return EXIT_FAILURE;
  }
  log.info("simulator started", { listen: formatHostPort(sim.address), url: sim.url.href, keys: keys.length || "any" });
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

/** `3s` for both kinds, or `image=3s,token=10s`. */
export function parseSolveTime(raw: string): { image: number; token: number } | undefined {
  const one = (v: string) => {
    const ms = parseDurationMs(v);
    return ms !== undefined && ms <= 3_600_000 ? ms : undefined;
  };
  if (!raw.includes("=")) {
    const ms = one(raw);
    return ms === undefined ? undefined : { image: ms, token: ms };
  }
  const out = { image: 3000, token: 10_000 };
  for (const part of raw.split(",")) {
    const [kind, value] = part.split("=");
    const ms = value === undefined ? undefined : one(value);
    if (ms === undefined || (kind !== "image" && kind !== "token")) return undefined;
    out[kind] = ms;
  }
  return out;
}
