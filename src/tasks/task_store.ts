/**
 * Every task by id, with waiters for their ends. Finished tasks are kept for a bounded time, count
 * and size in bytes (oldest ended evicted first), so memory does not grow with the number of tasks
 * ever accepted nor with the size of their results; the payload bytes of open tasks are counted for
 * the queue's byte budget.
 */
import type { Clock } from "../base/clock.ts";
import { isEnded, type Task } from "./task.ts";

export interface TaskStoreOptions {
  /** @default 10_000 */
  maxFinished?: number;
  /** @default 3_600_000 (1h) */
  finishedTtlMs?: number;
  /** Bytes finished tasks may hold together (parameters, solution, error). @default 32 MiB */
  maxFinishedBytes?: number;
}

/** How many ended tasks are kept, for how long and in how many bytes (the journal keeps the same ones across a restart). */
export const DEFAULT_MAX_FINISHED = 10_000;
export const DEFAULT_FINISHED_TTL_MS = 3_600_000;
export const DEFAULT_MAX_FINISHED_BYTES = 32 * 1024 * 1024;

/**
 * What a task's parameters cost in memory, near enough and without copying them: the length of
 * their strings (base64 images are one byte a character) plus a little for each field.
 */
export function payloadBytes(task: Pick<Task, "params">): number {
  let n = 0;
  for (const v of Object.values(task.params)) n += 16 + (typeof v === "string" ? v.length : 8);
  return n;
}

/** What an ended task holds beyond its parameters: its solution or error. */
function resultBytes(task: Task): number {
  const solution = task.solution === undefined ? 0 : typeof task.solution === "string" ? task.solution.length : JSON.stringify(task.solution).length;
  return solution + (task.useragent?.length ?? 0) + (task.error ? task.error.code.length + task.error.message.length : 0);
}

export class TaskStore {
  readonly #clock: Clock;
  readonly #maxFinished: number;
  readonly #ttlMs: number;
  readonly #maxFinishedBytes: number;
  /** Per task: its payload bytes (open) or everything it holds (finished). */
  readonly #bytes = new Map<string, number>();
  #openBytes = 0;
  #finishedBytes = 0;
  /** Open tasks per client (`params.client`), whichever API took them: the clients' max_in_flight. */
  readonly #openByClient = new Map<string, number>();
  readonly #tasks = new Map<string, Task>();
  /** Finished task ids in the order they ended (Map keeps insertion order). */
  readonly #finished = new Map<string, number>();
  readonly #waiters = new Map<string, Set<() => void>>();
  #released = false;

  constructor(clock: Clock, options: TaskStoreOptions = {}) {
    this.#clock = clock;
    this.#maxFinished = options.maxFinished ?? DEFAULT_MAX_FINISHED;
    this.#ttlMs = options.finishedTtlMs ?? DEFAULT_FINISHED_TTL_MS;
    this.#maxFinishedBytes = options.maxFinishedBytes ?? DEFAULT_MAX_FINISHED_BYTES;
  }

  /** Payload bytes of the tasks not yet ended (the queue's byte budget counts these). */
  get openBytes(): number {
    return this.#openBytes;
  }

  /** Bytes the finished tasks kept for their clients hold. */
  get finishedBytes(): number {
    return this.#finishedBytes;
  }

  /** Tasks not yet ended. */
  get openCount(): number {
    return this.#tasks.size - this.#finished.size;
  }

  get finishedCount(): number {
    return this.#finished.size;
  }

  /** Tasks of `client` not yet ended (taken by the gateway or the task API alike). */
  openOf(client: string): number {
    return this.#openByClient.get(client) ?? 0;
  }

  /** True when `client` holds `maxInFlight` open tasks already (no limit: never); both APIs ask this before accepting. */
  atClientLimit(client: string, maxInFlight: number | undefined): boolean {
    return maxInFlight !== undefined && this.openOf(client) >= maxInFlight;
  }

  /** Adds a task; `bytes`: its payload size when the caller has computed it already. */
  add(task: Task, bytes = payloadBytes(task)): void {
    this.#tasks.set(task.id, task);
    this.#bytes.set(task.id, bytes);
    this.#openBytes += bytes;
    const client = task.params.client;
    if (client !== undefined) this.#openByClient.set(client, this.openOf(client) + 1);
    // An ended task (restored from a journal) is kept like one that ended here.
    if (isEnded(task)) this.#markEnded(task, task.endedAt ?? this.#clock.now());
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

  /** Records that `task` ended (`endedAt`: when, for one restored from the journal) and wakes its waiters. */
  ended(task: Task, endedAt = this.#clock.now()): void {
    this.#markEnded(task, endedAt);
    const waiters = this.#waiters.get(task.id);
    this.#waiters.delete(task.id);
    if (waiters) for (const w of waiters) w();
    this.#evict();
  }

  /** Moves a task's bytes from open to finished (once) and starts its retention. */
  #markEnded(task: Task, endedAt: number): void {
    if (this.#finished.has(task.id) || !this.#tasks.has(task.id)) return;
    const payload = this.#bytes.get(task.id) ?? 0;
    // What it holds now: the pool empties an ended task's image before this.
    const held = payloadBytes(task) + resultBytes(task);
    this.#openBytes -= payload;
    const client = task.params.client;
    if (client !== undefined) {
      const open = this.openOf(client) - 1;
      if (open > 0) this.#openByClient.set(client, open);
      else this.#openByClient.delete(client);
    }
    this.#finishedBytes += held;
    this.#bytes.set(task.id, held);
    this.#finished.set(task.id, endedAt);
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
      if (this.#finished.size <= this.#maxFinished && this.#finishedBytes <= this.#maxFinishedBytes && endedAt > oldest) break;
      this.#finished.delete(id);
      this.#tasks.delete(id);
      this.#finishedBytes -= this.#bytes.get(id) ?? 0;
      this.#bytes.delete(id);
    }
  }
}
