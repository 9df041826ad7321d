/**
 * Bulkheads between image and token tasks. Explicit limits (`--bulkhead image=2,token=3`) are hard
 * caps. The default is a fair split with lending: each kind is guaranteed half the threads (image
 * gets the odd one) and may borrow the other half while the other kind has nothing queued; a
 * borrowed slot returns to its owner as soon as it frees, so a flood of slow token tasks delays
 * image tasks by at most one token solve instead of starving them. A thread plan's adaptive limit
 * (docs/providers.md, Thread plan) moves the cap: the shares apply within it (hard caps scaled to it).
 */
import type { TaskKind } from "../tasks/task_catalogue.ts";

export type BulkheadLimits = Record<TaskKind, number>;

export class Bulkhead {
  /** The threads configured (a plan's, or a per-solve account's cap; a reload may change them). */
  #threads: number;
  /** The explicit caps as configured, for the whole of `#threads`. */
  readonly #configured: BulkheadLimits | undefined;
  readonly #hard: boolean;
  readonly #inFlight: Record<TaskKind, number> = { image: 0, token: 0 };
  /** The cap now (the adaptive limit) and each kind's share of it. */
  #cap: number;
  #limits: BulkheadLimits;

  constructor(threads: number, limits?: BulkheadLimits) {
    this.#threads = threads;
    this.#hard = limits !== undefined;
    this.#configured = limits;
    this.#cap = threads;
    this.#limits = this.#sharesOf(threads);
  }

  /** The cap now: every kind together holds at most this many. */
  get cap(): number {
    return this.#cap;
  }

  /** Moves the cap (the adaptive limit, or one past it for a probe); each kind's share follows. */
  limitTo(cap: number): void {
    if (cap === this.#cap) return;
    this.#cap = cap;
    this.#limits = this.#sharesOf(cap);
  }

  /**
   * Each kind's share of `cap`: half each (image the odd one), or the explicit caps scaled to it (one
   * each at least). One thread cannot be halved: each kind may hold it, the oldest head first (a
   * share of none would hold token tasks back for as long as images keep coming).
   */
  #sharesOf(cap: number): BulkheadLimits {
    const c = this.#configured;
    if (!c) return { image: Math.ceil(cap / 2), token: Math.max(Math.min(cap, 1), Math.floor(cap / 2)) };
    if (cap >= this.#threads) return c;
    const scaled = (n: number) => Math.min(n, Math.max(1, Math.round((n * cap) / this.#threads)));
    return { image: scaled(c.image), token: scaled(c.token) };
  }

  /** Its slots now. */
  get threads(): number {
    return this.#threads;
  }

  /**
   * A reload changed the slots (docs/providers.md): the cap and the fair split follow them; hard
   * limits stay as given (a plan's adaptive limit moves the cap again at the next look). Tasks in
   * flight keep their slots; past a lower limit, no new one starts until enough end.
   */
  resize(threads: number): void {
    this.#threads = threads;
    this.#cap = threads;
    this.#limits = this.#sharesOf(threads);
  }

  get total(): number {
    return this.#inFlight.image + this.#inFlight.token;
  }

  inFlight(kind: TaskKind): number {
    return this.#inFlight[kind];
  }

  /** The share a kind is guaranteed (explicit: its cap). */
  share(kind: TaskKind): number {
    return this.#limits[kind];
  }

  /**
   * Which kind may start a task now, given each kind's oldest queued task time (undefined: none
   * queued). A kind under its share goes first; then the oldest head; undefined when none may start.
   */
  pick(headCreatedAt: (kind: TaskKind) => number | undefined): TaskKind | undefined {
    if (this.total >= this.#cap) return undefined;
    const image = headCreatedAt("image");
    const token = headCreatedAt("token");
    const imageOk = image !== undefined && this.#may("image", token !== undefined);
    const tokenOk = token !== undefined && this.#may("token", image !== undefined);
    if (imageOk && tokenOk) {
      const imageUnder = this.#inFlight.image < this.#limits.image;
      const tokenUnder = this.#inFlight.token < this.#limits.token;
      if (imageUnder !== tokenUnder) return imageUnder ? "image" : "token";
      return image! <= token! ? "image" : "token";
    }
    return imageOk ? "image" : tokenOk ? "token" : undefined;
  }

  /** Whether a task of `kind` may start now (`otherWaiting`: the other kind has tasks queued). */
  may(kind: TaskKind, otherWaiting: boolean): boolean {
    return this.total < this.#cap && this.#may(kind, otherWaiting);
  }

  acquire(kind: TaskKind): void {
    this.#inFlight[kind]++;
  }

  release(kind: TaskKind): void {
    if (this.#inFlight[kind] > 0) this.#inFlight[kind]--;
  }

  #may(kind: TaskKind, otherWaiting: boolean): boolean {
    if (this.#inFlight[kind] < this.#limits[kind]) return true;
    if (this.#hard) return false;
    // Lending: use idle capacity only while the other kind has nothing waiting, and never the
    // slots the other kind holds within its share.
    return !otherWaiting;
  }
}
