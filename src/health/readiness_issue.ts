/**
 * Readiness issues and warnings as typed values: the readiness rules produce them, the parts that act
 * on them (admission, the recovery trials, the notifier, the status page) switch on `kind`, and only
 * the edges that print them (the health documents, the status page, systemd's STATUS=, the HAProxy
 * agent's reason, the log) turn them into text with `formatIssue`, the one place that writes the
 * texts of docs/health.md's table "Readiness: states, issues and the way back from each". `parseIssue`
 * reads such a text back, for documents that arrive as JSON (`captcha-worker status`). A kind added here makes the compiler list every `switch`
 * that has to say what it means.
 */

/** Why readiness fails (/health/ready answers 503 while any holds), most fundamental first. */
export type ReadinessIssue =
  | { kind: "starting" }
  | { kind: "draining" }
  /** The upstream refused the key or the address: its error code (`ERROR_WRONG_USER_KEY`, `IP_BANNED`). */
  | { kind: "upstream_auth"; code: string }
  | { kind: "upstream_unreachable" }
  | { kind: "circuit_open" }
  | { kind: "consecutive_failures"; failures: number }
  /** Work waits and nothing was solved for this long. */
  | { kind: "no_solve_for"; waitedMs: number }
  | { kind: "low_balance"; balanceUsd: number }
  /** The share of failures in the error window, 0 to 1. */
  | { kind: "error_rate"; rate: number }
  /** The oldest queued task has waited this long (more than twice --max-queue-wait). */
  | { kind: "backlog"; waitedMs: number }
  | { kind: "queue_full"; depth: number }
  /** The journal in --state-dir cannot be written: the error. */
  | { kind: "state_dir"; reason: string }
  /** With several providers, none can take work: each one's reason (docs/providers.md). */
  | ProviderDown;

/** One of several providers cannot take work: its name and its first reason (`paid:upstream_auth=ERROR_KEY_DOES_NOT_EXIST`, `spare:budget`). */
export interface ProviderDown {
  kind: "provider_down";
  provider: string;
  reason: string;
}

/** Worth a `warn` on /health and a lower HAProxy weight, not a 503. */
export type ReadinessWarning =
  /** The oldest queued task has waited this long (more than --max-queue-wait). */
  | { kind: "queue_wait"; waitedMs: number }
  /** The share of the error window the thread plan was full while work waited, 0 to 1. */
  | { kind: "saturation"; ratio: number }
  /** One provider cannot take work while another can (docs/providers.md). */
  | ProviderDown;

export type IssueKind = ReadinessIssue["kind"];
export type WarningKind = ReadinessWarning["kind"];
/** An issue or a warning: what the formatter and the parser take. */
export type ReadinessFinding = ReadinessIssue | ReadinessWarning;
export type FindingKind = ReadinessFinding["kind"];

/** Every kind, issue or warning or both (a Record, so the compiler insists on each). */
const FINDING_KINDS: Record<FindingKind, "issue" | "warning" | "both"> = {
  starting: "issue",
  draining: "issue",
  upstream_auth: "issue",
  upstream_unreachable: "issue",
  circuit_open: "issue",
  consecutive_failures: "issue",
  no_solve_for: "issue",
  low_balance: "issue",
  error_rate: "issue",
  backlog: "issue",
  queue_full: "issue",
  state_dir: "issue",
  provider_down: "both",
  queue_wait: "warning",
  saturation: "warning",
};

export const ISSUE_KINDS = Object.keys(FINDING_KINDS).filter((k) => FINDING_KINDS[k as FindingKind] !== "warning") as IssueKind[];
export const WARNING_KINDS = Object.keys(FINDING_KINDS).filter((k) => FINDING_KINDS[k as FindingKind] !== "issue") as WarningKind[];

/** For the `default` of an exhaustive `switch`: the compiler rejects the call while a kind is left unhandled. */
export function unhandledKind(value: never): never {
  throw new Error(`unhandled readiness kind: ${JSON.stringify(value)}`);
}

const seconds = (ms: number) => `${Math.floor(ms / 1000)}s`;

/** The issue's text as the health documents carry it: `low_balance=$0.42`, `circuit_open`, `queue_wait=75s`. */
export function formatIssue(issue: ReadinessFinding): string {
  switch (issue.kind) {
    case "starting":
    case "draining":
    case "upstream_unreachable":
    case "circuit_open":
      return issue.kind;
    case "upstream_auth":
      return `upstream_auth=${issue.code}`;
    case "consecutive_failures":
      return `consecutive_failures=${issue.failures}`;
    case "no_solve_for":
      return `no_solve_for=${seconds(issue.waitedMs)}`;
    case "low_balance":
      return `low_balance=$${issue.balanceUsd.toFixed(2)}`;
    case "error_rate":
      return `error_rate=${issue.rate.toFixed(3)}`;
    case "backlog":
      return `backlog=${seconds(issue.waitedMs)}`;
    case "queue_full":
      return `queue_full=${issue.depth}`;
    case "state_dir":
      return `state_dir=${issue.reason}`;
    case "queue_wait":
      return `queue_wait=${seconds(issue.waitedMs)}`;
    case "saturation":
      return `saturation=${issue.ratio.toFixed(3)}`;
    case "provider_down":
      return `provider_down=${issue.provider}:${issue.reason}`;
    default:
      return unhandledKind(issue);
  }
}

const isFindingKind = (s: string): s is FindingKind => Object.hasOwn(FINDING_KINDS, s);

/** Whether a finding is an issue (fails readiness) rather than a warning. */
export const isIssue = (f: ReadinessFinding): f is ReadinessIssue => FINDING_KINDS[f.kind] !== "warning";
export const isWarning = (f: ReadinessFinding): f is ReadinessWarning => FINDING_KINDS[f.kind] !== "issue";
const WHOLE = /^\d+$/;
const DECIMAL = /^\d+(?:\.\d+)?$/;
const SECONDS = /^(\d+)s$/;
const DOLLARS = /^\$(-?\d+(?:\.\d+)?)$/;

/**
 * The typed value of an issue or warning text as `formatIssue` writes it; undefined for any other
 * text (a kind this version does not know, a value of the wrong shape). Values come back at the
 * text's precision: `formatIssue(parseIssue(s))` is `s` for every text `formatIssue` writes.
 */
export function parseIssue(text: string): ReadinessFinding | undefined {
  const eq = text.indexOf("=");
  const kind = eq < 0 ? text : text.slice(0, eq);
  const value = eq < 0 ? undefined : text.slice(eq + 1);
  if (!isFindingKind(kind)) return undefined;
  const whole = value !== undefined && WHOLE.test(value) ? Number(value) : undefined;
  const decimal = value !== undefined && DECIMAL.test(value) ? Number(value) : undefined;
  const secs = value?.match(SECONDS)?.[1];
  const secondsMs = secs === undefined ? undefined : Number(secs) * 1000;
  switch (kind) {
    case "starting":
    case "draining":
    case "upstream_unreachable":
    case "circuit_open":
      return value === undefined ? { kind } : undefined;
    case "upstream_auth":
      return value === undefined ? undefined : { kind, code: value };
    case "state_dir":
      return value === undefined ? undefined : { kind, reason: value };
    case "consecutive_failures":
      return whole === undefined ? undefined : { kind, failures: whole };
    case "queue_full":
      return whole === undefined ? undefined : { kind, depth: whole };
    case "no_solve_for":
    case "backlog":
    case "queue_wait":
      return secondsMs === undefined ? undefined : { kind, waitedMs: secondsMs };
    case "low_balance": {
      const usd = value?.match(DOLLARS)?.[1];
      return usd === undefined ? undefined : { kind, balanceUsd: Number(usd) };
    }
    case "error_rate":
      return decimal === undefined ? undefined : { kind, rate: decimal };
    case "saturation":
      return decimal === undefined ? undefined : { kind, ratio: decimal };
    case "provider_down": {
      const colon = value?.indexOf(":") ?? -1;
      return value === undefined || colon < 1 || colon === value.length - 1 ? undefined : { kind, provider: value.slice(0, colon), reason: value.slice(colon + 1) };
    }
    default:
      return unhandledKind(kind);
  }
}
