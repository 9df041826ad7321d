/**
 * What both 2captcha-compatible APIs share: client authentication, submits through the one intake
 * (the same as /v1/tasks: admission, the client's limit, durable before the id is answered), reads
 * limited to the client's own tasks, reports, the cached balance, and the hand off to callbacks when
 * a task ends. A refusal is a GatewayError in 2captcha's terms, or an intake refusal the gateway's
 * error renderers read as ERROR_NO_SLOT_AVAILABLE.
 */
import type { Logger } from "../base/log.ts";
import type { SubmitTask } from "../intake/submit_task.ts";
import type { SolverPool } from "../solver/pool.ts";
import type { Task } from "../tasks/task.ts";
import type { TaskParams } from "../tasks/task_catalogue.ts";
import { isTaskId } from "../tasks/task_id.ts";
import type { ClientKey, ClientKeys } from "./client_keys.ts";
import { GatewayError } from "./errors.ts";

export interface GatewayOptions {
  pool: Pick<SolverPool, "report" | "find">;
  /** The one intake every API submits through. */
  submit: SubmitTask;
  keys: ClientKeys;
  /** The balance from the health check's cache (never a call per request); undefined before the first read. */
  balanceUsd: () => number | undefined;
  log: Logger;
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
  submit(client: ClientKey, params: TaskParams): Promise<Task> {
    return this.#o.submit({ kind: "client", name: client.name, maxInFlight: client.maxInFlight }, params);
  }

  /** The task `id` if `client` may read it (its own: a client sees no other client's task, nor the operator's); else undefined. */
  find(client: ClientKey, id: string): Task | undefined {
    const task = isTaskId(id) ? this.#o.pool.find(id) : undefined;
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
}
