/**
 * Where "a task ended" goes: the pool publishes each end once, and every part that cares (metrics,
 * per-client counters, the status page's history, callbacks, the demo's log line, readiness)
 * subscribes where it is made. Trade-off: subscribers run synchronously, in the order they
 * subscribed; one that throws is logged and skipped, so it cannot keep the others (or the pool) from
 * seeing the end.
 */
import type { Logger } from "../base/log.ts";
import type { Task } from "./task.ts";

export type TaskEndListener = (task: Task) => void;

export class TaskEndHub {
  readonly #log: Logger;
  readonly #listeners = new Set<TaskEndListener>();

  /** `log`: where a subscriber's error goes. */
  constructor(log: Logger) {
    this.#log = log;
  }

  /** Calls `listener` with every task that ends from now on; returns what unsubscribes it. */
  subscribe(listener: TaskEndListener): () => void {
    // A wrapper per subscription: the same function subscribed twice is called twice and unsubscribed once each.
    const entry: TaskEndListener = (task) => listener(task);
    this.#listeners.add(entry);
    return () => void this.#listeners.delete(entry);
  }

  /** `task` ended: every subscriber hears it, whatever another one throws. */
  publish(task: Task): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener(task);
      } catch (err) {
        this.#log.error("a task-end subscriber failed", { id: task.id, err });
      }
    }
  }

  /** Subscribers now (for tests). */
  get size(): number {
    return this.#listeners.size;
  }
}
