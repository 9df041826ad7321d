/** What the simulator's control API reads and changes: its faults, balance, unsolvable ratio, capacity and unsupported methods, and counts. */
import type { Fault, Selector } from "./faults.ts";
import type { IdleTimeout } from "./idle_connections.ts";
import type { CapacityCode, SimDialect } from "./sim_dialects.ts";

export { CAPACITY_CODES, type CapacityCode } from "./sim_dialects.ts";

/** Methods (or, on the JSON APIs, task types) answered as not served (2captcha answers ERROR_METHOD_CALL for a method it dropped). */
export interface Unsupported {
  methods: string[];
  code: string;
}

export interface SimCounts {
  /** Requests by endpoint selector (`in.php`, `res.php:get`, ...; `other` for anything else). */
  requests: Record<string, number>;
  /** Tasks accepted by in.php. */
  submitted: number;
  /** Requests that carried `key` in the URL's query string. */
  keyInQuery: number;
  /** Connections closed after the idle timeout (an unannounced one, see setIdleTimeout). */
  idleClosed: number;
  /** Requests that arrived on a connection idle past that timeout: closed or reset unanswered, never counted above. */
  staleDropped: number;
  /** Threads busy now, every key's: tasks accepted and not yet solved or failed. */
  busyThreads: number;
  /** Submits refused past the thread limit (with the capacity code). */
  capacityRefusals: number;
  /** Busy threads over time, every key's, since the start or the last reset: thread-seconds (divide by the seconds for the mean busy). */
  busyThreadSeconds: number;
  /** The most threads busy at once, every key's, since the start or the last reset. */
  peakBusyThreads: number;
  /** Requests answered IP_BANNED. */
  bannedRequests: number;
  /** Submits refused as an unsupported method (or type). */
  unsupportedRefusals: number;
  /** USD taken from the balance for tasks (each charged once, at its price), since the start or the last reset. */
  spentUsd: number;
  /** Tasks charged, by kind: solves delivered (and, where the service charges them, tasks answered unsolvable). */
  charged: { image: number; token: number };
}

export interface SimState {
  /** The kind of provider it is (docs/simulator.md). */
  dialect: SimDialect;
  /** Unsolved tasks per key before the capacity code; null: no cap. */
  threads: number | null;
  /** USD one solve of each kind costs. */
  pricesUsd: { image: number; token: number };
  faults: Partial<Record<Selector, Fault>>;
  balanceUsd: number;
  unsolvableRatio: number;
  tasks: number;
  /** The unannounced idle timeout in force; null: Node's own (5 s, announced). */
  idleTimeout: IdleTimeout | null;
  capacityCode: CapacityCode;
  unsupported: Unsupported;
  /** Addresses banned now (IP_BANNED), each with the ms its ban has left. */
  banned: Record<string, number>;
}

export interface SimControl {
  setFault(selector: Selector, fault: Fault): void;
  clearFaults(): void;
  setBalance(usd: number): void;
  setUnsolvableRatio(ratio: number): void;
  /** An idle timeout without a `Keep-Alive` hint, on the simulator's clock; undefined: Node's own again. */
  setIdleTimeout(mode: IdleTimeout | undefined): void;
  /** What in.php answers past the thread limit. */
  setCapacityCode(code: CapacityCode): void;
  /**
   * Methods (in.php `method`, or `grid`, `geetest_v4`; on the JSON APIs, task types or their in.php
   * method) answered `code` (default the dialect's: ERROR_METHOD_CALL in.php, ERROR_TASK_NOT_SUPPORTED
   * anti-captcha, ERROR_INVALID_TASK_DATA CapSolver); none: every method the dialect has served.
   */
  setUnsupported(methods: readonly string[], code?: string): void;
  /** Clears faults, counts (the spend among them) and bans (tasks, balance and the switches above stay). */
  reset(): void;
  state(): SimState;
}
