/** Resolves flags of every command: flag > `CAPTCHA_WORKER_*` variable > default, pure; a bad value is ERR_CONFIG_INVALID naming the flag (exit 78). */
import { WorkerError } from "../base/errors.ts";
import { BadValue } from "./_values.ts";
import type { Config, ConfigKey, FirstPoll, FlagValues, HostPort, Source } from "./config.ts";
import { formatDuration, formatKindDurations } from "./duration.ts";
import { formatHostPort } from "./host_port.ts";
import { OPTIONS, type FlagSpec } from "./options.ts";
import { DEMO_LISTEN } from "./exposure.ts";

export interface ParsedConfig {
  config: Config;
  sources: Record<ConfigKey, Source>;
}

/**
 * Resolves every option of `run` and `config` from flags (by flag name), then variables, then defaults.
 * Throws WorkerError ERR_CONFIG_INVALID naming the flag and variable at the first bad value.
 */
export function parseConfig(flags: FlagValues, env: Record<string, string | undefined>): ParsedConfig {
  const config: Record<string, unknown> = {};
  const sources: Record<string, Source> = {};
  for (const spec of OPTIONS) {
    const resolved = resolveFlag(spec, flags, env);
    config[spec.key] = resolved.value;
    sources[spec.key] = resolved.source;
  }
  // The demo serves this host only unless --listen (or its variable) says otherwise.
  if (config.demo === true && sources.listen === "default") config.listen = { ...DEMO_LISTEN };
  return { config: config as unknown as Config, sources: sources as Record<ConfigKey, Source> };
}

/** Resolves one flag alone (probe needs only `listen`; simulate and status have their own tables). */
export function resolveFlag<T>(spec: FlagSpec<T>, flags: FlagValues, env: Record<string, string | undefined>): { value: T; source: Source } {
  const flagValue = flags[spec.flag];
  if (flagValue !== undefined && !Array.isArray(flagValue)) {
    const raw = typeof flagValue === "boolean" ? String(flagValue) : flagValue;
    return { value: parseWith(spec, raw, "flag"), source: "flag" };
  }
  const envValue = spec.env === undefined ? undefined : env[spec.env];
  if (envValue !== undefined && envValue !== "") return { value: parseWith(spec, envValue, "env"), source: "env" };
  if (spec.default === undefined) return { value: undefined as T, source: "default" };
  return { value: spec.parse(spec.default), source: "default" };
}

/** Every value of a repeatable flag, each parsed (simulate's --key). */
export function resolveRepeated<T>(spec: FlagSpec<T>, flags: FlagValues): T[] {
  const raw = flags[spec.flag];
  const all = raw === undefined ? [] : Array.isArray(raw) ? raw : [String(raw)];
  return all.map((r) => parseWith(spec, r, "flag"));
}

function parseWith<T>(spec: FlagSpec<T>, raw: string, from: "flag" | "env"): T {
  try {
    return spec.parse(raw);
  } catch (err) {
    if (!(err instanceof BadValue)) throw err;
    const where =
      spec.env === undefined ? `--${spec.flag}` : from === "flag" ? `--${spec.flag} (env ${spec.env})` : `${spec.env} (flag --${spec.flag})`;
    const got = spec.secret ? "" : `, got ${JSON.stringify(truncate(raw))}`;
    const hint = err.hint === undefined || spec.secret ? "" : `; ${err.hint}`;
    throw new WorkerError("ERR_CONFIG_INVALID", `Invalid ${where}: expected ${spec.allowed}${got}${hint}`, { field: `--${spec.flag}` });
  }
}

function truncate(raw: string): string {
  return raw.length > 80 ? raw.slice(0, 77) + "..." : raw;
}

/** The effective configuration as JSON-friendly values, formatted as a user would write them. */
export function describeConfig(config: Config): Record<string, string | number | boolean | null> {
  const out: Record<string, string | number | boolean | null> = {};
  for (const spec of OPTIONS) out[spec.flag] = formatValue(spec.key, config[spec.key]);
  return out;
}

function formatValue(key: ConfigKey, value: Config[ConfigKey]): string | number | boolean | null {
  if (value === undefined && key !== "bulkhead") return null;
  if (value instanceof URL) return value.href;
  if (key === "listen" || key === "agentListen") return formatHostPort(value as HostPort);
  if (key === "bulkhead") return value === undefined ? "fair" : `image=${(value as { image: number }).image},token=${(value as { token: number }).token}`;
  if (key === "firstPoll") return formatKindDurations(value as FirstPoll);
  if (key === "peers") return (value as Config["peers"]).map((p) => `${p.node}=${p.url.href}`).join(",");
  if (key.endsWith("Ms")) return formatDuration(value as number);
  return value as string | number | boolean;
}
