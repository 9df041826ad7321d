/**
 * The one dependency check: `captchaai_api`, a `getbalance` per TTL (and per second while a recovery
 * trial is due). It answers both questions readiness asks of the upstream, is it reachable and what
 * is left, and hands every answer to the pool as evidence.
 */
import type { Clock } from "../base/clock.ts";
import { WorkerError } from "../base/errors.ts";
import type { Logger } from "../base/log.ts";
import type { HealthChecks } from "../health/checks.ts";
import { UPSTREAM_CHECK } from "../health/health_view.ts";
import type { SolverPool } from "../solver/pool.ts";
import type { CaptchaAiClient } from "../upstream/captchaai_client.ts";
import type { Outcome } from "../upstream/outcome.ts";
import { describeTransportCause } from "../upstream/transport_cause.ts";

/** The upstream id of no task: res.php answers it with an error code, for free. */
const PROBE_TASK_ID = "0";
/** A getbalance slower than this gets the free res.php probe sent beside it. */
const PROBE_AFTER_MS = 1000;

export interface UpstreamCheckOptions {
  client: Pick<CaptchaAiClient, "balance" | "poll">;
  pool: Pick<SolverPool, "balanceObserved">;
  /** The check's name (`captchaai_api`, `NAME_api`). @default captchaai_api */
  name?: string;
  /** The provider it checks (its lane in the pool). @default the first */
  provider?: string;
  clock: Clock;
  ttlMs: number;
  timeoutMs: number;
  /** Where a failure's cause is logged, once per cause, and the recovery after it. @default none */
  log?: Logger;
}

/**
 * What a failed getbalance says in the check's error (status, /health/dependencies, the log): the
 * transport's cause when no answer came ("DNS: cannot resolve HOST (ENOTFOUND)"), else the upstream's code.
 */
export function balanceFailure(outcome: Exclude<Outcome<number>, { kind: "ok" }>): string {
  if (outcome.kind === "transient" && outcome.cause) return `getbalance failed: ${describeTransportCause(outcome.cause)}`;
  return `getbalance failed: ${"code" in outcome ? outcome.code : outcome.kind}`;
}

export function registerUpstreamCheck(checks: HealthChecks, o: UpstreamCheckOptions): void {
  const { client, pool, clock } = o;
  const name = o.name ?? UPSTREAM_CHECK;
  // The cause is logged when it changes, not at every run: an outage of an hour is one line, and its end another.
  let failing: string | undefined;
  const noteFailure = (error: string | undefined) => {
    if (error === failing) return;
    if (error !== undefined) o.log?.warn("upstream check failed", { check: name, error });
    else o.log?.info("upstream check answers again", { check: name, was: failing });
    failing = error;
  };
  checks.register({
    name,
    ttlMs: o.ttlMs,
    timeoutMs: o.timeoutMs,
    run: async (signal) => {
      const startedAt = clock.now();
      // getbalance unreachable: a free res.php call about a task that does not exist tells whether
      // the rest of the upstream answers (any protocol answer does), so a broken getbalance alone
      // leaves the dependency degraded without making an idle worker unready. It is sent when
      // getbalance failed, or already when it is slow to answer (so a hang costs no extra timeout);
      // it runs on its own timeout, since this check's own may have ended it.
      let probe: Promise<boolean> | undefined;
      const startProbe = () => (probe ??= client.poll(PROBE_TASK_ID).then((answer) => answer.kind !== "transient"));
      const hedge = clock.setTimeout(() => void startProbe(), PROBE_AFTER_MS);
      const outcome = await client.balance(signal);
      hedge.cancel();
      const taskPathAnswered = outcome.kind === "transient" ? await startProbe() : undefined;
      pool.balanceObserved(outcome, startedAt, taskPathAnswered, o.provider);
      if (outcome.kind === "ok") {
        noteFailure(undefined);
        return { observedValue: outcome.value, observedUnit: "USD" };
      }
      const error = balanceFailure(outcome);
      noteFailure(error);
      throw new WorkerError("ERR_CHECK_FAILED", error);
    },
  });
}
