/**
 * What the solver needs of the upstream: four calls returning classified outcomes, never throwing.
 * Each takes the signal that cancels it: the pool aborts the calls it abandons (suspend, failAll).
 */
import type { TaskParams, TaskType } from "../tasks/task_catalogue.ts";
import type { Outcome } from "../upstream/outcome.ts";
import type { RawAnswer } from "../upstream/classify.ts";
import type { TaskProxy } from "../tasks/task_proxy.ts";

export type { RawAnswer };

export type { Outcome };

export interface SolverUpstream {
  submit(params: TaskParams, signal?: AbortSignal): Promise<Outcome<string>>;
  /** `proxy`: the task's; its password is redacted from whatever the answer echoes (a solution, a code, the user agent). */
  poll(upstreamId: string, signal?: AbortSignal, proxy?: TaskProxy): Promise<Outcome<RawAnswer>>;
  balance(signal?: AbortSignal): Promise<Outcome<number>>;
  /** `type`: the task's (a JSON API's report method may depend on it). */
  report(upstreamId: string, correct: boolean, signal?: AbortSignal, type?: TaskType): Promise<Outcome<string>>;
}
