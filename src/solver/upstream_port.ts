/** What the solver needs of the upstream: four calls returning classified outcomes, never throwing. */
import type { Blame } from "../health/worker_health.ts";

export type Outcome<T> =
  | { kind: "ok"; value: T }
  | { kind: "not_ready" }
  | { kind: "fatal_account"; code: string; message: string }
  | { kind: "back_off"; code: string; message: string }
  /** `maybeDelivered`: the request may have reached the upstream (a submit must then not be repeated). */
  | { kind: "transient"; code: string; message: string; maybeDelivered: boolean }
  | { kind: "task_failed"; code: string; message: string; blame: Blame };

export interface SolverUpstream<P> {
  submit(params: P): Promise<Outcome<string>>;
  poll(upstreamId: string): Promise<Outcome<string>>;
  balance(): Promise<Outcome<number>>;
  report(upstreamId: string, correct: boolean): Promise<Outcome<void>>;
}
