/**
 * The worker tries again by itself what costs nothing to try: while readiness fails for a reason a
 * balance check can settle (the upstream unreachable or its circuit open, the key refused, the
 * balance low), it re-reads the balance instead of waiting for the balance TTL or a client's task,
 * so recovery follows the upstream within about a second. The check is single flight: a hung one
 * is joined, not repeated. Transport trouble is tried every second for as long as it lasts; a low
 * balance every second for its first minute, then less and less often (doubling to a minute), and
 * `IP_BANNED` once a minute from the start. A refused key is tried twice a second apart (a blip
 * passes within seconds), then every 20 s, doubling to a minute: CaptchaAI and 2captcha ban an
 * address for 5 minutes after 5 bad keys in a minute, so asking every second turned a key mistake
 * fixed within a minute into a 5-minute outage; a new key is tried at once by the reload (or the
 * key file's change) that brings it. At a provider that bans for a low balance too (`guarded`:
 * 2captcha-style APIs) account trouble is never tried eagerly: every 20 s at first, doubling to a minute.
 */
import type { Clock, Timer } from "../base/clock.ts";
import type { Readiness } from "./health_view.ts";
import { unhandledKind, type ReadinessIssue } from "./readiness_issue.ts";

/** A low balance is tried every second for this long, then the pause doubles. */
export const ACCOUNT_EAGER_MS = 60_000;
/** A refused key is tried this many times a second apart, then as at a guarded provider. */
export const KEY_EAGER_TRIALS = 2;
export const ACCOUNT_MAX_PAUSE_MS = 60_000;
/** A guarded provider's first pause after an account trial. */
export const GUARDED_PAUSE_MS = 20_000;

export interface RecoveryTrialsOptions {
  clock: Clock;
  evaluate: () => Pick<Readiness, "issues">;
  /** Runs the balance check now (single flight). */
  trial: () => Promise<void>;
  /** @default 1000 */
  everyMs?: number;
  /** The upstream bans an address that keeps asking with a refused key (2captcha-style): no eager minute. */
  guarded?: boolean;
}

export type TrialNeed = "transport" | "key" | "account" | "banned";

/**
 * What one issue calls for: transport trouble a trial every tick, a refused key or a low balance a
 * restrained one, a banned address one a minute; undefined for what a balance check cannot settle.
 */
function needOf(issue: ReadinessIssue): TrialNeed | undefined {
  switch (issue.kind) {
    case "upstream_unreachable":
    case "circuit_open":
      return "transport";
    case "upstream_auth":
      return issue.code === "IP_BANNED" ? "banned" : "key";
    case "low_balance":
      return "account";
    case "starting":
    case "draining":
    case "consecutive_failures":
    case "no_solve_for":
    case "error_rate":
    case "backlog":
    case "queue_full":
    case "state_dir":
    // Each provider's own trials re-check it (one RecoveryTrials per provider, over its own issues).
    case "provider_down":
      return undefined;
    default:
      return unhandledKind(issue);
  }
}

/** Most urgent first: transport trouble is tried every second whatever else holds. */
const URGENCY: readonly TrialNeed[] = ["transport", "banned", "key", "account"];

/** What `issues` call for: a trial every tick, a restrained one, or none. */
export function trialNeed(issues: readonly ReadinessIssue[]): TrialNeed | undefined {
  const needs = new Set(issues.map(needOf));
  return URGENCY.find((n) => needs.has(n));
}

/** The pause after an account trial (the spell's tries so far, since when, and its last pause). */
function pauseAfter(need: "account" | "key" | "banned", spell: { since: number; tries: number; pauseMs: number }, now: number, everyMs: number, guarded: boolean): number {
  if (need === "banned") return ACCOUNT_MAX_PAUSE_MS;
  if (!guarded && need === "key" && spell.tries < KEY_EAGER_TRIALS) return everyMs;
  // A refused key past its eager tries waits as at a guarded provider: 20 s, then doubling.
  if (!guarded && need === "key" && spell.tries === KEY_EAGER_TRIALS) return GUARDED_PAUSE_MS;
  if (!guarded && need === "account" && now - spell.since < ACCOUNT_EAGER_MS) return everyMs;
  return Math.min(ACCOUNT_MAX_PAUSE_MS, spell.pauseMs * 2);
}

/** Starts the trials' timer; stop() ends it for good. */
export function startRecoveryTrials(o: RecoveryTrialsOptions): { stop(): void } {
  const everyMs = o.everyMs ?? 1000;
  let timer: Timer | undefined;
  let stopped = false;
  /** Since when account trouble (alone) has been tried, how often, and when the next try is due. */
  let account: { since: number; tries: number; pauseMs: number; nextAt: number } | undefined;
  const tick = () => {
    timer = undefined;
    if (stopped) return;
    const now = o.clock.now();
    const need = trialNeed(o.evaluate().issues);
    if (need === "transport") void o.trial();
    if (need === "account" || need === "key" || need === "banned") {
      account ??= { since: now, tries: 0, pauseMs: need === "banned" ? ACCOUNT_MAX_PAUSE_MS : o.guarded ? GUARDED_PAUSE_MS / 2 : everyMs, nextAt: now };
      if (now >= account.nextAt) {
        void o.trial();
        account.tries++;
        account.pauseMs = pauseAfter(need, account, now, everyMs, o.guarded === true);
        account.nextAt = now + account.pauseMs;
      }
    } else if (need === undefined) {
      // Only its end starts a spell afresh: a transport blip between refusals (its trial answered
      // with the key refused again) must not bring two eager tries more (five bad keys a minute ban).
      account = undefined;
    }
    timer = o.clock.setTimeout(tick, everyMs);
  };
  timer = o.clock.setTimeout(tick, everyMs);
  return {
    stop() {
      stopped = true;
      timer?.cancel();
      timer = undefined;
    },
  };
}
