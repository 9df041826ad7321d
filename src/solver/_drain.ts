/**
 * Drain: the pool's way down. stopAccepting takes and submits no more (queued tasks fail with
 * `shutdown`, or stay in the journal); idle waits for the slots to empty; suspend leaves open tasks
 * to the journal; failAll ends them. Suspend and failAll cancel the upstream calls they abandon.
 */
import type { TaskFailureCode } from "../base/error_registry.ts";
import type { PoolCore } from "./_pool_core.ts";

/**
 * Stops taking tasks (the API answers 503) and submitting queued ones, which fail at once with
 * `shutdown` so their clients can go elsewhere (with a journal they stay for the next start);
 * in-flight tasks go on. Returns how many failed.
 */
export function stopAccepting(core: PoolCore): number {
  if (core.state === "running") core.enter("draining");
  if (core.o.journal) return 0; // queued tasks stay in the journal for the next start
  let n = 0;
  for (const task of [...core.tasks.open()]) {
    if (task.status !== "queued" || core.holding.has(task)) continue;
    core.fail(task, "shutdown" satisfies TaskFailureCode, "The worker is shutting down; the task was never submitted.", undefined);
    n++;
  }
  return n;
}

/** Resolves when no task holds an upstream slot, or after `timeoutMs`. */
export function whenIdle(core: PoolCore, timeoutMs: number): Promise<void> {
  if (core.holding.size === 0) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      timer.cancel();
      core.idleWaiters.delete(done);
      resolve();
    };
    const timer = core.clock.setTimeout(done, timeoutMs);
    core.idleWaiters.add(done);
  });
}

/** Stops every timer and cancels every call, leaving open tasks as they are: with a journal, the next start takes them up. Returns how many. */
export function suspend(core: PoolCore): number {
  const open = [...core.tasks.open()].length;
  if (core.state !== "stopped") core.enter("suspended");
  core.stopTimers();
  core.abortAll();
  return open;
}

/** Fails every task not yet ended with `code` (e.g. `shutdown`), cancels their calls and stops all timers. */
export function failAll(core: PoolCore, code: string, message: string): number {
  core.enter("stopped");
  core.abortAll();
  let n = 0;
  for (const task of [...core.tasks.open()]) {
    core.fail(task, code, message, undefined);
    n++;
  }
  core.stopTimers();
  return n;
}
