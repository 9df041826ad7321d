/** A classified upstream answer: what the solver acts on, with the upstream's code kept. */
import type { FailureBlame } from "../tasks/task.ts";
import type { OutcomeKind } from "./endpoints.ts";
import type { TransportCause } from "./transport_cause.ts";

export type { OutcomeKind };

/** Who a failure is charged to: only "worker" failures (upstream trouble, timeouts) move health. The task's own type, so the two cannot drift. */
export type Blame = FailureBlame;

export type Outcome<T> =
  | { kind: "ok"; value: T }
  | { kind: "not_ready" }
  | { kind: "fatal_account"; code: string; message: string }
  | { kind: "back_off"; code: string; message: string }
  /**
   * `maybeDelivered`: the request may have reached the upstream (a submit must then not be repeated).
   * `cause`: why no answer came, for a call that got none (DNS, refused, reset, TLS, a timeout).
   */
  | { kind: "transient"; code: string; message: string; maybeDelivered: boolean; cause?: TransportCause }
  /** `blame` "nobody": the upstream does not take the task's type (an `unsupported` code); neither health nor the client is charged. */
  | { kind: "task_failed"; code: string; message: string; blame: Blame | "nobody" };

/** Any failure outcome. */
export type Failure = Exclude<Outcome<never>, { kind: "ok" }>;
