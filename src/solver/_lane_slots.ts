/**
 * A lane's slots: its bulkhead (image and token shares) within its cap, which is a thread plan's
 * adaptive limit (docs/providers.md, Thread plan; _thread_limit.ts) or a per-solve account's fixed cap; the
 * submits under way that are probes; whether the plan is full while work waits for it; how often
 * a refusal for want of threads may re-read the balance; how long its tasks hold a thread (a plan's
 * probes are paced by it).
 */
import type { Clock } from "../base/clock.ts";
import type { Task } from "../tasks/task.ts";
import type { TaskKind } from "../tasks/task_catalogue.ts";
import { Bulkhead, type BulkheadLimits } from "./_bulkhead.ts";
import { ThreadLimit } from "./_thread_limit.ts";

/** A refusal read as "no free thread" re-reads the balance at most this often (money or threads?). */
const THREAD_EVIDENCE_MS = 10_000;

/** Whether a lane has room for a task now: a slot, a slot past what it holds safely (a probe), or none. */
export type Room = "take" | "probe" | "busy";

export class LaneSlots {
  readonly bulkhead: Bulkhead;
  readonly #ctx: { clock: Clock; random: () => number };
  /** A thread plan's adaptive limit; undefined for a per-solve account (its cap is fixed). */
  #limit: ThreadLimit | undefined;
  #threads: number;
  /** Refusals counted under a plan a reload made per-solve (the count never goes back). */
  #refusalsBefore = 0;
  /** When a refusal read as "no free thread" last asked for the balance. */
  #evidenceAt = Number.NEGATIVE_INFINITY;
  /** Tasks whose submit under way is a probe. */
  readonly #probes = new Set<Task>();
  /** When the upstream took each task it holds (a thread plan's): their hold times pace its probes. */
  readonly #takenAt = new Map<Task, number>();
  /** The plan was full with work waiting for it, as last noted. */
  #full = false;

  /** `plan`: `threads` is a thread plan's (its limit adapts); else a per-solve account's fixed cap. */
  constructor(threads: number, bulkhead: BulkheadLimits | undefined, plan: boolean, ctx: { clock: Clock; random: () => number }) {
    this.#ctx = ctx;
    this.#threads = threads;
    this.bulkhead = new Bulkhead(threads, bulkhead);
    this.#limit = plan ? new ThreadLimit(ctx.clock, { plan: threads, random: ctx.random }) : undefined;
  }

  /**
   * A reload changed its threads or its billing (docs/providers.md): a plan's limit keeps what it
   * learnt within the new plan; a plan that became per-solve drops its limit, and the other way a
   * limit starts afresh. Tasks in flight keep their slots.
   */
  reconfigure(threads: number, plan: boolean): void {
    this.#threads = threads;
    this.bulkhead.resize(threads);
    if (plan && this.#limit) this.#limit.resize(threads);
    else if (plan) this.#limit = new ThreadLimit(this.#ctx.clock, { plan: threads, random: this.#ctx.random });
    else if (this.#limit) {
      this.#refusalsBefore += this.#limit.refusals;
      this.#limit = undefined;
      this.#probes.clear();
      this.#takenAt.clear();
    }
  }

  /** Whether it has an adaptive limit (a thread plan). */
  get adaptive(): boolean {
    return this.#limit !== undefined;
  }

  /** Its room for a task of `kind` now: within its limit, as a probe past what it holds safely, or none. */
  room(kind: TaskKind, otherKindWaiting: boolean): Room {
    const limit = this.#limit;
    if (!limit) return this.bulkhead.may(kind, otherKindWaiting) ? "take" : "busy";
    const busy = this.bulkhead.total;
    const verdict = limit.verdict(busy);
    if (verdict === "wait") return "busy";
    // The kinds' shares apply within the limit; a probe may hold one more.
    this.bulkhead.limitTo(verdict === "probe" ? Math.max(busy + 1, limit.limit) : limit.limit);
    return this.bulkhead.may(kind, otherKindWaiting) ? verdict : "busy";
  }

  /** When a paced probe may go (the pump runs then); undefined when nothing waits on the clock. */
  get probeAt(): number | undefined {
    return this.#limit?.wakeAt;
  }

  /** Its limit now (a per-solve account: its fixed cap). */
  get limit(): number {
    return this.#limit?.limit ?? this.#threads;
  }

  /** Submits the upstream refused for want of threads since start. */
  get refusals(): number {
    return this.#refusalsBefore + (this.#limit?.refusals ?? 0);
  }

  /** `task` took a slot; its submit goes as a probe when `room` said so. */
  submitting(task: Task, room: Room): void {
    if (room !== "probe" || !this.#limit) return;
    this.#probes.add(task);
    this.#limit.probeSent();
  }

  /** It holds threads the upstream took already (a restart's submitted tasks). */
  holding(): void {
    this.#limit?.holding(this.bulkhead.total);
  }

  /** The upstream took `task`'s submit; true when it was a probe (the limit grew: room for one more, maybe). */
  taken(task: Task): boolean {
    const probe = this.#probes.delete(task);
    if (this.#limit) this.#takenAt.set(task, this.#ctx.clock.now());
    this.#limit?.taken(probe, this.bulkhead.total);
    return probe;
  }

  /** The upstream refused `task`'s submit for want of threads; `task` still holds its slot (requeued next, never failed). */
  refused(task: Task): void {
    const probe = this.#probes.delete(task);
    if (!this.#limit) return;
    const now = this.#ctx.clock.now();
    let oldest = now;
    for (const at of this.#takenAt.values()) oldest = Math.min(oldest, at);
    this.#limit.refused(probe, this.bulkhead.total - 1, now - oldest);
  }

  /** `task` gave its slot back: a probe that ended otherwise (a transport failure, an expiry) frees the next; a task taken tells how long it held its thread. */
  released(task: Task): void {
    if (this.#probes.delete(task)) this.#limit?.probeEnded();
    const at = this.#takenAt.get(task);
    if (at === undefined) return;
    this.#takenAt.delete(task);
    this.#limit?.released(this.#ctx.clock.now() - at);
  }

  /**
   * Whether a refusal read as "no free thread" should re-read the balance now: at most every
   * THREAD_EVIDENCE_MS, as paced probes at a full plan would ask every few seconds.
   */
  asksBalance(): boolean {
    const now = this.#ctx.clock.now();
    if (now - this.#evidenceAt < THREAD_EVIDENCE_MS) return false;
    this.#evidenceAt = now;
    return true;
  }

  /** The money came back: refusals read as "no money" said nothing of threads. */
  fundsBack(): void {
    this.#limit?.fundsBack();
  }

  /**
   * Whether the plan is full now, given whether work waited on the lane (a probe out still waits, as
   * its task does) and whether money is there (without, the plan is not what is full): it holds all
   * the upstream lets it. Undefined when that did not change.
   */
  full(waiting: boolean, funded: boolean): boolean | undefined {
    const full = funded && (waiting || this.#probes.size > 0) && this.#limit !== undefined && this.#limit.fullAt(this.bulkhead.total);
    if (full === this.#full) return undefined;
    this.#full = full;
    return full;
  }
}
