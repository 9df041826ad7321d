/** What the simulator's control API reads and changes: its faults, balance, unsolvable ratio and counts. */
import type { Fault, Selector } from "./faults.ts";

export interface SimCounts {
  /** Requests by endpoint selector (`in.php`, `res.php:get`, ...; `other` for anything else). */
  requests: Record<string, number>;
  /** Tasks accepted by in.php. */
  submitted: number;
  /** Requests that carried `key` in the URL's query string. */
  keyInQuery: number;
}

export interface SimState {
  faults: Partial<Record<Selector, Fault>>;
  balanceUsd: number;
  unsolvableRatio: number;
  tasks: number;
}

export interface SimControl {
  setFault(selector: Selector, fault: Fault): void;
  clearFaults(): void;
  setBalance(usd: number): void;
  setUnsolvableRatio(ratio: number): void;
  /** Clears faults and counts (tasks and balance stay). */
  reset(): void;
  state(): SimState;
}
