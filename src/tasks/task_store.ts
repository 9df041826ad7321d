/**
 * Every task by id, with waiters for their ends. Finished tasks are kept for a bounded time and
 * count (oldest evicted first), so memory does not grow with the number of tasks ever accepted.
 */
import type { Clock } from "../base/clock.ts";
import { isEnded, type Task } from "./task.ts";

export interface TaskStoreOptions {
  /** @default 10_000 */
  maxFinished?: number;
  /** @default 3_600_000 (1h) */
  finishedTtlMs?: number;
}

export class TaskStore {
  readonly #clock: Clock;
  readonly #maxFinished: number;
  readonly #ttlMs: number;
  readonly #tasks = new Map<string, Task>();
  /** Finished task ids in the order they ended (Map keeps insertion order). */
  readonly #finished = new Map<string, number>();
  readonly #waiters = new Map<string, Set<() => void>>();
  #released = false;

  constructor(clock: Clock, options: TaskStoreOptions = {}) {
    this.#clock = clock;
    this.#maxFinished = options.maxFinished ?? 10_000;
    this.#ttlMs = options.finishedTtlMs ?? 3_600_000;
  }

  /** Tasks not yet ended. */
  get openCount(): number {
    return this.#tasks.size - this.#finished.size;
  }

  get finishedCount(): number {
    return this.#finished.size;
  }

  add(task: Task): void {
    this.#tasks.set(task.id, task);
    this.#evict();
  }

  get(id: string): Task | undefined {
    this.#evict();
    return this.#tasks.get(id);
  }

  /** Every task not yet ended. */
  *open(): IterableIterator<Task> {
    for (const t of this.#tasks.values()) if (!isEnded(t)) yield t;
  }

  /** Records that `task` ended and wakes its waiters. */
  ended(task: Task): void {
    this.#finished.set(task.id, this.#clock.now());
    const waiters = this.#waiters.get(task.id);
    this.#waiters.delete(task.id);
    if (waiters) for (const w of waiters) w();
    this.#evict();
  }

  /**
   * Resolves when the task ends, `timeoutMs` passes or `signal` aborts (a client gone away): only the
   * waiter is dropped then, never the task.
   */
  wait(id: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    const task = this.#tasks.get(id);
    if (!task || isEnded(task) || timeoutMs <= 0 || signal?.aborted || this.#released) return Promise.resolve();
    return new Promise((resolve) => {
      let set = this.#waiters.get(id);
      if (!set) this.#waiters.set(id, (set = new Set()));
      const done = () => {
        timer.cancel();
        signal?.removeEventListener("abort", done);
        const s = this.#waiters.get(id);
        s?.delete(done);
        if (s?.size === 0) this.#waiters.delete(id);
        resolve();
      };
      const timer = this.#clock.setTimeout(done, timeoutMs);
      signal?.addEventListener("abort", done, { once: true });
      set.add(done);
    });
  }

  /**
   * The shutdown deadline: wakes every waiter now (each client gets the task as it stands) and lets
   * no new wait begin. Returns how many were woken.
   */
  releaseWaiters(): number {
    this.#released = true;
    const all = [...this.#waiters.values()].flatMap((s) => [...s]);
    for (const w of all) w();
    return all.length;
  }

  /** Whether releaseWaiters was called: waits answer at once, open tasks will not progress in this process. */
  get released(): boolean {
    return this.#released;
  }

  /** Waiters currently held (for leak tests). */
  get waiterCount(): number {
    let n = 0;
    for (const s of this.#waiters.values()) n += s.size;
    return n;
  }

  #evict(): void {
    const oldest = this.#clock.now() - this.#ttlMs;
    for (const [id, endedAt] of this.#finished) {
      if (this.#finished.size <= this.#maxFinished && endedAt > oldest) break;
      this.#finished.delete(id);
      this.#tasks.delete(id);
    }
  }
}
