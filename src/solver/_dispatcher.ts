/**
 * Dispatch: the pump that gives queued tasks their upstream slots (bulkheads, circuit, pauses) and
 * the submit of each. Trade-off: a submit whose request may have reached the upstream is never
 * repeated; the task fails SUBMIT_UNCERTAIN instead of risking a double charge. One that surely did
 * not (refused, not connected, or the journal could not record it) goes back to the head of its queue.
 */
import { balanceFunded } from "../health/readiness.ts";
import type { Task } from "../tasks/task.ts";
import { SUBMIT } from "../upstream/endpoints.ts";
import type { Account } from "./_account.ts";
import { SUBMIT_UNCERTAIN, type PoolCore } from "./_pool_core.ts";
import type { Poller } from "./_poller.ts";

export class Dispatcher {
  readonly #core: PoolCore;
  readonly #poller: Poller;
  readonly #account: Account;
  /** ERROR_ZERO_BALANCE answers whose meaning (money or threads) waits on the next balance read. */
  #zeroBalanceRefusals = 0;
  /** The last balance read was at or above --min-balance. */
  #funded = true;

  constructor(core: PoolCore, poller: Poller, account: Account) {
    this.#core = core;
    this.#poller = poller;
    this.#account = account;
  }

  /** Starts as many queued tasks as slots, bulkheads, the circuit and any pause allow. */
  pump(): void {
    const core = this.#core;
    if (core.state !== "running" || this.#account.refusedCode !== undefined) return;
    const now = core.clock.now();
    if (core.pausedAt(now)) return;
    for (;;) {
      const kind = core.bulkhead.pick((k) => core.head(k)?.createdAt);
      if (kind === undefined) return;
      // Open: a good check (upstream cause) or the cool-down's end (task path) pumps again.
      if (!core.circuit.tryAcquire()) return void core.pauseFor(core.circuit.retryInMs);
      const task = core.dequeue(kind)!;
      core.leaveQueue(task, now);
      core.hold(task);
      void this.#submit(task);
    }
  }

  /**
   * A balance was read. Refusals for money (`ERROR_ZERO_BALANCE`) waiting on it count as saturation
   * when there is money (CaptchaAI says "zero balance" for "no free threads" too). When the money
   * comes back (a top-up after a low balance), the submit back-off ends now, so submissions resume
   * at once; a refusal for threads keeps its back-off (that is what the back-off is for).
   */
  balanceRead(balanceUsd: number): void {
    const core = this.#core;
    const funded = balanceFunded(this.#funded, balanceUsd, core.o.account?.minBalanceUsd ?? 0);
    const toppedUp = funded && !this.#funded;
    this.#funded = funded;
    core.o.health.balanceFunded(funded);
    if (funded) for (; this.#zeroBalanceRefusals > 0; this.#zeroBalanceRefusals--) core.o.health.submitAnswered(true);
    this.#zeroBalanceRefusals = 0;
    if (!toppedUp) return;
    core.o.health.resumed();
    core.submitBackoff.reset();
    if (core.circuit.state === "closed") core.clearPause();
    this.pump();
  }

  /**
   * One step of the submit back-off per round of refusals: the tasks refused together while a
   * pause is already set (they were all in flight at once) do not each lengthen it.
   */
  #backOff(): void {
    const core = this.#core;
    if (core.pausedAt(core.clock.now())) return;
    core.pauseFor(core.submitBackoff.next());
  }

  /**
   * A refusal for threads counts as saturation; one for money is decided by the balance, re-read now
   * (evidence, not the TTL): below --min-balance readiness says low_balance, above it saturation.
   */
  #refusedFor(code: string): void {
    const core = this.#core;
    if (code === "ERROR_ZERO_BALANCE") {
      this.#zeroBalanceRefusals++;
      core.o.account?.onEvidence?.();
    } else if (code === "ERROR_NO_SLOT_AVAILABLE") {
      core.o.health.submitAnswered(true);
      core.o.account?.onEvidence?.();
    }
  }

  async #submit(task: Task): Promise<void> {
    const core = this.#core;
    const journal = core.o.journal;
    if (journal) {
      try {
        await journal.submitting(task);
      } catch {
        // Not recorded, so not sent: a crash now could not tell whether it landed. Wait and retry.
        if (task.status !== "queued" || core.abandoned) return;
        core.requeue(task);
        this.#backOff();
        return;
      }
      if (task.status !== "queued" || core.abandoned) return; // expired or shut down meanwhile; the slot is back
    }
    const outcome = await core.callFor(task, SUBMIT, (signal) => core.o.upstream.submit(task.params, signal));
    // Expired or shut down while the request was out: the slot was given back already.
    if (outcome === undefined || task.status !== "queued") return;
    switch (outcome.kind) {
      case "ok":
        core.o.health.submitAnswered(false);
        core.submitBackoff.reset();
        task.status = "submitted";
        task.submissions++;
        task.upstreamId = outcome.value;
        task.submittedAt = core.clock.now();
        journal?.submitted(task);
        this.#poller.schedule(task, core.o.timing.firstPollMs[task.kind]);
        return;
      case "fatal_account":
        core.requeue(task);
        this.#account.refused(outcome.code);
        return;
      case "transient":
        if (outcome.maybeDelivered) {
          core.release(task);
          core.fail(task, SUBMIT_UNCERTAIN, `The submit may have reached the upstream (${outcome.code}); not repeated, to avoid a double charge.`, "worker");
          return;
        }
        core.requeue(task);
        this.#backOff();
        return;
      case "task_failed":
        core.release(task);
        core.fail(task, outcome.code, outcome.message, outcome.blame);
        return;
      case "back_off":
        this.#refusedFor(outcome.code);
        core.requeue(task);
        this.#backOff();
        return;
      case "not_ready":
        core.requeue(task);
        this.#backOff();
        return;
    }
  }
}
