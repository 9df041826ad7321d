/** Fakes of the pool's own ports for unit tests: an upstream whose calls the test answers, and a health feed that records. */
import type { CircuitState } from "../../../src/base/circuit_breaker.ts";
import type { HealthFeed } from "../../../src/health/worker_health.ts";
import type { Outcome, RawAnswer, SolverUpstream } from "../../../src/solver/upstream_port.ts";
import type { TaskParams } from "../../../src/tasks/task_catalogue.ts";
import type { TaskProxy } from "../../../src/tasks/task_proxy.ts";

export type Method = "submit" | "poll" | "balance" | "report";

export interface Call {
  method: Method;
  /** The params of a submit, the upstream id of a poll or report. */
  arg: TaskParams | string | undefined;
  signal: AbortSignal | undefined;
  /** The task's proxy a poll was given (for the client to redact its password from the answer). */
  proxy?: TaskProxy | undefined;
  answered: boolean;
  answer(outcome: Outcome<unknown>): void;
}

/** Every call waits until the test answers it; none ever reaches a network. */
export class FakeUpstream implements SolverUpstream {
  readonly calls: Call[] = [];

  submit(params: TaskParams, signal?: AbortSignal): Promise<Outcome<string>> {
    return this.#call("submit", params, signal);
  }
  /** A test answers a poll with the solution's text, as the upstream's `request`. */
  async poll(upstreamId: string, signal?: AbortSignal, proxy?: TaskProxy): Promise<Outcome<RawAnswer>> {
    const o = await this.#call<unknown>("poll", upstreamId, signal, proxy);
    return o.kind === "ok" && typeof o.value === "string" ? { kind: "ok", value: { request: o.value, fields: {} } } : (o as Outcome<RawAnswer>);
  }
  balance(signal?: AbortSignal): Promise<Outcome<number>> {
    return this.#call("balance", undefined, signal);
  }
  report(upstreamId: string, _correct: boolean, signal?: AbortSignal): Promise<Outcome<string>> {
    return this.#call("report", upstreamId, signal);
  }

  /** Calls of `method` not answered yet, oldest first. */
  pending(method: Method): Call[] {
    return this.calls.filter((c) => c.method === method && !c.answered);
  }

  count(method: Method): number {
    return this.calls.filter((c) => c.method === method).length;
  }

  /** Answers the oldest pending call of `method`; throws when there is none. */
  answer(method: Method, outcome: Outcome<unknown>): Call {
    const call = this.pending(method)[0];
    if (!call) throw new Error(`no pending ${method} call`);
    call.answer(outcome);
    return call;
  }

  #call<T>(method: Method, arg: Call["arg"], signal: AbortSignal | undefined, proxy?: TaskProxy): Promise<Outcome<T>> {
    return new Promise((resolve) => {
      const call: Call = {
        method,
        arg,
        signal,
        proxy,
        answered: false,
        answer: (outcome) => {
          if (call.answered) return;
          call.answered = true;
          resolve(outcome as Outcome<T>);
        },
      };
      // As the real client does: an abort ends the call at once.
      signal?.addEventListener("abort", () => call.answer({ kind: "transient", code: "ABORTED", message: "cancelled", maybeDelivered: true }), { once: true });
      this.calls.push(call);
    });
  }
}

/** A HealthFeed that keeps what it was told. */
export class RecordingHealth implements HealthFeed {
  readonly solvedTypes: string[] = [];
  readonly failures: Array<[string, string]> = [];
  auth: string | undefined;
  circuitState: CircuitState = "closed";
  readonly balanceChecks: boolean[] = [];
  /** Each change of "the plan is full while work waits", in order. */
  readonly full: boolean[] = [];
  resumes = 0;
  funded = true;

  solved(type: string): void {
    this.solvedTypes.push(type);
  }
  failed(_type: string, code: string, blame: string): void {
    this.failures.push([code, blame]);
  }
  upstreamAuth(code: string | undefined): void {
    this.auth = code;
  }
  circuit(state: CircuitState): void {
    this.circuitState = state;
  }
  balanceChecked(reachable: boolean): void {
    this.balanceChecks.push(reachable);
  }
  balanceFunded(funded: boolean): void {
    this.funded = funded;
  }
  resumed(): void {
    this.resumes++;
  }
  planFull(full: boolean): void {
    this.full.push(full);
  }
}
