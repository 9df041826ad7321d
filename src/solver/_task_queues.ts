/**
 * The pool's queued tasks: one FIFO per routing class (tasks.ts routingClass: the type, with or
 * without a proxy), since whether a provider takes a task now depends only on its class and how long
 * it has waited (docs/providers.md). Tasks of one kind keep one order across their classes (each
 * entry's sequence number; one put back after a refusal goes before all), so the dispatcher finds
 * the oldest task of a class no provider has turned down yet by looking at each class's head: a
 * pump costs the number of classes (two per task type at most), not the queue's length, so tasks
 * no provider can take now never hide one behind them, however many (docs/providers.md, Routing).
 * An entry of a task that left the queue otherwise (ended, failed) goes lazily, when it comes to
 * its FIFO's head.
 */
import { Deque } from "../base/deque.ts";
import { classKey, routingClass, type Task } from "../tasks/task.ts";
import type { TaskKind, TaskType } from "../tasks/task_catalogue.ts";

interface Entry {
  task: Task;
  seq: number;
}

export class TaskQueues {
  /** Per kind, each routing class's FIFO. */
  readonly #fifos: Record<TaskKind, Map<string, Deque<Entry>>> = { image: new Map(), token: new Map() };
  /** Live queued tasks and the sequence number of their live entry. */
  readonly #live = new Map<Task, number>();
  readonly #ofKind: Record<TaskKind, number> = { image: 0, token: 0 };
  readonly #ofClass = new Map<string, number>();
  /** Next sequence numbers: at the back (growing) and at the front (shrinking, before every other). */
  #back = 0;
  #front = 0;

  /** Live queued tasks. */
  get size(): number {
    return this.#live.size;
  }

  has(task: Task): boolean {
    return this.#live.has(task);
  }

  ofKind(kind: TaskKind): number {
    return this.#ofKind[kind];
  }

  ofClass(key: string): number {
    return this.#ofClass.get(key) ?? 0;
  }

  /** Queues `task` at the back of its kind's order, or before every other (`front`: put back after a refusal). */
  add(task: Task, front = false): void {
    if (this.#live.has(task)) return;
    const seq = front ? --this.#front : ++this.#back;
    this.#live.set(task, seq);
    this.#count(task, 1);
    const key = routingClass(task);
    let fifo = this.#fifos[task.kind].get(key);
    if (!fifo) this.#fifos[task.kind].set(key, (fifo = new Deque()));
    fifo[front ? "unshift" : "push"]({ task, seq });
  }

  /** Takes `task` out (its entry goes lazily, or now when it heads its FIFO); false when it was not queued. */
  remove(task: Task): boolean {
    if (!this.#live.delete(task)) return false;
    this.#count(task, -1);
    this.#headOf(task.kind, routingClass(task));
    return true;
  }

  /** The first task of `kind` in order, whatever its class. */
  head(kind: TaskKind): Task | undefined {
    return this.oldest(kind, () => false, Number.NEGATIVE_INFINITY);
  }

  /**
   * The first task of `kind` in order whose class `skip` does not name and whose deadline is after
   * `now` (one whose deadline has come is failing): a look at each class's head.
   */
  oldest(kind: TaskKind, skip: (key: string) => boolean, now: number): Task | undefined {
    let best: Entry | undefined;
    for (const key of this.#fifos[kind].keys()) {
      if (skip(key)) continue;
      const entry = this.#firstDue(kind, key, now);
      if (entry && (!best || entry.seq < best.seq)) best = entry;
    }
    return best?.task;
  }

  /** The live queued tasks of `type`, in order (a copy: the caller may take them out). */
  ofType(type: TaskType, kind: TaskKind): Task[] {
    const out: Entry[] = [];
    for (const [key, fifo] of this.#fifos[kind]) {
      if (key !== classKey(type, false) && key !== classKey(type, true)) continue;
      for (const e of fifo) if (this.#isLive(e)) out.push(e);
    }
    return out.sort((a, b) => a.seq - b.seq).map((e) => e.task);
  }

  /** The first live entry of a class's FIFO with its deadline after `now`, dropping dead entries at its head. */
  #firstDue(kind: TaskKind, key: string, now: number): Entry | undefined {
    const fifo = this.#headOf(kind, key);
    if (!fifo) return undefined;
    for (const e of fifo) if (this.#isLive(e) && e.task.deadlineAt > now) return e;
    return undefined;
  }

  /** A class's FIFO with its dead head entries dropped (the FIFO itself once empty). */
  #headOf(kind: TaskKind, key: string): Deque<Entry> | undefined {
    const fifo = this.#fifos[kind].get(key);
    if (!fifo) return undefined;
    while (fifo.length > 0 && !this.#isLive(fifo.peek()!)) fifo.shift();
    if (fifo.length > 0) return fifo;
    this.#fifos[kind].delete(key);
    return undefined;
  }

  /** An entry is live while its task is queued under that entry (a task queued again has a new one). */
  #isLive(e: Entry): boolean {
    return this.#live.get(e.task) === e.seq && e.task.status === "queued";
  }

  #count(task: Task, by: 1 | -1): void {
    this.#ofKind[task.kind] += by;
    const key = routingClass(task);
    const n = this.ofClass(key) + by;
    if (n === 0) this.#ofClass.delete(key);
    else this.#ofClass.set(key, n);
  }
}
