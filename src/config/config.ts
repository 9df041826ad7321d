/** The worker's configuration as the rest of the program sees it: plain typed values, parsed by parse_config.ts. */
import type { LogFormat, LogLevel } from "../base/log.ts";
import type { HostPort } from "../base/listen.ts";
import type { KindDurations } from "./duration.ts";

export type { HostPort };

export type FirstPoll = KindDurations;

export interface Config {
  listen: HostPort;
  upstream: URL;
  threads: number;
  queueMax: number;
  /** Bytes of queued task payloads (images, parameters) the queue may hold. */
  queueMaxBytes: number;
  taskTimeoutMs: number;
  firstPoll: FirstPoll;
  /** Per-kind hard limits on threads; undefined: the fair split that lends idle capacity. */
  bulkhead: { image: number; token: number } | undefined;
  pollIntervalMs: number;
  maxConsecutiveFailures: number;
  maxWithoutSolveMs: number;
  minBalanceUsd: number;
  maxErrorRate: number;
  errorWindowMs: number;
  /** The oldest queued task waiting longer makes /health warn; twice as long is not ready (`backlog`). */
  maxQueueWaitMs: number;
  /** Share of submits refused for want of threads above which /health warns. */
  maxSaturation: number;
  balanceTtlMs: number;
  checkTimeoutMs: number;
  /** Until an upstream request can be written (TCP connect, TLS handshake included). */
  connectTimeoutMs: number;
  drainTimeoutMs: number;
  stateDir: string | undefined;
  /** Where `run` records its bound address for `probe` (a Docker HEALTHCHECK sees only the image's environment). */
  addressFile: string | undefined;
  apiTokenFile: string | undefined;
  /** Serve the task API without a credential on a non-loopback --listen. */
  allowUnauthenticated: boolean;
  agentListen: HostPort | undefined;
  logLevel: LogLevel;
  logFormat: LogFormat;
  apiKeyFile: string | undefined;
  /** The providers file (docs/providers.md); unset: one provider, CaptchaAI at --upstream with the key flags and --threads. */
  providersFile: string | undefined;
  demo: boolean;
  /** With --demo: two simulated providers, a small plan and a per-solve overflow. */
  demoOverflow: boolean;
  /** This node's number in task ids (docs/cluster.md), 0 to 1023. */
  nodeId: number;
  /** Every node of the cluster, this one included (--peers, docs/cluster.md); empty: this node serves only its own tasks. */
  peers: { node: number; url: URL }[];
  /** File holding the token peers authenticate forwarded requests with; required with --peers. */
  peerTokenFile: string | undefined;
  /** `NAME KEY [max_in_flight=N]` per line: the gateway's clients (and bearer tokens of /v1/tasks); unset: the gateway is off. */
  clientKeysFile: string | undefined;
  /** Hosts callbacks (pingback, callbackUrl) may reach; empty: none. */
  callbackAllow: string[];
}

export type ConfigKey = keyof Config;
export type Source = "default" | "env" | "flag";

/** Flag values as parseArgs gives them: strings for value options, booleans for switches, arrays for repeated ones. */
export type FlagValues = Partial<Record<string, string | boolean | string[] | undefined>>;
