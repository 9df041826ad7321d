/**
 * Bulkheads between image and token tasks. Explicit limits (`--bulkhead image=2,token=3`) are hard
 * caps. The default is a fair split with lending: each kind is guaranteed half the threads (image
 * gets the odd one) and may borrow the other half while the other kind has nothing queued; a
 * borrowed slot returns to its owner as soon as it frees, so a flood of slow token tasks delays
 * image tasks by at most one token solve instead of starving them.
 */
import type { TaskKind } from "../tasks/task_catalogue.ts";

export type BulkheadLimits = Record<TaskKind, number>;

export class Bulkhead {
  #threads: number;
  #limits: BulkheadLimits;
  readonly #hard: boolean;
  readonly #inFlight: Record<TaskKind, number> = { image: 0, token: 0 };

  constructor(threads: number, limits?: BulkheadLimits) {
    this.#threads = threads;
    this.#hard = limits !== undefined;
    this.#limits = limits ?? { image: Math.ceil(threads / 2), token: Math.floor(threads / 2) };
  }

  /** Its slots now. */
  get threads(): number {
    return this.#threads;
  }

  /**
   * A reload changed the slots (docs/providers.md): the fair split follows them; hard limits stay as
   * given. Tasks in flight keep their slots; past a lower limit, no new one starts until enough end.
   */
  resize(threads: number): void {
    this.#threads = threads;
    if (!this.#hard) this.#limits = { image: Math.ceil(threads / 2), token: Math.floor(threads / 2) };
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
    if (this.total >= this.#threads) return undefined;
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
    return this.total < this.#threads && this.#may(kind, otherWaiting);
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
