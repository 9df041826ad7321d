/** What the simulator's control API reads and changes: its faults, balance, unsolvable ratio and counts. */
import type { Fault, Selector } from "./faults.ts";
import type { IdleTimeout } from "./idle_connections.ts";

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
}

export interface SimState {
  faults: Partial<Record<Selector, Fault>>;
  balanceUsd: number;
  unsolvableRatio: number;
  tasks: number;
  /** The unannounced idle timeout in force; null: Node's own (5 s, announced). */
  idleTimeout: IdleTimeout | null;
}

export interface SimControl {
  setFault(selector: Selector, fault: Fault): void;
  clearFaults(): void;
  setBalance(usd: number): void;
  setUnsolvableRatio(ratio: number): void;
  /** An idle timeout without a `Keep-Alive` hint, on the simulator's clock; undefined: Node's own again. */
  setIdleTimeout(mode: IdleTimeout | undefined): void;
  /** Clears faults and counts (tasks and balance stay). */
  reset(): void;
  state(): SimState;
}
