/** Every command's flags in tables (flag, variable, default, allowed values, parser): the parser, --help and `config` read them. */
import type { Config, ConfigKey } from "./config.ts";
import * as v from "./_values.ts";

/** One flag of any command. */
export interface FlagSpec<T = unknown> {
  /** Without the leading `--`. */
  flag: string;
  /** Its environment variable, when it has one (a flag wins over it). */
  env: string | undefined;
  /** The default as a user would write it; parsed like any other value. Undefined: unset. */
  default: string | undefined;
  /** What is allowed, for --help and error messages. */
  allowed: string;
  help: string;
  /** The value's placeholder in --help (`URL`, `DUR`); absent for a switch. */
  placeholder?: string;
  /** How --help shows an unset default (`any key`). */
  defaultHelp?: string;
  boolean?: true;
  /** May be given more than once (simulate's --key). */
  multiple?: true;
  /** Never echoed in an error message. */
  secret?: true;
  parse: (raw: string) => T;
}

/**
 * The sections of `run --help`, in the order it shows them; every option of `run` belongs to one.
 * Options keep the table's order within their section.
 */
export const OPTION_GROUPS = {
  listening: "Listening and access",
  upstream: "Upstream and providers",
  queue: "Queue and timing",
  health: "Health thresholds and checks",
  durability: "Durability",
  cluster: "Cluster",
  gateway: "Gateway (2captcha-compatible APIs)",
  logging: "Logging",
  demo: "Demo",
} as const;

export type OptionGroup = keyof typeof OPTION_GROUPS;

/** A flag of `run` and `config`: a Config field with its `CAPTCHA_WORKER_*` variable and its section of `run --help`. */
export interface OptionSpec<K extends ConfigKey = ConfigKey> extends FlagSpec<Config[K]> {
  key: K;
  env: string;
  group: OptionGroup;
}

export const ENV_PREFIX = "CAPTCHA_WORKER_";

function envName(flag: string): string {
  return ENV_PREFIX + flag.toUpperCase().replaceAll("-", "_");
}

/** A row of the run/config table: its value kind says what it allows (once), and parses. */
function option<K extends ConfigKey>(
  key: K,
  flag: string,
  def: string | undefined,
  help: string,
  value: v.Value<Config[K]>,
  extra: { group: OptionGroup; boolean?: true },
): OptionSpec<K> {
  return { key, flag, env: envName(flag), default: def, allowed: value.allowed, help, parse: value.parse, placeholder: extra.boolean ? undefined : value.placeholder, ...extra };
}

function flag<T>(spec: Omit<FlagSpec<T>, "env" | "allowed" | "parse"> & { env?: string; value: v.Value<T>; allowed?: string }): FlagSpec<T> {
  const { value, ...rest } = spec;
  return { env: undefined, allowed: value.allowed, parse: value.parse, ...rest };
}

const FIRST_POLL_MAX_MS = 600_000;
const SOLVE_TIME_MAX_MS = 3_600_000;

/** Every option of `run` and `config`, its default and its parser, in the order of docs/configuration.md's table. */
export const OPTIONS: readonly OptionSpec[] = [
  option("listen", "listen", "0.0.0.0:8080",
    "HTTP address for health, metrics, task API and status page", v.hostPort, { group: "listening" }),
  option("upstream", "upstream", "https://ocr.captchaai.com",
    "CaptchaAI base URL (in.php and res.php below it)", v.baseUrl, { group: "upstream" }),
  option("threads", "threads", "5",
    "max concurrent upstream solves (the plan's thread count)", v.integer(1, 1000), { group: "upstream" }),
  option("queueMax", "queue-max", "1000",
    "max queued tasks; beyond it new tasks get 429", v.integer(1, 1_000_000), { group: "queue" }),
  option("queueMaxBytes", "queue-max-bytes", "64MiB",
    "max bytes of queued task payloads; beyond it new tasks get 429", v.size(1024 * 1024, 64 * 1024 ** 3), { group: "queue" }),
  option("taskTimeoutMs", "task-timeout", "180s",
    "a task not solved by then fails with `timeout`", v.duration(1000, 3_600_000), { group: "queue" }),
  option("firstPoll", "first-poll", "image=5s,token=15s",
    "wait before the first res.php poll", v.kindDurations(FIRST_POLL_MAX_MS, { imageMs: 5_000, tokenMs: 15_000 }), { group: "queue" }),
  option("pollIntervalMs", "poll-interval", "5s",
    "wait between polls", v.duration(10, 600_000), { group: "queue" }),
  option("bulkhead", "bulkhead", "fair",
    "threads per kind: fair = half each, lending idle capacity; image=N,token=N = hard caps", v.bulkhead, { group: "upstream" }),
  option("maxConsecutiveFailures", "max-consecutive-failures", "10",
    "readiness fails at this many failures in a row", v.integer(1, 1_000_000), { group: "health" }),
  option("maxWithoutSolveMs", "max-seconds-without-solve", "600s",
    "readiness fails when no solve for this long (after a first solve, while work waits)", v.duration(1000, 604_800_000), { group: "health" }),
  option("minBalanceUsd", "min-balance", "1.0",
    "readiness fails below this balance (USD)", v.decimal(0, 1_000_000, "a number of USD"), { group: "health" }),
  option("maxErrorRate", "max-error-rate", "0.5",
    "readiness fails above this failure ratio over --error-window (20+ outcomes)", v.decimal(0, 1, "a ratio"), { group: "health" }),
  option("errorWindowMs", "error-window", "5m",
    "sliding window for the error rate", v.duration(10_000, 86_400_000), { group: "health" }),
  option("maxQueueWaitMs", "max-queue-wait", "60s",
    "the oldest queued task waiting longer: /health warns; twice as long: not ready (`backlog`)", v.duration(1000, 86_400_000), { group: "health" }),
  option("maxSaturation", "max-saturation", "0.1",
    "/health warns above this share of --error-window the thread plan was full while work waited", v.decimal(0, 1, "a ratio"), { group: "health" }),
  option("balanceTtlMs", "balance-ttl", "60s",
    "balance cache time-to-live (stale served while one refresh runs); --demo: 5s unless given", v.duration(1000, 86_400_000), { group: "health" }),
  option("checkTimeoutMs", "check-timeout", "5s",
    "upper bound on any single dependency check", v.duration(100, 60_000), { group: "health" }),
  option("connectTimeoutMs", "connect-timeout", "3s",
    "upstream connect timeout (TCP connect, TLS handshake included): a submit that never connected is retried", v.duration(100, 60_000), { group: "upstream" }),
  option("drainTimeoutMs", "drain-timeout", "25s",
    "on SIGTERM, how long in-flight tasks may finish", v.duration(0, 600_000), { group: "queue" }),
  option("stateDir", "state-dir", undefined,
    "where accepted tasks are journaled (systemd StateDirectory)", v.path("directory"), { group: "durability" }),
  option("addressFile", "address-file", undefined,
    "file where run records its bound address (host:port) once listening, removed at a clean exit; probe reads it first", v.path("file"), { group: "listening" }),
  option("apiTokenFile", "api-token-file", undefined,
    "file holding the bearer token required on the task API", v.path("file"), { group: "listening" }),
  option("allowUnauthenticated", "allow-unauthenticated", "false",
    "serve the task API without --api-token-file on a non-loopback --listen (a private network only)", v.boolean, { group: "listening", boolean: true }),
  option("agentListen", "agent-listen", undefined,
    "TCP address for the HAProxy agent-check responder", v.hostPort, { group: "listening" }),
  option("logLevel", "log-level", "info",
    "least severe level logged", v.oneOf(["debug", "info", "warn", "error"] as const), { group: "logging" }),
  option("logFormat", "log-format", "json",
    "json (one object a line) or text (for people); --demo with stderr a terminal: text unless given", v.oneOf(["json", "text"] as const), { group: "logging" }),
  option("apiKeyFile", "api-key-file", undefined,
    "file holding the CaptchaAI key (also CAPTCHAAI_API_KEY_FILE)", v.path("file"), { group: "upstream" }),
  option("providersFile", "providers-file", undefined,
    "the solving accounts, one a line in order of preference (docs/providers.md); unset: one, CaptchaAI at --upstream with --threads", v.path("file"), { group: "upstream" }),
  option("demo", "demo", "false",
    "run on the built-in simulator with sample traffic; no key needed", v.boolean, { group: "demo", boolean: true }),
  option("demoOverflow", "demo-overflow", "false",
    "with --demo: a 2-thread simulated CaptchaAI plan and a per-solve simulated 2captcha behind it, to watch overflow (docs/providers.md)", v.boolean, { group: "demo", boolean: true }),
  option("nodeId", "node-id", "0",
    "this node's number, kept in the low 10 bits of every task id", v.integer(0, 1023), { group: "cluster" }),
  option("peers", "peers", "",
    "every node of the cluster: reads of a peer's task are forwarded to it; empty: own tasks only", v.peers, { group: "cluster" }),
  option("peerTokenFile", "peer-token-file", undefined,
    "file holding the token shared by the peers (required with --peers)", v.path("file"), { group: "cluster" }),
  option("clientKeysFile", "client-keys-file", undefined,
    "the gateway's clients, `NAME KEY [max_in_flight=N]` a line; also bearer tokens of the task API; unset: gateway off", v.path("file"), { group: "gateway" }),
  option("callbackAllow", "callback-allow", "",
    "hosts that pingback/callbackUrl may reach (name and resolved address); empty: none", v.hostList, { group: "gateway" }),
];

const BY_KEY = new Map(OPTIONS.map((o) => [o.key, o]));

/** The row of `key`. */
export function optionSpec<K extends ConfigKey>(key: K): OptionSpec<K> {
  return BY_KEY.get(key) as OptionSpec<K>;
}

const URL_FLAG = flag({ flag: "url", placeholder: "URL", default: undefined, defaultHelp: "http://<--listen>", help: "base URL of the worker (0.0.0.0 and :: become loopback)", value: v.httpUrl });

function timeoutFlag(def: string): FlagSpec<number> {
  return flag({ flag: "timeout", placeholder: "DUR", default: def, help: "give up after this long, like a kubelet", value: v.duration(10, 60_000) });
}

const LISTEN_FOR_URL: FlagSpec = { ...optionSpec("listen"), placeholder: "HOST:PORT", help: "where the worker listens, for the default --url" };

/** The file `run` records its bound address in: probe reads it before --listen (a HEALTHCHECK knows only the image's environment). */
const ADDRESS_FILE_FOR_URL: FlagSpec = { ...optionSpec("addressFile"), placeholder: "FILE", help: "where run recorded its address: read before --listen" };

/** `probe`'s flags. */
export const PROBE_FLAGS: readonly FlagSpec[] = [URL_FLAG, timeoutFlag("1s"), LISTEN_FOR_URL, ADDRESS_FILE_FOR_URL];

/** `status`'s flags: probe's, a longer timeout, and --json. */
export const STATUS_FLAGS: readonly FlagSpec[] = [
  URL_FLAG,
  timeoutFlag("2s"),
  LISTEN_FOR_URL,
  flag({ flag: "json", boolean: true, default: "false", help: "print the model as JSON", value: v.boolean }),
];

/** `types`'s flags. */
export const TYPES_FLAGS: readonly FlagSpec[] = [
  flag({ flag: "json", boolean: true, default: "false", help: "print the types as JSON (what GET /v1/types answers)", value: v.boolean }),
];

/** `simulate`'s flags (no variables: the simulator is a test tool). */
export const SIMULATE_FLAGS: readonly FlagSpec[] = [
  flag({ flag: "listen", placeholder: "HOST:PORT", default: "127.0.0.1:8090", help: "address to listen on", value: v.hostPort }),
  flag({ flag: "key", placeholder: "KEY", default: undefined, defaultHelp: "any 32-character key", multiple: true, secret: true, help: "an accepted key (repeat for more); others get ERROR_KEY_DOES_NOT_EXIST, keys not 32 characters long ERROR_WRONG_USER_KEY (on CapSolver's API both ERROR_KEY_DENIED_ACCESS)", value: v.simKey }),
  flag({ flag: "dialect", placeholder: "DIALECT", default: "captchaai", help: "the kind of provider: CaptchaAI's or 2captcha's in.php/res.php, anti-captcha's or CapSolver's createTask API (protocol, type names, codes, billing)", value: v.oneOf(["captchaai", "2captcha", "anticaptcha", "capsolver"] as const) }),
  flag({ flag: "balance", placeholder: "USD", default: "10", help: "starting balance", value: v.decimal(0, 1e9) }),
  flag({ flag: "price", placeholder: "USD", default: undefined, defaultHelp: "the dialect's: 0.001 (captchaai), per kind for the others (docs/simulator.md)", help: "charged per solve, whatever its kind", value: v.decimal(0, 1000) }),
  flag({ flag: "threads", placeholder: "N", default: undefined, defaultHelp: "50 (captchaai); no cap (the per-solve dialects)", help: "unsolved tasks per key; beyond: --capacity-code", value: v.integer(1, 100_000) }),
  flag({ flag: "capacity-code", placeholder: "CODE", default: undefined, defaultHelp: "ERROR_ZERO_BALANCE (captchaai); ERROR_NO_SLOT_AVAILABLE (the others)", help: "what a submit past --threads is answered (CaptchaAI: ERROR_ZERO_BALANCE; 2captcha, anti-captcha, CapSolver: ERROR_NO_SLOT_AVAILABLE)", value: v.oneOf(["ERROR_ZERO_BALANCE", "ERROR_NO_SLOT_AVAILABLE"] as const) }),
  flag({ flag: "unsupported", placeholder: "METHODS", default: "", defaultHelp: "none", help: "in.php methods answered ERROR_METHOD_CALL (also grid, geetest_v4); on the JSON APIs task types (or their in.php method), answered the dialect's not-supported code", value: v.methodList }),
  flag({ flag: "solve-time", placeholder: "DUR", default: "image=3s,token=10s", help: "how long a task stays CAPCHA_NOT_READY", value: v.kindDurations(SOLVE_TIME_MAX_MS, { imageMs: 3000, tokenMs: 10_000 }) }),
  flag({ flag: "seed", placeholder: "N", default: undefined, defaultHelp: "random", help: "makes ids, answers and random faults repeat", value: v.integer(0, 2 ** 32 - 1) }),
  flag({ flag: "answer-length", placeholder: "N", default: undefined, defaultHelp: "short", help: "every answer this many characters long (memory benchmarks)", value: v.integer(1, 1_000_000) }),
  flag({ flag: "idle-timeout", placeholder: "DUR", default: undefined, defaultHelp: "5s, announced in Keep-Alive", help: "keep-alive idle timeout, never announced (as many load balancers); see --idle-mode", value: v.duration(1, 3_600_000) }),
  flag({ flag: "idle-mode", placeholder: "MODE", default: "close", help: "with --idle-timeout: close idle connections, or reset a request arriving on one", value: v.oneOf(["close", "reset"] as const) }),
  flag({ flag: "log-level", placeholder: "LEVEL", default: "info", help: "least severe level logged",
    value: v.oneOf(["debug", "info", "warn", "error"] as const) }),
  flag({ flag: "log-format", placeholder: "FORMAT", default: "json", help: "json or text", value: v.oneOf(["json", "text"] as const) }),
];
