/**
 * Per-client metrics (the NAMEs of --client-keys-file), one family whichever API a client used:
 * the gateway's in.php/createTask and /v1/tasks with the client's key as its bearer token.
 * Label values are the configured names only, never keys.
 */
import { isWithdrawn, type Task } from "../tasks/task.ts";
import type { Counter, Registry } from "./registry.ts";

export interface ClientMetricsOptions {
  /** The configured client names (re-read with the keys file). */
  names: () => Iterable<string>;
  /** Open tasks of a client (the task store's count). */
  openOf: (client: string) => number;
}

export class ClientMetrics {
  readonly #accepted: Counter;
  readonly #refused: Counter;
  readonly #ended: Counter;

  constructor(registry: Registry, o: ClientMetricsOptions) {
    this.#accepted = registry.counter("captcha_worker_client_tasks_total", "Tasks accepted, by client (NAME in --client-keys-file), through the gateway or /v1/tasks.", ["client"]);
    this.#refused = registry.counter(
      "captcha_worker_client_refusals_total",
      "Submits refused, by client: not ready, draining, the queue full, the journal failing or the client's max_in_flight (gateway ERROR_NO_SLOT_AVAILABLE, /v1/tasks 429 or 503).",
      ["client"],
    );
    this.#ended = registry.counter("captcha_worker_client_task_outcomes_total", "Tasks of a client that ended, by client and status (solved, failed).", ["client", "status"]);
    registry.gauge("captcha_worker_client_in_flight", "Open tasks, by client.", ["client"], (set) => {
      for (const name of o.names()) set({ client: name }, o.openOf(name));
    });
  }

  accepted(client: string): void {
    this.#accepted.inc({ client });
  }

  refused(client: string): void {
    this.#refused.inc({ client });
  }

  /**
   * A task ended: counted for its client, if it has one; not one the journal could not record (the
   * client was answered a refusal, counted as such, and never had its id).
   */
  ended(task: Task): void {
    if (task.params.client === undefined || isWithdrawn(task)) return;
    this.#ended.inc({ client: task.params.client, status: task.status });
  }
}
