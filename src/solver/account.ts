/**
 * The account: a fatal key code (wrong key, IP not allowed, suspended) stops submissions until the
 * key works again; a getbalance re-checks it in the background on a back-off (SPEC §6), and the
 * health check's own getbalance clears it as soon as one succeeds.
 */
import { Backoff } from "../base/backoff.ts";
import { BALANCE } from "../upstream/endpoints.ts";
import type { PoolCore } from "./pool_core.ts";

export class Account {
  readonly #core: PoolCore;
  readonly #recheckBackoff: Backoff;
  #refusedCode: string | undefined;

  constructor(core: PoolCore) {
    this.#core = core;
    this.#recheckBackoff = new Backoff({ baseMs: 5_000, maxMs: 60_000, random: core.o.random ?? Math.random });
  }

  /** The fatal code the upstream last refused the key with; undefined while the key works. */
  get refusedCode(): string | undefined {
    return this.#refusedCode;
  }

  /** The key works (a getbalance succeeded): clears a fatal account state and resumes. */
  accepted(): void {
    if (this.#refusedCode === undefined) return;
    this.#core.o.log.info("upstream accepts the key again; submissions resume", { was: this.#refusedCode });
    this.#refusedCode = undefined;
    this.#recheckBackoff.reset();
    this.#core.o.health.upstreamAuth(undefined);
    this.#core.pump();
  }

  /** A fatal account code: stop submitting and re-check the key in the background until it works. */
  refused(code: string): void {
    const first = this.#refusedCode === undefined;
    this.#refusedCode = code;
    this.#core.o.health.upstreamAuth(code);
    if (!first) return;
    this.#core.o.log.error("upstream refuses the key; submissions stopped", { code });
    this.#recheckLater();
  }

  #recheckLater(): void {
    this.#core.scheduler.schedule(this.#recheckBackoff.next(), () => void this.#recheck());
  }

  async #recheck(): Promise<void> {
    const core = this.#core;
    if (this.#refusedCode === undefined) return; // the balance check saw the key work meanwhile
    const outcome = await core.o.upstream.balance(core.own.signal);
    if (core.abandoned) return;
    core.called(BALANCE, outcome);
    core.noteTransport(outcome);
    if (outcome.kind === "fatal_account") {
      this.#refusedCode = outcome.code;
      core.o.health.upstreamAuth(outcome.code);
      return this.#recheckLater();
    }
    if (outcome.kind !== "ok") return this.#recheckLater();
    this.accepted();
  }
}
