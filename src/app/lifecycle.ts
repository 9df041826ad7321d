/**
 * The stop ladder (docs/commands.md), in one ordered place, and the signals that climb it. First signal:
 * systemd STOPPING=1, demo traffic stops, readiness `draining` and new tasks 503 (the pool stops
 * accepting), in-flight tasks get --drain-timeout, what is left stays in the journal (--state-dir)
 * or fails with `shutdown`, clients still waiting on a task get it as it stands (with `Retry-After`),
 * then the HTTP server (closing every connection after a short grace) and the journal close, then
 * every other part in the reverse order it started (systemd notify, the HAProxy agent, the upstream
 * client, the demo's simulator); exit 0. A second signal exits at once.
 */
import type { TaskFailureCode } from "../base/error_registry.ts";
import { formatDuration } from "../config/duration.ts";
import type { Logger } from "../base/log.ts";
import { EXIT_FAILURE, EXIT_OK, type SignalSource, type StopSignal } from "../base/runtime.ts";
import type { Phase } from "../health/readiness.ts";

/** Where the ladder stands: each rung is taken once, in this order. */
export type LadderState = "running" | "draining" | "drained" | "closing" | "closed";

const SHUTDOWN_MESSAGE = "The worker shut down before the task finished.";
/** After the drain, how long responses in progress get before every connection is closed. */
export const HTTP_CLOSE_GRACE_MS = 1_000;

/**
 * A part of the running worker the ladder stops, by what it does on each rung (each optional).
 * The ladder visits the parts in the reverse order they started: the last one started stops first.
 */
export interface StopPart {
  /** Rung 1, the drain begins: tell the outside (systemd STOPPING=1) or stop making work (the demo's traffic). */
  stopping?(): void;
  /** First on close: a timer (dependency checks, process metrics, the status history) or a file (--address-file, so a probe stops finding a worker that is going away). */
  stop?(): void;
  /** Last, once HTTP and the journal closed: the upstream client, the HAProxy agent, systemd notify, the demo's simulator. */
  close?(): Promise<void> | void;
  /**
   * Its own tasks still open that nobody waits for (the demo's samples): those failed with
   * `shutdown` at the drain deadline are no warning.
   */
  expendable?(): number;
}

/** What the ladder stops. */
export interface StopParts {
  log: Logger;
  view: { setPhase(phase: Phase): void };
  /** Publishes the readiness change (log line, systemd STATUS, HAProxy) and stops its re-check timer. */
  notifier: { check(): void; stop(): void };
  pool: {
    readonly inFlight: number;
    stopAccepting(): number;
    idle(timeoutMs: number): Promise<void>;
    suspend(): number;
    failAll(code: string, message: string): number;
    /** Clients waiting on a task (`?wait=`, `Prefer: wait`): answered at the drain deadline with the task as it stands. */
    releaseWaiters(): number;
  };
  /** With --state-dir (`dir`): open tasks stay in it for the next start instead of failing with `shutdown`. */
  journal: { readonly dir: string; close(): Promise<void> } | undefined;
  /** Once listening: stops listening, answers what is in progress within `graceMs`, then closes every connection. */
  http?: { close(graceMs: number): Promise<void> } | undefined;
  /** Every other part, in the order it started (the list may grow until the start ends). */
  started: readonly StopPart[];
}

export interface StopLadder {
  readonly state: LadderState;
  /** Rungs 1-3: STOPPING=1, demo traffic off, readiness draining, new tasks 503. Idempotent. */
  beginDrain(): void;
  /** Rungs 4-5: waits up to `timeoutMs` for in-flight tasks, then keeps or fails what is left; returns how many failed with `shutdown`. */
  drain(timeoutMs: number): Promise<number>;
  /** Rungs 6-7: settles the pool if no drain did, closes everything; resolves once all is closed. */
  close(): Promise<void>;
}

/** Builds the ladder over the started parts. */
export function createStopLadder(p: StopParts): StopLadder {
  let state: LadderState = "running";
  let closing: Promise<void> | undefined;
  const settle = (): number => (p.journal ? (p.pool.suspend(), 0) : p.pool.failAll("shutdown" satisfies TaskFailureCode, SHUTDOWN_MESSAGE));

  const ladder: StopLadder = {
    get state() {
      return state;
    },
    beginDrain() {
      if (state !== "running") return;
      state = "draining";
      for (const part of lastFirst(p.started)) part.stopping?.();
      p.view.setPhase("draining");
      p.notifier.check();
      const failed = p.pool.stopAccepting();
      p.log.info("draining", { in_flight: p.pool.inFlight, queued_failed: failed });
    },
    async drain(timeoutMs) {
      ladder.beginDrain();
      await p.pool.idle(timeoutMs);
      if (state !== "draining") return 0;
      state = "drained";
      if (p.journal) {
        const left = p.pool.suspend();
        const answered = p.pool.releaseWaiters();
        if (left > 0) p.log.info("drain: open tasks kept in the journal for the next start", { count: left, dir: p.journal.dir, waits_answered: answered });
        return 0;
      }
      const expendable = p.started.reduce((n, part) => n + (part.expendable?.() ?? 0), 0);
      const left = p.pool.failAll("shutdown" satisfies TaskFailureCode, SHUTDOWN_MESSAGE);
      p.pool.releaseWaiters();
      // Someone's tasks cut short are worth a warning; samples nobody waits for are not.
      const owed = Math.max(0, left - expendable);
      if (owed > 0) p.log.warn("drain timeout: tasks failed with shutdown", { count: owed, drain_timeout: formatDuration(timeoutMs) });
      if (left > owed) p.log.info("drain: sample tasks stopped unfinished", { count: left - owed });
      return left;
    },
    close() {
      closing ??= (async () => {
        const drained = state === "drained";
        state = "closing";
        for (const part of lastFirst(p.started)) part.stop?.();
        p.notifier.stop();
        if (!drained) settle();
        p.pool.releaseWaiters();
        await p.http?.close(HTTP_CLOSE_GRACE_MS);
        await p.journal?.close();
        for (const part of lastFirst(p.started)) await part.close?.();
        state = "closed";
      })();
      return closing;
    },
  };
  return ladder;
}

function lastFirst<T>(items: readonly T[]): T[] {
  return [...items].reverse();
}

export interface SignalOptions {
  onSignal: SignalSource;
  /** Ends the process at once (the second signal). */
  exit(code: number): never;
  drainTimeoutMs: number;
  log: Logger;
}

/** Climbs the ladder on the first signal; resolves with the exit code once everything closed. */
export function stopOnSignal(o: SignalOptions, ladder: StopLadder): Promise<number> {
  const { log } = o;
  return new Promise((resolve) => {
    const off = o.onSignal(async (signal: StopSignal) => {
      off();
      o.onSignal((again) => {
        log.warn("second signal: exiting at once", { signal: again });
        o.exit(EXIT_FAILURE);
      });
      log.info("stopping", { signal, drain_timeout_ms: o.drainTimeoutMs });
      try {
        const left = await ladder.drain(o.drainTimeoutMs);
        await ladder.close();
        log.info("stopped", { failed_with_shutdown: left });
        resolve(EXIT_OK);
      } catch (err) {
        log.error("stop failed", { err });
        resolve(EXIT_FAILURE);
      }
    });
  });
}
