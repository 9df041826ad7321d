/**
 * Task admission: whether the worker takes a new task now (docs/task-api.md: backpressure). Not
 * ready or draining: 503. On probation: the first `probationAdmits` tasks (--threads) since it began
 * are taken, the rest 503 until an outcome decides. A full queue is the pool's 429, not a refusal here.
 */
import { formatErrorMessage } from "../base/errors.ts";
import type { Readiness } from "../health/health_view.ts";
import type { Phase } from "../health/readiness.ts";
import { formatIssue } from "../health/readiness_issue.ts";

/** Why the worker takes no task now (503 with Retry-After); the detail says which issues hold. */
export interface Refusal {
  code: "ERR_NOT_READY" | "ERR_DRAINING";
  detail: string;
}

/** What admission reads of the health view. */
export interface AdmissionView {
  readonly phase: Phase;
  evaluate(): Pick<Readiness, "ready" | "issues" | "state" | "probationSince">;
}

export interface AdmissionOptions {
  /** Tasks taken per probation (--threads: one round of the worker's slots). */
  probationAdmits: number;
}

/** Returns the check every submit runs: undefined to take the task, else why not (503 with Retry-After). */
export function createAdmission(view: AdmissionView, o: AdmissionOptions): () => Refusal | undefined {
  let probation = { since: Number.NaN, admitted: 0 };
  return () => {
    if (view.phase === "draining") return { code: "ERR_DRAINING", detail: formatErrorMessage("ERR_DRAINING") };
    const r = view.evaluate();
    if (r.state === "probation") {
      const since = r.probationSince ?? -1;
      if (probation.since !== since) probation = { since, admitted: 0 };
      if (probation.admitted >= o.probationAdmits) {
        return { code: "ERR_NOT_READY", detail: `On probation: ${o.probationAdmits} tasks are out to tell whether the fault cleared.` };
      }
      probation.admitted++;
      return undefined;
    }
    if (r.ready) return undefined;
    // A full queue is answered by the pool with 429, not as unreadiness.
    const blocking = r.issues.filter((i) => i.kind !== "queue_full");
    return blocking.length === 0 ? undefined : { code: "ERR_NOT_READY", detail: `Not ready: ${blocking.map(formatIssue).join(", ")}.` };
  };
}
