/**
 * Polling: res.php?action=get for each submitted task on the scheduler, first after the kind's
 * first-poll delay, then every poll interval (longer while the upstream asks to back off), never
 * past the task's deadline. An unsolvable answer is submitted once more, deliberately.
 */
import type { TaskFailureCode } from "../base/error_registry.ts";
import { catalogueEntry } from "../tasks/task_catalogue.ts";
import type { Task } from "../tasks/task.ts";
import { POLL } from "../upstream/endpoints.ts";
import type { PoolCore } from "./_pool_core.ts";

const UNSOLVABLE = "ERROR_CAPTCHA_UNSOLVABLE";

export class Poller {
  readonly #core: PoolCore;

  constructor(core: PoolCore) {
    this.#core = core;
  }

  /** Polls `task` after `delayMs`, or at its deadline if that comes first. */
  schedule(task: Task, delayMs: number): void {
    const core = this.#core;
    const delay = Math.min(delayMs, Math.max(0, task.deadlineAt - core.clock.now()));
    const timers = core.timers.get(task.id);
    if (!timers) return;
    task.timing.waitMs += delay;
    timers.next = core.scheduler.schedule(delay, () => void this.#poll(task));
  }

  async #poll(task: Task): Promise<void> {
    const core = this.#core;
    const intervalMs = core.o.timing.pollIntervalMs;
    if (task.status !== "submitted") return;
    // Polls go to the provider that took the task, whatever happens to the others.
    const lane = core.laneOf(task);
    if (!lane.circuit.tryAcquire()) {
      this.schedule(task, Math.max(intervalMs, lane.circuit.retryInMs));
      return;
    }
    task.polls++;
    const outcome = await core.callFor(task, lane, POLL, (signal) => lane.upstream.poll(task.upstreamId!, signal, task.params.proxy));
    if (outcome === undefined || task.status !== "submitted") return;
    switch (outcome.kind) {
      case "ok": {
        const solution = catalogueEntry(task.type)?.solution.parse(outcome.value.request, outcome.value.fields);
        if (solution === undefined) {
          // A success the family's solution cannot be read from: polling again reads the same answer.
          core.release(task);
          core.fail(task, "BAD_SOLUTION" satisfies TaskFailureCode, `The upstream's answer is not a ${task.type} solution.`, "worker");
          return;
        }
        // Charged before its slot frees: the budget is right before the next task is given out.
        const cost = outcome.value.fields.cost;
        core.charge(task, lane, typeof cost === "number" && Number.isFinite(cost) && cost >= 0 ? cost : undefined);
        core.release(task);
        task.status = "solved";
        task.solution = solution.value;
        task.useragent = solution.useragent;
        core.end(task);
        lane.health.solved(task.type, task.endedAt! - task.createdAt);
        return;
      }
      case "task_failed":
        // Billed though unsolved where the provider says it bills it (anti-captcha), before the slot frees.
        if (outcome.code === UNSOLVABLE && lane.chargesUnsolvable) core.charge(task, lane);
        core.release(task);
        if (outcome.code === UNSOLVABLE && task.submissions < 2 && task.deadlineAt > core.clock.now()) {
          // One more worker may solve what this one could not; a deliberate second submission.
          task.status = "queued";
          task.upstreamId = undefined;
          core.requeue(task);
          core.pump();
          return;
        }
        core.fail(task, outcome.code, outcome.message, outcome.blame);
        return;
      case "fatal_account":
        lane.refused(outcome.code);
        this.schedule(task, Math.max(intervalMs, 5_000));
        return;
      case "back_off":
        this.schedule(task, Math.max(intervalMs * 2, 5_000));
        return;
      default:
        this.schedule(task, intervalMs);
    }
  }
}
