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

/** A flag of `run` and `config`: a Config field with its `CAPTCHA_WORKER_*` variable. */
export interface OptionSpec<K extends ConfigKey = ConfigKey> extends FlagSpec<Config[K]> {
  key: K;
  env: string;
}

export const ENV_PREFIX = "CAPTCHA_WORKER_";

function envName(flag: string): string {
  return ENV_PREFIX + flag.toUpperCase().replaceAll("-", "_");
}

function option<K extends ConfigKey>(
  key: K,
  flag: string,
  def: string | undefined,
  allowed: string,
  help: string,
  parse: (raw: string) => Config[K],
  extra: { boolean?: true } = {},
): OptionSpec<K> {
  return { key, flag, env: envName(flag), default: def, allowed, help, parse, placeholder: extra.boolean ? undefined : "VALUE", ...extra };
}

function flag<T>(spec: Omit<FlagSpec<T>, "env"> & { env?: string }): FlagSpec<T> {
  return { env: undefined, ...spec };
}

const HOST_PORT_ALLOWED = "host:port, [ipv6]:port or :port (port 0-65535)";
const FIRST_POLL_MAX_MS = 600_000;
const SOLVE_TIME_MAX_MS = 3_600_000;

/** Every option of `run` and `config`, its default and its parser, in the order of SPEC §3. */
export const OPTIONS: readonly OptionSpec[] = [
  option("listen", "listen", "0.0.0.0:8080", HOST_PORT_ALLOWED,
    "HTTP address for health, metrics, task API and status page", v.hostPort),
  option("upstream", "upstream", "https://ocr.captchaai.com", "an http:// or https:// base URL without credentials, query or fragment",
    "CaptchaAI base URL (in.php and res.php below it)", v.baseUrl),
  option("threads", "threads", "5", "a whole number from 1 to 1000",
    "max concurrent upstream solves (the plan's thread count)", v.integer(1, 1000)),
  option("queueMax", "queue-max", "1000", "a whole number from 1 to 1000000",
    "max queued tasks; beyond it new tasks get 429", v.integer(1, 1_000_000)),
  option("queueMaxBytes", "queue-max-bytes", "256MiB", "a size from 1MiB to 64GiB (bytes, or with KiB, MiB, GiB, KB, MB, GB)",
    "max bytes of queued task payloads; beyond it new tasks get 429", v.size(1024 * 1024, 64 * 1024 ** 3)),
  option("taskTimeoutMs", "task-timeout", "180s", v.durationAllowed(1000, 3_600_000),
    "a task not solved by then fails with `timeout`", v.duration(1000, 3_600_000)),
  option("firstPoll", "first-poll", "image=5s,token=15s", `one duration, or image=DUR,token=DUR (each 0s to 10m)`,
    "wait before the first res.php poll", v.kindDurations(FIRST_POLL_MAX_MS, { imageMs: 5_000, tokenMs: 15_000 })),
  option("pollIntervalMs", "poll-interval", "5s", v.durationAllowed(10, 600_000),
    "wait between polls", v.duration(10, 600_000)),
  option("bulkhead", "bulkhead", "fair", "fair, or image=N,token=N (each 1 to 1000)",
    "threads per kind: fair = half each, lending idle capacity; image=N,token=N = hard caps", v.bulkhead),
  option("maxConsecutiveFailures", "max-consecutive-failures", "10", "a whole number from 1 to 1000000",
    "readiness fails at this many failures in a row", v.integer(1, 1_000_000)),
  option("maxSecondsWithoutSolveMs", "max-seconds-without-solve", "600s", v.durationAllowed(1000, 604_800_000),
    "readiness fails when no solve for this long (after a first solve, while work waits)", v.duration(1000, 604_800_000)),
  option("minBalanceUsd", "min-balance", "1.0", "a number of USD from 0 to 1000000",
    "readiness fails below this balance (USD)", v.decimal(0, 1_000_000)),
  option("maxErrorRate", "max-error-rate", "0.5", "a ratio from 0 to 1",
    "readiness fails above this failure ratio over --error-window (20+ outcomes)", v.decimal(0, 1)),
  option("errorWindowMs", "error-window", "5m", v.durationAllowed(10_000, 86_400_000),
    "sliding window for the error rate", v.duration(10_000, 86_400_000)),
  option("maxQueueWaitMs", "max-queue-wait", "60s", v.durationAllowed(1000, 86_400_000),
    "the oldest queued task waiting longer: /health warns; twice as long: not ready (`backlog`)", v.duration(1000, 86_400_000)),
  option("maxSaturation", "max-saturation", "0.1", "a ratio from 0 to 1",
    "/health warns above this share of submits refused for want of threads (over --error-window)", v.decimal(0, 1)),
  option("balanceTtlMs", "balance-ttl", "60s", v.durationAllowed(1000, 86_400_000),
    "balance cache time-to-live (stale served while one refresh runs)", v.duration(1000, 86_400_000)),
  option("checkTimeoutMs", "check-timeout", "5s", v.durationAllowed(100, 60_000),
    "upper bound on any single dependency check", v.duration(100, 60_000)),
  option("connectTimeoutMs", "connect-timeout", "3s", v.durationAllowed(100, 60_000),
    "upstream connect timeout (TCP connect, TLS handshake included): a submit that never connected is retried", v.duration(100, 60_000)),
  option("drainTimeoutMs", "drain-timeout", "25s", v.durationAllowed(0, 600_000),
    "on SIGTERM, how long in-flight tasks may finish", v.duration(0, 600_000)),
  option("stateDir", "state-dir", undefined, "a directory path",
    "where accepted tasks are journaled (systemd StateDirectory)", v.path),
  option("addressFile", "address-file", undefined, "a file path",
    "file where run records its bound address (host:port) once listening, removed at a clean exit; probe reads it first", v.path),
  option("apiTokenFile", "api-token-file", undefined, "a file path",
    "file holding the bearer token required on the task API", v.path),
  option("allowUnauthenticated", "allow-unauthenticated", "false", "true or false (1/0, yes/no)",
    "serve the task API without --api-token-file on a non-loopback --listen (a private network only)", v.boolean, { boolean: true }),
  option("agentListen", "agent-listen", undefined, "host:port, [ipv6]:port or :port",
    "TCP address for the HAProxy agent-check responder", v.hostPort),
  option("logLevel", "log-level", "info", "debug, info, warn or error",
    "least severe level logged", v.oneOf(["debug", "info", "warn", "error"] as const)),
  option("logFormat", "log-format", "json", "json or text",
    "json (one object a line) or text (for people)", v.oneOf(["json", "text"] as const)),
  option("apiKeyFile", "api-key-file", undefined, "a file path",
    "file holding the CaptchaAI key (also CAPTCHAAI_API_KEY_FILE)", v.path),
  option("demo", "demo", "false", "true or false (1/0, yes/no)",
    "run on the built-in simulator with sample traffic; no key needed", v.boolean, { boolean: true }),
  option("nodeId", "node-id", "0", "a whole number from 0 to 1023",
    "this node's number, kept in the low 10 bits of every task id", v.integer(0, 1023)),
  option("peers", "peers", "", "N=URL,... (node 0-1023 = http(s) base URL, this node included)",
    "every node of the cluster: reads of a peer's task are forwarded to it; empty: own tasks only", v.peers),
  option("peerTokenFile", "peer-token-file", undefined, "a file path",
    "file holding the token shared by the peers (required with --peers)", v.path),
  option("clientKeysFile", "client-keys-file", undefined, "a file path",
    "the gateway's clients, `NAME KEY [max_in_flight=N]` a line; also bearer tokens of the task API; unset: gateway off", v.path),
  option("callbackAllow", "callback-allow", "", "comma-separated host names or IP addresses",
    "hosts that pingback/callbackUrl may reach (name and resolved address); empty: none", v.hostList),
];

const BY_KEY = new Map(OPTIONS.map((o) => [o.key, o]));

/** The row of `key`. */
export function optionSpec<K extends ConfigKey>(key: K): OptionSpec<K> {
  return BY_KEY.get(key) as OptionSpec<K>;
}

const URL_FLAG = flag({ flag: "url", placeholder: "URL", default: undefined, defaultHelp: "http://<--listen>", allowed: "an http:// or https:// URL",
  help: "base URL of the worker (0.0.0.0 and :: become loopback)", parse: v.httpUrl });

function timeoutFlag(def: string): FlagSpec<number> {
  return flag({ flag: "timeout", placeholder: "DUR", default: def, allowed: "a duration from 10ms to 60s",
    help: "give up after this long, like a kubelet", parse: v.duration(10, 60_000) });
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
  flag({ flag: "json", boolean: true, default: "false", allowed: "a switch", help: "print the model as JSON", parse: v.boolean }),
];

/** `simulate`'s flags (no variables: the simulator is a test tool). */
export const SIMULATE_FLAGS: readonly FlagSpec[] = [
  flag({ flag: "listen", placeholder: "HOST:PORT", default: "127.0.0.1:8090", allowed: HOST_PORT_ALLOWED, help: "address to listen on", parse: v.hostPort }),
  flag({ flag: "key", placeholder: "KEY", default: undefined, defaultHelp: "any key", multiple: true, secret: true, allowed: "1 to 256 printable characters",
    help: "an accepted key (repeat for more); others get ERROR_WRONG_USER_KEY", parse: v.simKey }),
  flag({ flag: "balance", placeholder: "USD", default: "10", allowed: "a number from 0 to 1000000000", help: "starting balance", parse: v.number(0, 1e9) }),
  flag({ flag: "price", placeholder: "USD", default: "0.001", allowed: "a number from 0 to 1000", help: "charged per delivered solution", parse: v.number(0, 1000) }),
  flag({ flag: "threads", placeholder: "N", default: "50", allowed: "a whole number from 1 to 100000",
    help: "unsolved tasks per key; beyond: ERROR_NO_SLOT_AVAILABLE", parse: v.number(1, 100_000, true) }),
  flag({ flag: "solve-time", placeholder: "DUR", default: "image=3s,token=10s", allowed: "one duration, or image=DUR,token=DUR (each 0s to 1h)",
    help: "how long a task stays CAPCHA_NOT_READY", parse: v.kindDurations(SOLVE_TIME_MAX_MS, { imageMs: 3000, tokenMs: 10_000 }) }),
  flag({ flag: "seed", placeholder: "N", default: undefined, defaultHelp: "random", allowed: "a whole number from 0 to 4294967295",
    help: "makes ids, answers and random faults repeat", parse: v.number(0, 2 ** 32 - 1, true) }),
  flag({ flag: "answer-length", placeholder: "N", default: undefined, defaultHelp: "short", allowed: "a whole number from 1 to 1000000",
    help: "every answer this many characters long (memory benchmarks)", parse: v.number(1, 1_000_000, true) }),
  flag({ flag: "idle-timeout", placeholder: "DUR", default: undefined, defaultHelp: "5s, announced in Keep-Alive", allowed: v.durationAllowed(1, 3_600_000),
    help: "keep-alive idle timeout, never announced (as many load balancers); see --idle-mode", parse: v.duration(1, 3_600_000) }),
  flag({ flag: "idle-mode", placeholder: "MODE", default: "close", allowed: "close or reset",
    help: "with --idle-timeout: close idle connections, or reset a request arriving on one", parse: v.oneOf(["close", "reset"] as const) }),
  flag({ flag: "log-level", placeholder: "LEVEL", default: "info", allowed: "debug, info, warn or error", help: "least severe level logged",
    parse: v.oneOf(["debug", "info", "warn", "error"] as const) }),
  flag({ flag: "log-format", placeholder: "FORMAT", default: "json", allowed: "json or text", help: "json or text", parse: v.oneOf(["json", "text"] as const) }),
];
