/**
 * The account: a fatal key code (wrong key, IP not allowed, suspended) stops submissions until the
 * key works again (README, How the worker treats the upstream). Nothing here polls: while readiness says `upstream_auth`, the worker's
 * recovery trials re-read the balance every second, and the first answer that is not a key refusal
 * clears it (`accepted()`), so a fixed key is back within about a second.
 */
import type { PoolCore } from "./_pool_core.ts";

export class Account {
  readonly #core: PoolCore;
  #refusedCode: string | undefined;

  constructor(core: PoolCore) {
    this.#core = core;
  }

  /** The fatal code the upstream last refused the key with; undefined while the key works. */
  get refusedCode(): string | undefined {
    return this.#refusedCode;
  }

  /** The key works (a getbalance answered without refusing it): clears a fatal account state and resumes. */
  accepted(): void {
    if (this.#refusedCode === undefined) return;
    this.#core.o.log.info("upstream accepts the key again; submissions resume", { was: this.#refusedCode });
    this.#refusedCode = undefined;
    this.#core.o.health.upstreamAuth(undefined);
    this.#core.pump();
  }

  /** A fatal account code: stop submitting until a balance check sees the key work. */
  refused(code: string): void {
    const first = this.#refusedCode === undefined;
    this.#refusedCode = code;
    this.#core.o.health.upstreamAuth(code);
    if (!first) return;
    const origin = this.#core.o.account?.keyOrigin;
    this.#core.o.log.error(`upstream refuses the key${origin === undefined ? "" : ` from ${origin}`}; submissions stopped`, { code });
  }
}
