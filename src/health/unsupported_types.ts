/**
 * Task types the upstream does not take (docs/upstream.md): a task that
 * failed with an `unsupported` code (ERROR_METHOD_CALL, ERROR_TASK_NOT_SUPPORTED, ...) teaches that
 * its type is refused. For `refuseForMs` (10 minutes) new tasks of the type are then refused at
 * submit; after that one task at a time goes through as a probe, and a task of the type whose submit
 * the upstream took after the last refusal ends it. Charged to nobody: this never moves readiness, only
 * the counts per type and code and the status page's line say it. Bounded by the task types.
 */
import type { Clock } from "../base/clock.ts";
import { registryRow } from "../base/error_registry.ts";
import type { Task } from "../tasks/task.ts";

/** @default for refuseForMs: 10 minutes. */
export const REFUSE_FOR_MS = 10 * 60_000;
/** How long a type the upstream refused stays on the status page's line after its last refusal. */
export const SHOWN_FOR_MS = 60 * 60_000;

/** Whether the upstream answering `code` says it does not take the task's type (the registry's `unsupported` class). */
export function isUnsupportedCode(code: string | undefined): boolean {
  const row = code === undefined ? undefined : registryRow(code);
  return row?.family === "protocol" && row.upstream === "unsupported";
}

/** A type the upstream refused lately, as the status page lists it. */
export interface UnsupportedType {
  type: string;
  /** The code of its last refusal. */
  code: string;
  /** Tasks of the type the upstream refused so, since the start. */
  tasks: number;
  lastAt: number;
  /** Until when new tasks of the type are refused at submit; undefined: taken again (a task of it was accepted since). */
  refusedUntil: number | undefined;
}

interface Entry extends UnsupportedType {
  /** When the probe after the refusal window went through (one at a time). */
  probeAt: number | undefined;
}

export interface UnsupportedTypesOptions {
  /** @default REFUSE_FOR_MS */
  refuseForMs?: number;
  /** The upstream refused `type` with `code` for the first time since it was last taken: the owner logs it. */
  onLearned?: (type: string, code: string, refuseForMs: number) => void;
}

export class UnsupportedTypes {
  readonly #clock: Clock;
  readonly #refuseForMs: number;
  readonly #onLearned: UnsupportedTypesOptions["onLearned"];
  readonly #types = new Map<string, Entry>();
  /** Tasks refused so, by type and code (the metric). */
  readonly #counts = new Map<string, { type: string; code: string; count: number }>();

  constructor(clock: Clock, o: UnsupportedTypesOptions = {}) {
    this.#clock = clock;
    this.#refuseForMs = o.refuseForMs ?? REFUSE_FOR_MS;
    this.#onLearned = o.onLearned;
  }

  /** A task ended: refused as unsupported, its type is refused for a while; accepted by the upstream, its type is taken again. */
  taskEnded(task: Pick<Task, "type" | "status" | "error" | "submittedAt">): void {
    const now = this.#clock.now();
    const entry = this.#types.get(task.type);
    const code = task.error?.code;
    if (task.status === "failed" && isUnsupportedCode(code)) {
      const key = `${task.type}\u0000${code}`;
      const c = this.#counts.get(key) ?? { type: task.type, code: code!, count: 0 };
      c.count++;
      this.#counts.set(key, c);
      const learned = entry?.refusedUntil === undefined;
      const e: Entry = entry ?? { type: task.type, code: code!, tasks: 0, lastAt: now, refusedUntil: undefined, probeAt: undefined };
      e.code = code!;
      e.tasks++;
      e.lastAt = now;
      e.refusedUntil = now + this.#refuseForMs;
      e.probeAt = undefined;
      this.#types.set(task.type, e);
      if (learned) this.#onLearned?.(task.type, e.code, this.#refuseForMs);
      return;
    }
    // The upstream took a submit of this type after its last refusal: it is served again.
    if (entry && task.submittedAt !== undefined && task.submittedAt >= entry.lastAt) {
      entry.refusedUntil = undefined;
      entry.probeAt = undefined;
    }
  }

  /**
   * Whether a new task of `type` is refused now: the code the upstream gave and the seconds until a
   * task may be tried again; "probe": the first one past the window, taken to try the upstream again
   * (give it back with probeNotTaken if it is refused for another reason); undefined: take it.
   */
  refusal(type: string): { code: string; retryAfterS: number } | "probe" | undefined {
    const e = this.#types.get(type);
    if (e?.refusedUntil === undefined) return undefined;
    const now = this.#clock.now();
    const until = now < e.refusedUntil ? e.refusedUntil : e.probeAt !== undefined && now < e.probeAt + this.#refuseForMs ? e.probeAt + this.#refuseForMs : undefined;
    if (until !== undefined) return { code: e.code, retryAfterS: Math.max(1, Math.ceil((until - now) / 1000)) };
    e.probeAt = now;
    return "probe";
  }

  /** The probe `refusal` let through was not taken after all (not ready, a full queue): the next task may probe. */
  probeNotTaken(type: string): void {
    const e = this.#types.get(type);
    if (e) e.probeAt = undefined;
  }

  /** The types refused within the last hour, most recent first. */
  recent(): UnsupportedType[] {
    const since = this.#clock.now() - SHOWN_FOR_MS;
    return [...this.#types.values()]
      .filter((e) => e.lastAt >= since || e.refusedUntil !== undefined)
      .sort((a, b) => b.lastAt - a.lastAt)
      .map(({ type, code, tasks, lastAt, refusedUntil }) => ({ type, code, tasks, lastAt, refusedUntil }));
  }

  /** Tasks the upstream refused as unsupported since the start, by type and code. */
  counts(): { type: string; code: string; count: number }[] {
    return [...this.#counts.values()].map((c) => ({ ...c }));
  }
}
