/**
 * Restore: takes back the open tasks of a journal after a restart (docs/durability.md). Those the upstream
 * holds are polled by their id, those whose submit may have landed fail with SUBMIT_UNCERTAIN,
 * those past their deadline fail with `timeout`, the rest are queued again in their original order.
 * Ended tasks the journal kept are answered again as they ended, until their retention ends.
 */
import type { TaskFailureCode } from "../base/error_registry.ts";
import type { EndedTask, ReplayedTask } from "./journal_port.ts";
import { SUBMIT_UNCERTAIN, type PoolCore } from "./_pool_core.ts";
import type { Poller } from "./_poller.ts";

/** How the replayed tasks were taken back. */
export interface RestoreResult {
  polled: number;
  queued: number;
  uncertain: number;
  expired: number;
  /** Held by a provider the providers file no longer names: failed `provider_gone`. */
  gone: number;
  /** Ended tasks answered again. */
  ended: number;
}

/** Takes back `replayed` in order of acceptance, then starts what may start. */
export function restoreTasks(core: PoolCore, poller: Poller, replayed: readonly ReplayedTask[], ended: readonly EndedTask[] = []): RestoreResult {
  const counts = { polled: 0, queued: 0, uncertain: 0, expired: 0, gone: 0, ended: 0 };
  const now = core.clock.now();
  // No new id may repeat one the journal holds, whatever the clock says after the restart.
  for (const t of [...ended, ...replayed]) core.ids.observe(t.id);
  for (const e of [...ended].sort((a, b) => a.endedAt - b.endedAt)) {
    if (core.tasks.get(e.id)) continue;
    // Its parameters are not kept once it ended (GET shows the outcome), only whose it is.
    const params = { type: e.type, ...(e.client !== undefined ? { client: e.client } : {}) } as ReplayedTask["params"];
    const task = core.newTask(e.id, e.type, params, e.createdAt, e.endedAt);
    Object.assign(task, { status: e.status, upstreamId: e.upstreamId, solution: e.solution, useragent: e.useragent, error: e.error, endedAt: e.endedAt, reported: e.reported, provider: e.provider, costUsd: e.costUsd });
    task.timing.queuedSince = undefined;
    core.tasks.add(task);
    core.tasks.ended(task, e.endedAt);
    counts.ended++;
  }
  for (const r of [...replayed].sort((a, b) => a.createdAt - b.createdAt)) {
    const task = core.newTask(r.id, r.type, r.params, r.createdAt, r.deadlineAt);
    task.submissions = r.submissions;
    core.track(task);
    if (r.deadlineAt <= now) {
      core.fail(task, "timeout" satisfies TaskFailureCode, "The deadline passed while the worker was down.", undefined);
      counts.expired++;
    } else if (r.upstreamId !== undefined && r.provider !== undefined && !core.lanes.some((l) => l.name === r.provider)) {
      // Taken by a provider the providers file no longer names: no key to ask it with (docs/providers.md).
      task.provider = r.provider;
      core.fail(task, "provider_gone" satisfies TaskFailureCode, `The provider ${r.provider} that took the task is no longer in the providers file.`, undefined);
      counts.gone++;
    } else if (r.upstreamId !== undefined) {
      task.status = "submitted";
      task.upstreamId = r.upstreamId;
      task.timing.queuedSince = undefined;
      // Polled where it was submitted (an older journal names no provider: the first).
      const lane = core.lane(r.provider);
      core.hold(task, lane);
      lane.slots.holding(); // the upstream holds it: threads the plan's limit need not probe for
      poller.schedule(task, core.o.timing.pollIntervalMs);
      counts.polled++;
    } else if (r.uncertain) {
      task.provider = r.provider; // the one the submit may have reached
      core.fail(task, SUBMIT_UNCERTAIN, "The worker stopped while submitting; not repeated, to avoid a double charge.", undefined);
      counts.uncertain++;
    } else {
      core.enqueue(task);
      counts.queued++;
    }
  }
  // The restored work waits from now: the time the worker was down is not time without a solve.
  if (core.queued > 0 || core.holding.size > 0) core.busyFrom(now);
  core.pump();
  return counts;
}
