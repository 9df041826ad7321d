import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  formatIssue,
  isIssue,
  isWarning,
  ISSUE_KINDS,
  parseIssue,
  unhandledKind,
  WARNING_KINDS,
  type FindingKind,
  type ReadinessFinding,
} from "../../../src/health/readiness_issue.ts";

type Of<K extends FindingKind> = Extract<ReadinessFinding, { kind: K }>;

/**
 * Every kind with its values and the exact text the health documents, systemd's STATUS=, the
 * HAProxy agent and the logs carry (docs/health.md's readiness table). A mapped type: a kind added to
 * readiness_issue.ts does not compile here until it has its rows.
 */
const CONTRACT: { [K in FindingKind]: [Of<K>, string][] } = {
  starting: [[{ kind: "starting" }, "starting"]],
  draining: [[{ kind: "draining" }, "draining"]],
  upstream_auth: [
    [{ kind: "upstream_auth", code: "ERROR_WRONG_USER_KEY" }, "upstream_auth=ERROR_WRONG_USER_KEY"],
    [{ kind: "upstream_auth", code: "IP_BANNED" }, "upstream_auth=IP_BANNED"],
  ],
  upstream_unreachable: [[{ kind: "upstream_unreachable" }, "upstream_unreachable"]],
  circuit_open: [[{ kind: "circuit_open" }, "circuit_open"]],
  consecutive_failures: [[{ kind: "consecutive_failures", failures: 10 }, "consecutive_failures=10"]],
  no_solve_for: [
    [{ kind: "no_solve_for", waitedMs: 601_000 }, "no_solve_for=601s"],
    [{ kind: "no_solve_for", waitedMs: 601_999 }, "no_solve_for=601s"],
  ],
  low_balance: [
    [{ kind: "low_balance", balanceUsd: 0.42 }, "low_balance=$0.42"],
    [{ kind: "low_balance", balanceUsd: 0.421 }, "low_balance=$0.42"],
    [{ kind: "low_balance", balanceUsd: 0 }, "low_balance=$0.00"],
    [{ kind: "low_balance", balanceUsd: -0.5 }, "low_balance=$-0.50"],
  ],
  error_rate: [
    [{ kind: "error_rate", rate: 0.55 }, "error_rate=0.550"],
    [{ kind: "error_rate", rate: 2 / 3 }, "error_rate=0.667"],
    [{ kind: "error_rate", rate: 1 }, "error_rate=1.000"],
  ],
  backlog: [[{ kind: "backlog", waitedMs: 120_001 }, "backlog=120s"]],
  queue_full: [[{ kind: "queue_full", depth: 1000 }, "queue_full=1000"]],
  state_dir: [
    [{ kind: "state_dir", reason: "EACCES" }, "state_dir=EACCES"],
    [{ kind: "state_dir", reason: "ENOSPC: no space left on device, write" }, "state_dir=ENOSPC: no space left on device, write"],
  ],
  queue_wait: [[{ kind: "queue_wait", waitedMs: 75_400 }, "queue_wait=75s"]],
  saturation: [
    [{ kind: "saturation", ratio: 0.3 }, "saturation=0.300"],
    [{ kind: "saturation", ratio: 1 }, "saturation=1.000"],
  ],
  provider_down: [
    [{ kind: "provider_down", provider: "paid", reason: "upstream_auth=ERROR_KEY_DOES_NOT_EXIST" }, "provider_down=paid:upstream_auth=ERROR_KEY_DOES_NOT_EXIST"],
    [{ kind: "provider_down", provider: "spare", reason: "budget" }, "provider_down=spare:budget"],
  ],
};

const ROWS = Object.values(CONTRACT).flat() as [ReadinessFinding, string][];

describe("readiness issues", () => {
  test("formatIssue writes each kind as the contract names it, byte for byte", () => {
    for (const [issue, text] of ROWS) assert.equal(formatIssue(issue), text, JSON.stringify(issue));
  });

  test("parseIssue reads each text back to its kind, and formatting it again gives the same text", () => {
    for (const [issue, text] of ROWS) {
      const parsed = parseIssue(text);
      assert.equal(parsed?.kind, issue.kind, text);
      assert.equal(formatIssue(parsed!), text);
    }
    assert.deepEqual(parseIssue("low_balance=$0.42"), { kind: "low_balance", balanceUsd: 0.42 });
    assert.deepEqual(parseIssue("no_solve_for=601s"), { kind: "no_solve_for", waitedMs: 601_000 });
    assert.deepEqual(parseIssue("state_dir=a=b"), { kind: "state_dir", reason: "a=b" }, "only the first '=' separates");
  });

  test("parseIssue refuses what formatIssue never writes: unknown kinds, values on bare kinds, values of the wrong shape", () => {
    for (const text of [
      "", "=1", "kind0=1", "constructor", "toString=1", "circuit_open=1", "starting=", "upstream_auth",
      "low_balance=0.42", "low_balance=$", "queue_full=many", "queue_full=-1", "consecutive_failures=1.5",
      "no_solve_for=601", "backlog=s", "error_rate=high", "saturation=", "<script>",
    ]) {
      assert.equal(parseIssue(text), undefined, text);
    }
  });

  test("every kind is in the table, and each is an issue or a warning; only provider_down is both (a warning while another provider serves)", () => {
    assert.deepEqual(Object.keys(CONTRACT).sort(), [...new Set([...ISSUE_KINDS, ...WARNING_KINDS])].sort());
    assert.deepEqual(WARNING_KINDS.toSorted(), ["provider_down", "queue_wait", "saturation"]);
    for (const [issue] of ROWS) {
      if (issue.kind === "provider_down") assert.ok(isIssue(issue) && isWarning(issue));
      else assert.notEqual(isIssue(issue), isWarning(issue), issue.kind);
    }
  });

  test("a switch that leaves a kind out does not compile (checked by tsc), and throws if reached anyway", () => {
    const partial = (f: ReadinessFinding): string => {
      switch (f.kind) {
        case "starting":
          return "starting";
        default:
          // @ts-expect-error: every other kind is still possible here, so `f` is not `never`
          return unhandledKind(f);
      }
    };
    assert.equal(partial({ kind: "starting" }), "starting");
    assert.throws(() => partial({ kind: "circuit_open" }), /unhandled readiness kind: \{"kind":"circuit_open"\}/);
  });
});
