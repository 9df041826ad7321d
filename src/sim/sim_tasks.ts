/** The simulator's accounts and tasks: balance, per-key thread limit, solve times, answers; bounded memory. */
import type { Clock } from "../base/clock.ts";
import { drawAnswer, type AnswerShape, type SimAnswer } from "./sim_answers.ts";
import type { Random } from "./prng.ts";

export interface SimTask {
  id: string;
  key: string;
  kind: "image" | "token";
  readyAt: number;
  unsolvable: boolean;
  answer: SimAnswer;
  /** Answered beside the solution as a top-level `user_agent` (json=1). */
  userAgent: string | undefined;
  delivered: boolean;
  reported: boolean;
}

const MAX_TASKS = 100_000;

export class SimTasks {
  readonly #tasks = new Map<string, SimTask>();
  /** Per key and kind, ready times of unsolved tasks in order (solve times are constant per kind). */
  readonly #pending = new Map<string, { image: number[]; token: number[] }>();
  #nextId: number;
  balanceUsd: number;
  unsolvableRatio = 0;
  /** Answer length in characters of text answers (memory benchmarks); undefined: 6 for images, 408 for tokens. */
  answerLength: number | undefined;
  /** Thread time since the last resetUsage: the solve time of every task created, less what is still ahead (see usage). */
  #usageMs = 0;
  #peakBusy = 0;

  constructor(
    private readonly clock: Clock,
    private readonly random: Random,
    balanceUsd: number,
    private readonly solveTimeMs: { image: number; token: number },
    readonly pricePerSolveUsd: number,
    readonly threads: number,
  ) {
    this.balanceUsd = balanceUsd;
    this.#nextId = 70_000_000_000 + Math.floor(random() * 1_000_000_000);
  }

  get size(): number {
    return this.#tasks.size;
  }

  /** Tasks of every key not yet solved: threads busy now. */
  busyTotal(): number {
    let n = 0;
    for (const key of this.#pending.keys()) n += this.busy(key);
    return n;
  }

  /** Tasks of `key` not yet solved: what the thread limit counts (a thread is busy from the accepted submit until the task is solved or fails). */
  busy(key: string): number {
    const p = this.#pending.get(key);
    if (!p) return 0;
    const now = this.clock.now();
    for (const list of [p.image, p.token]) {
      let solved = 0;
      while (solved < list.length && list[solved]! <= now) solved++;
      if (solved > 0) list.splice(0, solved);
    }
    return p.image.length + p.token.length;
  }

  /** Busy threads over time since the last resetUsage, every key's: thread-seconds (the plan used) and the most busy at once. */
  usage(): { busyThreadSeconds: number; peakBusyThreads: number } {
    return { busyThreadSeconds: Math.round(this.#usageMs - this.#ahead()) / 1000, peakBusyThreads: this.#peakBusy };
  }

  /** Counts usage from now on. */
  resetUsage(): void {
    this.#usageMs = this.#ahead();
    this.#peakBusy = this.busyTotal();
  }

  /** Thread-milliseconds still ahead of the tasks not yet solved. */
  #ahead(): number {
    const now = this.clock.now();
    let ms = 0;
    for (const p of this.#pending.values()) for (const list of [p.image, p.token]) for (const at of list) ms += Math.max(0, at - now);
    return ms;
  }

  /** A task of `kind` whose answer has `shape` (default: text for an image, a reCAPTCHA token for a token). */
  create(key: string, kind: "image" | "token", shape?: AnswerShape, userAgent?: string): SimTask {
    const now = this.clock.now();
    const unsolvable = this.random() < this.unsolvableRatio;
    const task: SimTask = {
      id: String(this.#nextId++),
      key,
      kind,
      readyAt: now + this.solveTimeMs[kind],
      unsolvable,
      answer: drawAnswer(this.random, shape ?? (kind === "image" ? { kind: "text" } : { kind: "token", prefix: "03AFcWeA" }), now, this.answerLength),
      userAgent,
      delivered: false,
      reported: false,
    };
    this.#tasks.set(task.id, task);
    let p = this.#pending.get(key);
    if (!p) this.#pending.set(key, (p = { image: [], token: [] }));
    p[kind].push(task.readyAt);
    this.#usageMs += this.solveTimeMs[kind];
    this.#peakBusy = Math.max(this.#peakBusy, this.busyTotal());
    if (this.#tasks.size > MAX_TASKS) this.#tasks.delete(this.#tasks.keys().next().value!);
    return task;
  }

  get(id: string, key: string): SimTask | undefined {
    const t = this.#tasks.get(id);
    return t && t.key === key ? t : undefined;
  }

  /** Marks a solved task delivered, charging its price once. */
  deliver(task: SimTask): void {
    if (task.delivered) return;
    task.delivered = true;
    this.balanceUsd = Math.max(0, Math.round((this.balanceUsd - this.pricePerSolveUsd) * 1e6) / 1e6);
  }
}
