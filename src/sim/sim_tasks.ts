/** The simulator's accounts and tasks: balance, per-key thread limit, solve times, answers; bounded memory. */
import type { Clock } from "../base/clock.ts";
import { randomString, type Random } from "./prng.ts";

export interface SimTask {
  id: string;
  key: string;
  kind: "image" | "token";
  readyAt: number;
  unsolvable: boolean;
  answer: string;
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
  /** Answer length in characters (memory benchmarks); undefined: 6 for images, 408 for tokens. */
  answerLength: number | undefined;

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

  /** Tasks of `key` not yet solved: what the thread limit counts. */
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

  create(key: string, kind: "image" | "token"): SimTask {
    const task: SimTask = {
      id: String(this.#nextId++),
      key,
      kind,
      readyAt: this.clock.now() + this.solveTimeMs[kind],
      unsolvable: this.random() < this.unsolvableRatio,
      answer: this.answerLength !== undefined ? longAnswer(this.random, this.answerLength) : kind === "image" ? randomString(this.random, 6, "abcdefghjkmnpqrstuvwxyz23456789") : `03AFcWeA${randomString(this.random, 400, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")}`,
      delivered: false,
      reported: false,
    };
    this.#tasks.set(task.id, task);
    let p = this.#pending.get(key);
    if (!p) this.#pending.set(key, (p = { image: [], token: [] }));
    p[kind].push(task.readyAt);
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

/** A distinct answer of `length` characters: a random head, then filler. */
function longAnswer(random: Random, length: number): string {
  const head = randomString(random, Math.min(length, 12), "abcdefghjkmnpqrstuvwxyz23456789");
  return head + "x".repeat(length - head.length);
}
