/**
 * Dispatch: the pump that gives queued tasks a provider's slot, and the submit of each. A task goes
 * to the first provider, in order, that takes its type, is well (its key works, its circuit lets
 * calls through, no trouble pause), has room (a free slot, budget left) and whose `after` the task
 * has waited, unless every provider before it is out of the running (docs/providers.md). Trade-off:
 * a submit whose request may have reached the upstream is never repeated, here or elsewhere; the
 * task fails SUBMIT_UNCERTAIN instead of risking a double charge. One that surely did not goes back
 * to the head of its queue, for the next provider at once or, after a thread plan's "no free
 * thread", for the same plan until the task has waited long enough to overflow. A plan's lane learns
 * its limit from those answers (docs/providers.md, Thread plan): a submit past what it holds safely is a probe,
 * and the pump wakes when a paced probe may go. With several providers, one whose submit may have arrived unanswered is on trial: one task at a time goes there
 * until a submit of it is answered, so a provider whose task path hangs while its balance checks
 * answer costs one task per trial, not one per free thread (docs/providers.md).
 */
import { wallTime } from "../base/clock.ts";
import { classOf, routingClass, type Task } from "../tasks/task.ts";
import type { TaskKind } from "../tasks/task_catalogue.ts";
import { SUBMIT } from "../upstream/endpoints.ts";
import type { Lane } from "./_lane.ts";
import type { Room } from "./_lane_slots.ts";
import { SUBMIT_UNCERTAIN, type PoolCore } from "./_pool_core.ts";
import type { Poller } from "./_poller.ts";
import type { Outcome } from "./upstream_port.ts";

const DAY_MS = 86_400_000;

/** What a lane says of a task now: take it (as a probe, maybe), it is busy (the task may wait for it), or it is out of the running. */
type Verdict = Room | "out";

/**
 * A pump's look at the queues: the routing classes (tasks.ts routingClass) no provider takes now,
 * found on the oldest task of each, with the busy lanes it waits on. A task of such a class waited
 * no longer than that one (bar one put back at the head), and providers only fill up during a pump,
 * so none of them can go either: they are passed over unweighed (_task_queues.ts: a look at each
 * class's head, whatever the queue's length).
 */
interface Scan {
  now: number;
  blocked: Record<TaskKind, Map<string, ReadonlySet<Lane>>>;
}

export class Dispatcher {
  readonly #core: PoolCore;
  readonly #poller: Poller;
  /** The pump scheduled for when a waiting task's `after` runs out. */
  #wake: { at: number; cancel(): void } | undefined;
  /** Providers on trial, and when their last submit that may have arrived went unanswered (several providers only). */
  readonly #unproven = new Map<Lane, number>();
  /** The one task each provider on trial has out submitting. */
  readonly #trials = new Map<Lane, Task>();

  constructor(core: PoolCore, poller: Poller) {
    this.#core = core;
    this.#poller = poller;
  }

  /** Starts as many queued tasks as the lanes take now; wakes again when a waiting task may overflow. */
  pump(): void {
    const core = this.#core;
    if (core.state !== "running") return;
    const now = core.clock.now();
    let wakeAt = Number.POSITIVE_INFINITY;
    const scan: Scan = { now, blocked: { image: new Map(), token: new Map() } };
    for (;;) {
      const pick = this.#next(now, scan, (at) => (wakeAt = Math.min(wakeAt, at)));
      if (!pick) break;
      const { task, lane, room, trial } = pick;
      core.takeFromQueue(task);
      // A kind's queue emptied lets the other kind's tasks use its slots: weigh them again.
      if (core.queuedOf(task.kind) === 0) scan.blocked[task.kind === "image" ? "token" : "image"].clear();
      core.leaveQueue(task, now);
      core.hold(task, lane);
      lane.slots.submitting(task, room);
      if (this.#unproven.has(lane)) this.#trials.set(lane, task);
      void this.#submit(task, lane, trial);
    }
    // The lanes the tasks left waiting wait on (a plan's limit grows only while work waits for it).
    const blocked = [...scan.blocked.image, ...scan.blocked.token];
    const waitedOn = new Set(blocked.flatMap(([, lanes]) => [...lanes]));
    // Stranded: no lane busy for it, and a provider in use takes it (down now, as provider_down says); a
    // class only a provider a reload removed took waits on nothing that comes back: a backlog.
    const takenInUse = (key: string) => {
      const { type, proxied } = classOf(key);
      return core.lanes.some((l) => l.takes(type, proxied));
    };
    core.stranded = core.lanes.length > 1 ? new Set(blocked.filter(([key, lanes]) => lanes.size === 0 && takenInUse(key)).map(([key]) => key)) : new Set();
    for (const lane of core.lanes) lane.noteWaiting(waitedOn.has(lane));
    this.#wakeAt(wakeAt, now);
  }

  /**
   * The oldest task some lane takes now, whatever waits before it that none takes now; `later(at)`
   * learns when a task waiting on `after` may overflow.
   */
  #next(now: number, scan: Scan, later: (at: number) => void): { task: Task; lane: Lane; room: Room; trial: boolean } | undefined {
    for (;;) {
      const image = this.#candidate("image", scan);
      const token = this.#candidate("token", scan);
      if (!image && !token) return undefined;
      const kind: TaskKind = !token || (image && image.createdAt <= token.createdAt) ? "image" : "token";
      const candidate = (kind === "image" ? image : token)!;
      const waitedOn = new Set<Lane>();
      const found = this.#laneFor(candidate, now, later, waitedOn);
      if (found) return { task: candidate, ...found };
      scan.blocked[kind].set(routingClass(candidate), waitedOn);
    }
  }

  /** The first queued task of `kind` whose class is not known to be blocked now and whose deadline is not here (it is failing). */
  #candidate(kind: TaskKind, scan: Scan): Task | undefined {
    const blocked = scan.blocked[kind];
    return this.#core.queue.oldest(kind, (key) => blocked.has(key), scan.now);
  }

  /**
   * The lane that takes `task` now, if any (`trial`: as its half-open circuit's one trial call); a
   * task waiting on a busy lane before it learns when it may overflow; `waitedOn` the busy lanes.
   */
  #laneFor(task: Task, now: number, later: (at: number) => void, waitedOn: Set<Lane>): { lane: Lane; room: Room; trial: boolean } | undefined {
    const core = this.#core;
    let waiting = false;
    for (const lane of core.lanes) {
      const v = this.#verdict(lane, task, now);
      if (v === "busy") {
        waitedOn.add(lane);
        const probeAt = lane.slots.probeAt;
        if (probeAt !== undefined) later(probeAt);
      }
      // An open circuit's cool-down ends on its own clock: pump then (a good check pumps earlier).
      if (lane.circuit.state === "open" && lane.takes(task.type, proxied(task))) later(now + Math.max(1, lane.circuit.retryInMs));
      if (v === "out") {
        // A type it answered "not supported" is asked again when the mark runs out: pump then.
        const asked = lane.takes(task.type, proxied(task)) ? lane.unsupportedUntil(task.type, now) : undefined;
        if (asked !== undefined) later(asked);
        // A spent budget comes back when the UTC day turns (by the wall clock): pump then, whatever else happens.
        if (lane.dailyBudgetUsd !== undefined && lane.takes(task.type, proxied(task)) && !lane.affords(task.type, now)) later(now + DAY_MS - (wallTime(core.clock, now) % DAY_MS));
        continue;
      }
      const waited = now - task.createdAt >= lane.afterMs;
      const room = v === "busy" ? undefined : v;
      if (room && (!waiting || waited)) {
        // A half-open circuit lets one call through, its trial; the task goes elsewhere while it is out.
        const trial = lane.circuit.state === "half_open";
        if (lane.circuit.tryAcquire()) return { lane, room, trial };
        continue;
      }
      if (room && !waited) later(task.createdAt + lane.afterMs);
      waiting = true;
    }
    return undefined;
  }

  /** Whether `lane` takes `task` now, is busy (a slot, a plan's "no free thread"), or is out of the running for it. */
  #verdict(lane: Lane, task: Task, now: number): Verdict {
    if (!lane.takes(task.type, proxied(task)) || lane.unsupportedUntil(task.type, now) !== undefined) return "out";
    if (lane.refusedCode !== undefined || lane.circuit.state === "open" || lane.unreachable) return "out";
    if (!lane.affords(task.type, now)) return "out";
    if (lane.learningCost(task.type)) return "busy"; // its cost is learned from the one out
    const paused = lane.pausedAt(now);
    if (paused === "trouble") return "out";
    if (paused === "capacity") return "busy";
    if (this.#trials.has(lane)) return "out"; // on trial, its one task is out
    const otherKind: TaskKind = task.kind === "image" ? "token" : "image";
    return lane.slots.room(task.kind, this.#core.queuedOf(otherKind) > 0);
  }

  /**
   * `lane` answered that it does not take `task`'s type (docs/providers.md): with several providers
   * that provider is skipped for the type a while and the task moves on at once, blaming no one;
   * true when it did. When no other provider may take the type, the task fails with the upstream's
   * code (false), and so do the tasks of the type still queued, which no provider would take now.
   * One provider alone keeps the worker's own refusal at submit and its probes (nothing is marked).
   */
  #unsupportedElsewhere(task: Task, lane: Lane, code: string, message: string): boolean {
    const core = this.#core;
    if (core.lanes.length < 2) return false;
    lane.markUnsupported(task.type, code);
    const now = core.clock.now();
    const elsewhere = (t: Task) => core.lanes.some((l) => l.takes(t.type, proxied(t)) && l.unsupportedUntil(t.type, now) === undefined);
    if (elsewhere(task)) {
      core.requeue(task);
      this.pump();
      return true;
    }
    for (const next of core.queue.ofType(task.type, task.kind)) {
      if (elsewhere(next)) continue;
      core.takeFromQueue(next);
      core.leaveQueue(next, now);
      core.fail(next, code, message, "nobody");
    }
    return false;
  }

  /** Pumps again at `at` (a task's `after` ends), keeping the earliest wake. */
  #wakeAt(at: number, now: number): void {
    if (!Number.isFinite(at)) return;
    if (this.#wake && this.#wake.at <= at && this.#wake.at > now) return;
    this.#wake?.cancel();
    const job = this.#core.scheduler.schedule(Math.max(0, at - now), () => {
      this.#wake = undefined;
      this.pump();
    });
    this.#wake = { at, cancel: () => job.cancel() };
  }

  /**
   * A balance of `lane` was read: refusals for money waiting on it count as saturation when there
   * is money (CaptchaAI says "zero balance" for "no free threads" too); a top-up ends the back-off.
   */
  balanceRead(lane: Lane, balanceUsd: number): void {
    lane.balanceRead(balanceUsd);
  }

  /** When `lane`'s current round on trial began (its last submit that may have arrived went unanswered: it takes one task at a time); undefined when it is not on trial. */
  trialSince(lane: Lane): number | undefined {
    return this.#unproven.get(lane);
  }

  /** `circuitTrial`: the task is the one call its lane's half-open circuit let through. */
  async #submit(task: Task, lane: Lane, circuitTrial: boolean): Promise<void> {
    const core = this.#core;
    const journal = core.o.journal;
    if (journal) {
      let recorded = true;
      try {
        await journal.submitting(task);
      } catch {
        recorded = false;
      }
      if (!recorded || task.status !== "queued" || core.abandoned) {
        // Never sent, so whatever trial it was is not spent: the next task may be it.
        if (circuitTrial) lane.circuit.releaseTrial();
        const trialEnded = this.#endTrial(lane, task) || circuitTrial;
        // Not recorded, so not sent: a crash now could not tell whether it landed. Wait and retry.
        if (!recorded && task.status === "queued" && !core.abandoned) {
          core.requeue(task);
          lane.backOff();
        }
        if (trialEnded) this.pump();
        return;
      }
    }
    const outcome = await core.callFor(task, lane, SUBMIT, (signal) => lane.upstream.submit(task.params, signal));
    const trialEnded = this.#endTrial(lane, task);
    // Any answer of the protocol proves the task path; one that may have arrived unanswered puts the provider on trial.
    if (outcome !== undefined && outcome.kind !== "transient") this.#unproven.delete(lane);
    // Each trial that fails so starts a new round (readiness's probation admits its tasks afresh, as after a failure streak's cool-down).
    else if (outcome?.kind === "transient" && outcome.maybeDelivered && core.lanes.length > 1) this.#unproven.set(lane, core.clock.now());
    this.#settle(task, lane, outcome);
    if (trialEnded) this.pump();
  }

  /** `task` was its lane's one trial task: no longer out. True when it was. */
  #endTrial(lane: Lane, task: Task): boolean {
    if (this.#trials.get(lane) !== task) return false;
    this.#trials.delete(lane);
    return true;
  }

  /** What a submit's answer does to its task and its lane. */
  #settle(task: Task, lane: Lane, outcome: Outcome<string> | undefined): void {
    const core = this.#core;
    // Expired or shut down while the request was out: the slot was given back already.
    if (outcome === undefined || task.status !== "queued") return;
    switch (outcome.kind) {
      case "ok":
        lane.submitBackoff.reset();
        lane.taken(task);
        task.status = "submitted";
        task.submissions++;
        task.upstreamId = outcome.value;
        task.submittedAt = core.clock.now();
        core.o.journal?.submitted(task);
        this.#poller.schedule(task, core.o.timing.firstPollMs[task.kind]);
        return;
      case "fatal_account":
        core.requeue(task);
        lane.refused(outcome.code);
        this.pump(); // another provider may take it now
        return;
      case "transient":
        if (outcome.maybeDelivered) {
          // With other providers, this one steps aside a while too: the next tasks go elsewhere, not into the same hang.
          if (core.lanes.length > 1) lane.backOff("trouble");
          core.release(task);
          core.fail(task, SUBMIT_UNCERTAIN, `The submit may have reached the upstream (${outcome.code}); not repeated, to avoid a double charge.`, "worker");
          return;
        }
        // Surely not delivered: this provider steps aside for a while, the next may take the task at once.
        core.requeue(task);
        lane.backOff("trouble");
        this.pump();
        return;
      case "task_failed":
        if (outcome.blame === "nobody" && this.#unsupportedElsewhere(task, lane, outcome.code, outcome.message)) return;
        core.release(task);
        core.fail(task, outcome.code, outcome.message, outcome.blame);
        return;
      case "back_off":
        if (lane.refusesThreads(outcome.code)) {
          // A plan's "no free thread" while money is there: the limit learns it, the task waits at the head, never failed.
          lane.slots.refused(task);
          lane.refusedFor(outcome.code);
          core.requeue(task);
          this.pump();
          return;
        }
        lane.refusedFor(outcome.code);
        core.requeue(task);
        // A thread plan's refusal: wait for its threads (the task overflows after `after`); a per-solve account's: step aside.
        lane.backOff(lane.plan ? "capacity" : "trouble");
        this.pump();
        return;
      case "not_ready":
        core.requeue(task);
        lane.backOff();
        return;
    }
  }
}

/** Whether the task carries a proxy: it goes only to a provider that takes its type with one (docs/providers.md). */
function proxied(task: Task): boolean {
  return task.params.proxy !== undefined;
}
