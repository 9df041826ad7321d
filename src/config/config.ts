/** The worker's configuration: one table of options (flag, variable, default, parser), resolved flag > env > default, pure. */
import { WorkerError } from "../base/errors.ts";
import type { LogFormat, LogLevel } from "../base/log.ts";
import { formatHostPort, type HostPort } from "../base/listen.ts";

export { formatHostPort, type HostPort };

export interface FirstPoll {
  imageMs: number;
  tokenMs: number;
}

export interface Config {
  listen: HostPort;
  upstream: URL;
  threads: number;
  queueMax: number;
  taskTimeoutMs: number;
  firstPoll: FirstPoll;
  /** Per-kind hard limits on threads; undefined: the fair split that lends idle capacity. */
  bulkhead: { image: number; token: number } | undefined;
  pollIntervalMs: number;
  maxConsecutiveFailures: number;
  maxSecondsWithoutSolveMs: number;
  minBalanceUsd: number;
  maxErrorRate: number;
  errorWindowMs: number;
  balanceTtlMs: number;
  checkTimeoutMs: number;
  drainTimeoutMs: number;
  stateDir: string | undefined;
  apiTokenFile: string | undefined;
  agentListen: HostPort | undefined;
  logLevel: LogLevel;
  logFormat: LogFormat;
  apiKeyFile: string | undefined;
  demo: boolean;
}

export type ConfigKey = keyof Config;
export type Source = "default" | "env" | "flag";

/** One row of the table: how an option is named, documented and parsed. */
export interface OptionSpec<K extends ConfigKey = ConfigKey> {
  key: K;
  flag: string;
  env: string;
  /** The default as a user would write it; parsed like any other value. Undefined: unset. */
  default: string | undefined;
  /** What is allowed, for --help and error messages. */
  allowed: string;
  help: string;
  boolean?: true;
  parse: (raw: string) => Config[K];
}

export const ENV_PREFIX = "CAPTCHA_WORKER_";

function option<K extends ConfigKey>(
  key: K,
  flag: string,
  def: string | undefined,
  allowed: string,
  help: string,
  parse: (raw: string) => Config[K],
  extra: { boolean?: true } = {},
): OptionSpec<K> {
  const env = ENV_PREFIX + flag.toUpperCase().replaceAll("-", "_");
  return { key, flag, env, default: def, allowed, help, parse, ...extra };
}

class BadValue extends Error {}

// Duration ---------------------------------------------------------------

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses `500ms`, `30s`, `10m`, `1h` or a bare number of seconds into milliseconds; undefined when invalid. */
export function parseDurationMs(raw: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(raw.trim());
  if (!m) return undefined;
  const ms = Number(m[1]) * DURATION_UNITS[m[2] ?? "s"]!;
  return Number.isFinite(ms) ? Math.round(ms) : undefined;
}

/** Formats milliseconds the way the table writes them (`5s`, `500ms`, `10m`). */
export function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0 && ms > 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0 && ms > 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

function duration(minMs: number, maxMs: number) {
  return (raw: string): number => {
    const ms = parseDurationMs(raw);
    if (ms === undefined || ms < minMs || ms > maxMs) throw new BadValue();
    return ms;
  };
}

function durationAllowed(minMs: number, maxMs: number): string {
  return `a duration from ${formatDuration(minMs)} to ${formatDuration(maxMs)} (500ms, 30s, 10m, 1h or bare seconds)`;
}

// Numbers ----------------------------------------------------------------

function integer(min: number, max: number) {
  return (raw: string): number => {
    if (!/^\d+$/.test(raw.trim())) throw new BadValue();
    const n = Number(raw.trim());
    if (!Number.isSafeInteger(n) || n < min || n > max) throw new BadValue();
    return n;
  };
}

function decimal(min: number, max: number) {
  return (raw: string): number => {
    if (!/^\d+(?:\.\d+)?$/.test(raw.trim())) throw new BadValue();
    const n = Number(raw.trim());
    if (!Number.isFinite(n) || n < min || n > max) throw new BadValue();
    return n;
  };
}

// Addresses --------------------------------------------------------------

/** Parses `host:port`, `[v6]:port` or `:port` (all interfaces); port 0 asks the OS for one. */
export function parseHostPort(raw: string): HostPort | undefined {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]*)):(\d{1,5})$/.exec(raw.trim());
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port > 65535) return undefined;
  const host = m[1] ?? (m[2] === "" ? "0.0.0.0" : m[2]!);
  return { host, port };
}

function hostPort(raw: string): HostPort {
  const hp = parseHostPort(raw);
  if (!hp) throw new BadValue();
  return hp;
}

function httpUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new BadValue();
  }
  if ((url.protocol !== "http:" && url.protocol !== "https:") || url.username || url.password || url.search || url.hash) {
    throw new BadValue();
  }
  if (!url.pathname.endsWith("/")) url.pathname += "/";
  return url;
}

function oneOf<T extends string>(values: readonly T[]) {
  return (raw: string): T => {
    const v = raw.trim() as T;
    if (!values.includes(v)) throw new BadValue();
    return v;
  };
}

function path(raw: string): string {
  if (raw.trim() === "" || raw.includes("\0")) throw new BadValue();
  return raw;
}

export function parseBoolean(raw: string): boolean {
  const v = raw.trim().toLowerCase();
  if (["1", "true", "yes", "on"].includes(v)) return true;
  if (["0", "false", "no", "off", ""].includes(v)) return false;
  throw new BadValue();
}

const FIRST_POLL_MAX_MS = 600_000;

/** `5s` (both kinds) or `image=5s,token=15s` (either part may be left at its default). */
function firstPoll(raw: string): FirstPoll {
  const one = duration(0, FIRST_POLL_MAX_MS);
  if (!raw.includes("=")) {
    const ms = one(raw);
    return { imageMs: ms, tokenMs: ms };
  }
  const out: FirstPoll = { imageMs: 5_000, tokenMs: 15_000 };
  const seen = new Set<string>();
  for (const part of raw.split(",")) {
    const [kind, value, ...rest] = part.split("=");
    if (rest.length > 0 || value === undefined || seen.has(kind!.trim())) throw new BadValue();
    seen.add(kind!.trim());
    if (kind!.trim() === "image") out.imageMs = one(value);
    else if (kind!.trim() === "token") out.tokenMs = one(value);
    else throw new BadValue();
  }
  return out;
}

/** `fair` (the default) or `image=N,token=N` (both, each 1 to 1000). */
function bulkhead(raw: string): Config["bulkhead"] {
  if (raw.trim() === "fair") return undefined;
  const out: Record<string, number> = {};
  for (const part of raw.split(",")) {
    const [kind, value, ...rest] = part.split("=").map((x) => x.trim());
    if (rest.length > 0 || value === undefined || (kind !== "image" && kind !== "token") || kind in out) throw new BadValue();
    out[kind] = integer(1, 1000)(value);
  }
  if (out.image === undefined || out.token === undefined) throw new BadValue();
  return { image: out.image, token: out.token };
}

// The table ---------------------------------------------------------------

/** Every option, its default and its parser, in the order of SPEC §3. */
export const OPTIONS: readonly OptionSpec[] = [
  option("listen", "listen", "0.0.0.0:8080", "host:port, [ipv6]:port or :port (port 0-65535)",
    "HTTP address for health, metrics, task API and status page", hostPort),
  option("upstream", "upstream", "https://ocr.captchaai.com", "an http:// or https:// base URL without credentials, query or fragment",
    "CaptchaAI base URL (in.php and res.php below it)", httpUrl),
  option("threads", "threads", "5", "a whole number from 1 to 1000",
    "max concurrent upstream solves (the plan's thread count)", integer(1, 1000)),
  option("queueMax", "queue-max", "1000", "a whole number from 1 to 1000000",
    "max queued tasks; beyond it new tasks get 429", integer(1, 1_000_000)),
  option("taskTimeoutMs", "task-timeout", "180s", durationAllowed(1000, 3_600_000),
    "a task not solved by then fails with `timeout`", duration(1000, 3_600_000)),
  option("firstPoll", "first-poll", "image=5s,token=15s", `one duration, or image=DUR,token=DUR (each 0s to 10m)`,
    "wait before the first res.php poll", firstPoll),
  option("pollIntervalMs", "poll-interval", "5s", durationAllowed(10, 600_000),
    "wait between polls", duration(10, 600_000)),
  option("bulkhead", "bulkhead", "fair", "fair, or image=N,token=N (each 1 to 1000)",
    "threads per kind: fair = half each, lending idle capacity; image=N,token=N = hard caps", bulkhead),
  option("maxConsecutiveFailures", "max-consecutive-failures", "10", "a whole number from 1 to 1000000",
    "readiness fails at this many failures in a row", integer(1, 1_000_000)),
  option("maxSecondsWithoutSolveMs", "max-seconds-without-solve", "600s", durationAllowed(1000, 604_800_000),
    "readiness fails when no solve for this long (after a first solve, while work waits)", duration(1000, 604_800_000)),
  option("minBalanceUsd", "min-balance", "1.0", "a number of USD from 0 to 1000000",
    "readiness fails below this balance (USD)", decimal(0, 1_000_000)),
  option("maxErrorRate", "max-error-rate", "0.5", "a ratio from 0 to 1",
    "readiness fails above this failure ratio over --error-window (20+ outcomes)", decimal(0, 1)),
  option("errorWindowMs", "error-window", "5m", durationAllowed(10_000, 86_400_000),
    "sliding window for the error rate", duration(10_000, 86_400_000)),
  option("balanceTtlMs", "balance-ttl", "60s", durationAllowed(1000, 86_400_000),
    "balance cache time-to-live (stale served while one refresh runs)", duration(1000, 86_400_000)),
  option("checkTimeoutMs", "check-timeout", "5s", durationAllowed(100, 60_000),
    "upper bound on any single dependency check", duration(100, 60_000)),
  option("drainTimeoutMs", "drain-timeout", "25s", durationAllowed(0, 600_000),
    "on SIGTERM, how long in-flight tasks may finish", duration(0, 600_000)),
  option("stateDir", "state-dir", undefined, "a directory path",
    "where accepted tasks are journaled (systemd StateDirectory)", path),
  option("apiTokenFile", "api-token-file", undefined, "a file path",
    "file holding the bearer token required on the task API", path),
  option("agentListen", "agent-listen", undefined, "host:port, [ipv6]:port or :port",
    "TCP address for the HAProxy agent-check responder", hostPort),
  option("logLevel", "log-level", "info", "debug, info, warn or error",
    "least severe level logged", oneOf(["debug", "info", "warn", "error"] as const)),
  option("logFormat", "log-format", "json", "json or text",
    "json (one object a line) or text (for people)", oneOf(["json", "text"] as const)),
  option("apiKeyFile", "api-key-file", undefined, "a file path",
    "file holding the CaptchaAI key (also CAPTCHAAI_API_KEY_FILE)", path),
  option("demo", "demo", "false", "true or false (1/0, yes/no)",
    "run on the built-in simulator with sample traffic; no key needed", parseBoolean, { boolean: true }),
];

const BY_KEY = new Map(OPTIONS.map((o) => [o.key, o]));

export function optionSpec(key: ConfigKey): OptionSpec {
  return BY_KEY.get(key)!;
}

/** Flag values as parseArgs gives them: strings for value options, booleans for switches. */
export type FlagValues = Partial<Record<string, string | boolean | undefined>>;

export interface ParsedConfig {
  config: Config;
  sources: Record<ConfigKey, Source>;
}

/**
 * Resolves every option from flags (by flag name), then `CAPTCHA_WORKER_*` variables, then defaults.
 * Throws WorkerError ERR_CONFIG_INVALID naming the flag and variable at the first bad value.
 */
export function parseConfig(flags: FlagValues, env: Record<string, string | undefined>): ParsedConfig {
  const config: Record<string, unknown> = {};
  const sources: Record<string, Source> = {};
  for (const spec of OPTIONS) {
    const resolved = resolveOption(spec, flags, env);
    config[spec.key] = resolved.value;
    sources[spec.key] = resolved.source;
  }
  return { config: config as unknown as Config, sources: sources as Record<ConfigKey, Source> };
}

/** Resolves one option alone (the `probe` command needs only `listen`). */
export function resolveOption<K extends ConfigKey>(
  spec: OptionSpec<K>,
  flags: FlagValues,
  env: Record<string, string | undefined>,
): { value: Config[K]; source: Source } {
  const flagValue = flags[spec.flag];
  if (flagValue !== undefined) {
    const raw = typeof flagValue === "boolean" ? String(flagValue) : flagValue;
    return { value: parseWith(spec, raw, "flag"), source: "flag" };
  }
  const envValue = env[spec.env];
  if (envValue !== undefined && envValue !== "") return { value: parseWith(spec, envValue, "env"), source: "env" };
  if (spec.default === undefined) return { value: undefined as Config[K], source: "default" };
  return { value: spec.parse(spec.default), source: "default" };
}

function parseWith<K extends ConfigKey>(spec: OptionSpec<K>, raw: string, from: "flag" | "env"): Config[K] {
  try {
    return spec.parse(raw);
  } catch (err) {
    if (!(err instanceof BadValue)) throw err;
    const where = from === "flag" ? `--${spec.flag} (env ${spec.env})` : `${spec.env} (flag --${spec.flag})`;
    throw new WorkerError("ERR_CONFIG_INVALID", `Invalid ${where}: expected ${spec.allowed}, got ${JSON.stringify(truncate(raw))}`, {
      field: `--${spec.flag}`,
    });
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
  if (key === "firstPoll") {
    const fp = value as FirstPoll;
    return `image=${formatDuration(fp.imageMs)},token=${formatDuration(fp.tokenMs)}`;
  }
  if (key.endsWith("Ms")) return formatDuration(value as number);
  return value as string | number | boolean;
}
