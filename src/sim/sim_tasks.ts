/**
 * The simulator's accounts and tasks: balance, per-key thread limit, solve times, answers, and what
 * was charged for them (a price per kind, once per task); bounded memory.
 */
import type { Clock } from "../base/clock.ts";
import { drawAnswer, type AnswerShape, type SimAnswer } from "./sim_answers.ts";
import { randomString, type Random } from "./prng.ts";

export interface SimTask {
  id: string;
  key: string;
  kind: "image" | "token";
  /** The catalogue's task type, where the protocol names it (the JSON APIs). */
  type?: string;
  createdAt: number;
  readyAt: number;
  unsolvable: boolean;
  answer: SimAnswer;
  /** Answered beside the solution as a top-level `user_agent` (json=1). */
  userAgent: string | undefined;
  delivered: boolean;
  /** Its price was taken from the balance. */
  charged: boolean;
  reported: boolean;
}

/** USD one solve of each kind costs. */
export type KindPrices = Readonly<Record<"image" | "token", number>>;

export interface SimTasksOptions {
  /** A charge may take the balance below zero; otherwise it stops at zero. @default false */
  overdraws?: boolean;
  /** Task ids: numbers as text (in.php, anti-captcha) or UUIDs (CapSolver). @default "number" */
  ids?: "number" | "uuid";
}

const MAX_TASKS = 100_000;
const HEX = "0123456789abcdef";

export class SimTasks {
  readonly #tasks = new Map<string, SimTask>();
  /** Per key and kind, ready times of unsolved tasks in order (solve times are constant per kind). */
  readonly #pending = new Map<string, { image: number[]; token: number[] }>();
  #nextId: number;
  balanceUsd: number;
  unsolvableRatio = 0;
  /** Answer length in characters of text answers (memory benchmarks); undefined: 6 for images, 408 for tokens. */
  answerLength: number | undefined;
  /** USD charged so far (what the balance lost to solves), and how many tasks of each kind were charged. */
  spentUsd = 0;
  charged = { image: 0, token: 0 };
  /** USD one solve of each kind costs. */
  readonly prices: KindPrices;
  readonly #o: SimTasksOptions;
  /** Thread time since the last resetUsage: the solve time of every task created, less what is still ahead (see usage). */
  #usageMs = 0;
  #peakBusy = 0;

  constructor(
    private readonly clock: Clock,
    private readonly random: Random,
    balanceUsd: number,
    private readonly solveTimeMs: { image: number; token: number },
    pricePerSolveUsd: number | KindPrices,
    /** Unsolved tasks per key; Infinity: no cap. */
    readonly threads: number,
    o: SimTasksOptions = {},
  ) {
    this.balanceUsd = balanceUsd;
    this.prices = typeof pricePerSolveUsd === "number" ? { image: pricePerSolveUsd, token: pricePerSolveUsd } : { ...pricePerSolveUsd };
    this.#o = o;
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

  /**
   * A task of `kind` whose answer has `shape` (default: text for an image, a reCAPTCHA token for a
   * token); `atOnce`: solved as it is created (CapSolver's recognition tasks), taking no thread.
   */
  create(key: string, kind: "image" | "token", shape?: AnswerShape, userAgent?: string, atOnce = false): SimTask {
    const now = this.clock.now();
    const unsolvable = this.random() < this.unsolvableRatio;
    const task: SimTask = {
      id: this.#newId(),
      key,
      kind,
      createdAt: now,
      readyAt: atOnce ? now : now + this.solveTimeMs[kind],
      unsolvable,
      answer: drawAnswer(this.random, shape ?? (kind === "image" ? { kind: "text" } : { kind: "token", prefix: "03AFcWeA" }), now, this.answerLength),
      userAgent,
      delivered: false,
      charged: false,
      reported: false,
    };
    this.#tasks.set(task.id, task);
    let p = this.#pending.get(key);
    if (!p) this.#pending.set(key, (p = { image: [], token: [] }));
    if (!atOnce) {
      p[kind].push(task.readyAt);
      this.#usageMs += this.solveTimeMs[kind];
      this.#peakBusy = Math.max(this.#peakBusy, this.busyTotal());
    }
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
    this.charge(task);
  }

  /** Takes the task's price from the balance, once (a solve; on some services an unsolvable task too). */
  charge(task: SimTask): void {
    if (task.charged) return;
    task.charged = true;
    const price = this.prices[task.kind];
    const after = Math.round((this.balanceUsd - price) * 1e6) / 1e6;
    const balance = this.#o.overdraws ? after : Math.max(0, after);
    this.spentUsd = Math.round((this.spentUsd + this.balanceUsd - balance) * 1e6) / 1e6;
    this.charged[task.kind]++;
    this.balanceUsd = balance;
  }

  /** Forgets what was spent (the balance stays). */
  resetSpend(): void {
    this.spentUsd = 0;
    this.charged = { image: 0, token: 0 };
  }

  #newId(): string {
    if (this.#o.ids !== "uuid") return String(this.#nextId++);
    const h = randomString(this.random, 32, HEX);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${"89ab"[Math.floor(this.random() * 4)]}${h.slice(17, 20)}-${h.slice(20)}`;
  }
}
