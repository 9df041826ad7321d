/** Typed readiness issues written as the documents carry them, for tests: `issues("low_balance=$0.42", "circuit_open")`. */
import { isIssue, parseIssue, type ReadinessIssue } from "../../src/health/readiness_issue.ts";

export function issues(...texts: string[]): ReadinessIssue[] {
  return texts.map((text) => {
    const f = parseIssue(text);
    if (f === undefined || !isIssue(f)) throw new Error(`not a readiness issue: ${text}`);
    return f;
  });
}
