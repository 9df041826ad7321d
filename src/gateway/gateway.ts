/**
 * What both 2captcha-compatible APIs share (SPEC §11): client authentication, admission into the
 * same pool as /v1/tasks (durable before the id is answered), a per-client in-flight limit, reads
 * limited to the client's own tasks, reports, the cached balance, per-client metrics, and the hand
 * off to callbacks when a task ends. Every refusal is a GatewayError in 2captcha's terms.
 */
import { isWorkerError } from "../base/errors.ts";
import type { Logger } from "../base/log.ts";
import type { ClientMetrics } from "../metrics/client_metrics.ts";
import type { SolverPool } from "../solver/pool.ts";
import type { Task } from "../tasks/task.ts";
import type { TaskParams } from "../tasks/task_catalogue.ts";
import { isTaskId } from "../tasks/task_id.ts";
import type { ClientKey, ClientKeys } from "./client_keys.ts";
import { GatewayError } from "./errors.ts";

export interface GatewayOptions {
  pool: Pick<SolverPool, "accept" | "report" | "tasks">;
  /** The same check every /v1/tasks submit runs (readiness, probation, draining); a refusal is ERROR_NO_SLOT_AVAILABLE. */
  admission: () => { code: string } | undefined;
  keys: ClientKeys;
  /** The balance from the health check's cache (never a call per request); undefined before the first read. */
  balanceUsd: () => number | undefined;
  log: Logger;
  /** Per-client counters, shared with /v1/tasks. */
  clientMetrics?: ClientMetrics | undefined;
  /** Called with each gateway task that ended and asked for a callback. */
  onCallback?: (task: Task) => void;
}

export type ReportAnswer = "OK_REPORT_RECORDED" | "ERROR_DUPLICATE_REPORT" | "ERROR_WRONG_CAPTCHA_ID" | "ERROR_REPORT_NOT_RECORDED";

export class Gateway {
  readonly keys: ClientKeys;
  readonly #o: GatewayOptions;

  constructor(o: GatewayOptions) {
    this.#o = o;
    this.keys = o.keys;
  }

  /** The client holding `key`; ERROR_KEY_DOES_NOT_EXIST for a missing or unknown one. */
  authenticate(key: string | undefined): ClientKey {
    const client = this.keys.find(key);
    if (!client) throw new GatewayError("ERROR_KEY_DOES_NOT_EXIST");
    return client;
  }

  /**
   * Queues the task for `client` and resolves once the journal holds it (with --state-dir), so the
   * id it answers survives a crash. Not ready, draining, a full queue, the client's own limit or a
   * journal that cannot take it: ERROR_NO_SLOT_AVAILABLE, 2captcha's answer when it has no capacity.
   */
  async submit(client: ClientKey, params: TaskParams): Promise<Task> {
    if (this.#o.pool.tasks.atClientLimit(client.name, client.maxInFlight) || this.#o.admission()) return this.#refuse(client);
    let task: Task;
    try {
      task = await this.#o.pool.accept(params.type, { ...params, client: client.name });
    } catch (err) {
      if (isWorkerError(err, "ERR_QUEUE_FULL") || isWorkerError(err, "ERR_DRAINING") || isWorkerError(err, "ERR_STATE_DIR")) return this.#refuse(client);
      throw err;
    }
    this.#o.clientMetrics?.accepted(client.name);
    return task;
  }

  /** The task `id` if `client` may read it (its own: a client sees no other client's task, nor the operator's); else undefined. */
  find(client: ClientKey, id: string): Task | undefined {
    const task = isTaskId(id) ? this.#o.pool.tasks.get(id) : undefined;
    if (!task) return undefined;
    const owner = task.params.client;
    return owner === client.name ? task : undefined;
  }

  /** reportgood / reportbad, forwarded upstream once per task (the pool answers a second one ERROR_DUPLICATE_REPORT). */
  async report(client: ClientKey, id: string, correct: boolean): Promise<ReportAnswer> {
    const task = this.find(client, id);
    if (!task || task.status !== "solved" || task.upstreamId === undefined) return "ERROR_WRONG_CAPTCHA_ID";
    try {
      const outcome = await this.#o.pool.report(task, correct);
      if (outcome.kind === "ok") return "OK_REPORT_RECORDED";
      return "code" in outcome && outcome.code === "ERROR_DUPLICATE_REPORT" ? "ERROR_DUPLICATE_REPORT" : "ERROR_REPORT_NOT_RECORDED";
    } catch {
      return "ERROR_REPORT_NOT_RECORDED";
    }
  }

  /** The upstream balance as last read by the health check (0 before the first read). */
  balance(): number {
    return this.#o.balanceUsd() ?? 0;
  }

  /** The pool's end-of-task hook: hands a callback on (the task store frees the client's slot; ClientMetrics counts the outcome). */
  taskEnded(task: Task): void {
    const name = task.params.client;
    if (name === undefined) return;
    if (task.params.callback) this.#o.onCallback?.(task);
  }

  #refuse(client: ClientKey): never {
    this.#o.clientMetrics?.refused(client.name);
    throw new GatewayError("ERROR_NO_SLOT_AVAILABLE");
  }
}
