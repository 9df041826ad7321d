/**
 * What the solver pool is built with: its ports (clock, upstream, health, journal, where task ends
 * go), how much it takes on (limits), when it polls and gives up (timing), and what it knows of the
 * account; and the states of its life.
 */
import type { CircuitState } from "../base/circuit_breaker.ts";
import type { Clock } from "../base/clock.ts";
import type { Logger } from "../base/log.ts";
import type { HealthFeed } from "../health/worker_health.ts";
import type { TaskKind, TaskType } from "../tasks/task_catalogue.ts";
import type { TaskEndHub } from "../tasks/task_end_hub.ts";
import type { TaskStoreOptions } from "../tasks/task_store.ts";
import type { BulkheadLimits } from "./_bulkhead.ts";
import type { TaskJournal } from "./journal_port.ts";
import type { SolverUpstream } from "./upstream_port.ts";

/** @default for --queue-max-bytes: 64 MiB of task payloads held by open tasks (docs/sizing-and-performance.md, Sizing). */
export const DEFAULT_QUEUE_MAX_BYTES = 64 * 1024 * 1024;

/** How much the pool takes on at once. */
export interface PoolLimits {
  /** Tasks holding an upstream slot at once (--threads), for the lone provider built without `providers`. */
  threads?: number;
  /** Queued tasks beyond which new ones get 429 (--queue-max). */
  queueMax: number;
  /** Payload bytes open tasks may hold together; beyond it new tasks get 429. @default DEFAULT_QUEUE_MAX_BYTES (64 MiB) */
  queueMaxBytes?: number | undefined;
  /** Hard per-kind limits (--bulkhead); undefined: a fair split that lends idle capacity. */
  bulkhead?: BulkheadLimits | undefined;
}

/** When the pool polls a submitted task and when it gives a task up. */
export interface PoolTiming {
  /** From acceptance to the `timeout` failure (--task-timeout). */
  taskTimeoutMs: number;
  /** The first poll after a submit, per kind (--first-poll). */
  firstPollMs: Record<TaskKind, number>;
  /** Between later polls (--poll-interval). */
  pollIntervalMs: number;
}

/** What the pool knows of the CaptchaAI account and asks of its owner. */
export interface PoolAccount {
  /** Below this balance a refusal reads as money running out, above it as saturation. @default 0 */
  minBalanceUsd?: number | undefined;
  /** Where the key came from (`--api-key-file /etc/key`), named when the upstream refuses it; never the key. */
  keyOrigin?: string | undefined;
  /**
   * Evidence that the upstream may be in trouble (a transport failure, a refusal for money or
   * threads): the owner re-reads the balance now, single flight, and the decision follows the answer.
   */
  onEvidence?: (() => void) | undefined;
}

/** One provider's lane (docs/providers.md): its client, its health, its slots and what it costs. */
export interface LaneOptions {
  name: string;
  upstream: SolverUpstream;
  health: HealthFeed;
  /** Tasks it holds at once: a plan's threads, or a per-solve account's cap. */
  threads: number;
  /** Hard per-kind limits within `threads`; undefined: the fair split. */
  bulkhead?: BulkheadLimits | undefined;
  /** A thread plan (its capacity refusals mean "wait for a thread") rather than a per-solve account. @default true */
  plan?: boolean;
  /** How long a task waits for the providers before this one before it takes the task. @default 0 */
  afterMs?: number;
  /** The types it takes (its types= and its protocol's), `proxied`: a task with a proxy of that type. @default every type */
  takes?: ((type: TaskType, proxied: boolean) => boolean) | undefined;
  /** USD per solve of a type. @default 0 (a thread plan) */
  priceUsd?: ((type: TaskType) => number) | undefined;
  /** Spend per UTC day past which it takes no new task. @default none */
  dailyBudgetUsd?: number | undefined;
  /** Below this balance a refusal reads as money running out, above it as saturation. @default 0 */
  minBalanceUsd?: number | undefined;
  /** Where its key came from, named when the upstream refuses it; never the key. */
  keyOrigin?: string | undefined;
  /** Evidence of trouble (a transport failure, a refusal for money or threads): re-read its balance now. */
  onEvidence?: (() => void) | undefined;
  /** Its log lines name it (there are several providers). */
  named?: boolean;
  /** Whether its answers report what a solve cost (anti-captcha's and 2captcha's JSON APIs). @default false */
  reportsCost?: boolean | undefined;
  /** Whether ERROR_CAPTCHA_UNSOLVABLE is billed too (anti-captcha's API charges it). @default false */
  chargesUnsolvable?: boolean | undefined;
  /** Whether its balance check finds it unreachable now: with other providers, it takes no new task meanwhile. */
  unreachable?: (() => boolean) | undefined;
}

/** What a reload may change of a lane: everything its providers file line says but its protocol, URL and key. */
export type LaneUpdate = Partial<Pick<LaneOptions, "threads" | "plan" | "afterMs" | "takes" | "priceUsd" | "dailyBudgetUsd" | "keyOrigin" | "chargesUnsolvable" | "reportsCost">>;

export interface PoolOptions {
  clock: Clock;
  /** The providers in order of preference; without: one lane of `upstream`, `health`, `limits` and `account`. */
  providers?: readonly LaneOptions[] | undefined;
  upstream?: SolverUpstream;
  health?: HealthFeed;
  log: Logger;
  /** A solve charged to a provider: today's total, for the journal (spend survives a restart). */
  onSpend?: ((provider: string, day: string, totalUsd: number) => void) | undefined;
  limits: PoolLimits;
  timing: PoolTiming;
  account?: PoolAccount;
  /** How long ended tasks are kept for their clients to read. @default the TaskStore's */
  retention?: TaskStoreOptions;
  /** Where each task's end is published, once (metrics, logs, callbacks, readiness). */
  taskEnds?: Pick<TaskEndHub, "publish"> | undefined;
  /** With --state-dir: where acceptance, submission and the end of each task are recorded. */
  journal?: TaskJournal | undefined;
  /** This node's number in task ids (--node-id, 0-1023). @default 0 */
  nodeId?: number | undefined;
  /** @default Math.random (jitter) */
  random?: (() => number) | undefined;
}

/**
 * running: takes, submits and polls tasks. draining: takes and submits none, in-flight tasks go on.
 * suspended: every timer stopped and every call cancelled, open tasks left as they are (a journal
 * keeps them). stopped: every task ended.
 */
export type PoolState = "running" | "draining" | "suspended" | "stopped";

/** Why a lane's submissions are paused: a plan's "no free thread" keeps the lane in line (tasks wait for it), anything else steps it aside. */
export type PauseReason = "capacity" | "trouble";

/** One provider as the pool sees it now. */
export interface ProviderState {
  name: string;
  /** Tasks holding its slots. */
  busy: number;
  /** Its slots now: a plan's adaptive limit (docs/providers.md, Thread plan) or a per-solve account's cap. */
  limit: number;
  /** A thread plan's threads; undefined for a per-solve account. */
  plan: number | undefined;
  circuit: CircuitState;
  /** Submits it refused for want of threads (a plan's "no free thread") since start. */
  capacityRefusals: number;
  /** The key refusal it answered, while it lasts. */
  refusedCode: string | undefined;
  /** Why its submissions are paused now, if they are. */
  paused: PauseReason | undefined;
  spentTodayUsd: number;
  /** Budget left today; undefined without a budget. */
  budgetLeftUsd: number | undefined;
  /** Its daily budget; undefined without one. */
  dailyBudgetUsd: number | undefined;
  /** What is left today pays for none of the types it takes: it takes no new task until the UTC day turns. */
  budgetSpent: boolean;
  /** Gone from the providers file: takes no new task. */
  removed: boolean;
  /** On trial after a fault (a submit that may have arrived unanswered: since `trialSince`; or its circuit half-open): one task at a time. */
  trial: boolean;
  trialSince: number | undefined;
}
