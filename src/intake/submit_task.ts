/**
 * The one intake every API submits through (the task API, in.php and createTask): admission
 * (readiness, probation, draining), the client's own limit, acceptance into the pool (a full queue,
 * the journal that must hold the task before its id is answered) and the per-client counts, in
 * that order for all. A refusal is a WorkerError whose code is one of INTAKE_REFUSALS; each API
 * renders it in its own terms (503 or 429 with Retry-After; 2captcha's ERROR_NO_SLOT_AVAILABLE).
 * Before all of them, a type no provider in use takes (by its types= and dialect; with a proxy,
 * when the task has one), or one the upstream refused lately as unsupported, is refused
 * ERR_TYPE_UNSUPPORTED (422 naming `type`, with Retry-After only for the refusal that ends;
 * 2captcha's ERROR_METHOD_CALL, API v2's ERROR_TASK_NOT_SUPPORTED): not a want of capacity, so not
 * counted as the client's refusal.
 */
import { isWorkerError, WorkerError, type WorkerErrorCode } from "../base/errors.ts";
import type { UnsupportedTypes } from "../health/unsupported_types.ts";
import type { ClientMetrics } from "../metrics/client_metrics.ts";
import type { SolverPool } from "../solver/pool.ts";
import type { Task } from "../tasks/task.ts";
import type { TaskParams } from "../tasks/task_catalogue.ts";
import type { Refusal } from "./admission.ts";

/** Who is asking: the operator (the API token, or an open API), or one client of --client-keys-file. */
export type Caller = { kind: "operator" } | { kind: "client"; name: string; maxInFlight?: number | undefined };

export const OPERATOR: Caller = { kind: "operator" };

/** Every way the intake refuses a task for want of capacity: counted per client, whichever API it came by. */
export const INTAKE_REFUSALS = ["ERR_NOT_READY", "ERR_DRAINING", "ERR_QUEUE_FULL", "ERR_CLIENT_LIMIT", "ERR_STATE_DIR"] as const satisfies readonly WorkerErrorCode[];
export type IntakeRefusal = (typeof INTAKE_REFUSALS)[number];

export interface IntakeOptions {
  pool: Pick<SolverPool, "accept" | "atClientLimit" | "takes">;
  /** Checked on every submit (readiness, probation, draining). */
  admission: () => Refusal | undefined;
  /** Per-client counters (with --client-keys-file). */
  clientMetrics?: Pick<ClientMetrics, "accepted" | "refused"> | undefined;
  /** Types the upstream refused lately as unsupported: refused here for a while, then one probe at a time. */
  unsupported?: Pick<UnsupportedTypes, "refusal" | "probeNotTaken"> | undefined;
}

/** Submits a task for a caller: resolves with the task once it is taken (journaled with --state-dir), or throws ERR_TYPE_UNSUPPORTED or one of INTAKE_REFUSALS. */
export type SubmitTask = (caller: Caller, params: TaskParams) => Promise<Task>;

export function isIntakeRefusal(err: unknown): err is WorkerError & { code: IntakeRefusal } {
  return isWorkerError(err) && (INTAKE_REFUSALS as readonly string[]).includes(err.code);
}

export function createIntake(o: IntakeOptions): SubmitTask {
  return async (caller, params) => {
    // A client's task is its own: reads and the client's limit know it by this name.
    const owned = caller.kind === "client" ? { ...params, client: caller.name } : params;
    // No provider would ever take it (docs/providers.md): it would only wait out --task-timeout.
    const proxied = params.proxy !== undefined;
    if (!o.pool.takes(params.type, proxied)) {
      const message = `No provider in use takes ${params.type} tasks${proxied ? " with a proxy" : ""}.`;
      throw new WorkerError("ERR_TYPE_UNSUPPORTED", message, { field: "type", data: { type: params.type } });
    }
    const unsupported = o.unsupported?.refusal(params.type);
    if (typeof unsupported === "object") throw new WorkerError("ERR_TYPE_UNSUPPORTED", undefined, { field: "type", data: { type: params.type, ...unsupported } });
    try {
      const refusal = o.admission();
      if (refusal) throw new WorkerError(refusal.code, refusal.detail);
      // No await between this check and accept's synchronous admission: two requests at once cannot both pass.
      if (caller.kind === "client" && o.pool.atClientLimit(caller.name, caller.maxInFlight)) {
        throw new WorkerError("ERR_CLIENT_LIMIT", undefined, { data: { client: caller.name, limit: caller.maxInFlight ?? 0 } });
      }
      const task = await o.pool.accept(owned.type, owned);
      if (caller.kind === "client") o.clientMetrics?.accepted(caller.name);
      return task;
    } catch (err) {
      if (unsupported === "probe") o.unsupported?.probeNotTaken(params.type);
      if (caller.kind === "client" && isIntakeRefusal(err)) o.clientMetrics?.refused(caller.name);
      throw err;
    }
  };
}
