/**
 * A dependency check's status and its three other spellings, written once: the health+json verdict
 * (draft-inadarei: pass/warn/fail), the captcha_worker_check_status metric value (docs/metrics.md: 1, 0.5, 0)
 * and the status page's mark. A status this worker does not know (from another version, over HTTP)
 * reads as down: a page must never show an unknown state as fine.
 */

export type CheckStatus = "ok" | "degraded" | "down";

/** draft-inadarei-api-health-check's status. */
export type Verdict = "pass" | "warn" | "fail";

/** What `status` and the status page print beside a row. */
export type Mark = "ok" | "warn" | "fail";

export interface CheckStatusForms {
  verdict: Verdict;
  metricValue: 1 | 0.5 | 0;
  mark: Mark;
}

const FORMS: Record<CheckStatus, CheckStatusForms> = {
  ok: { verdict: "pass", metricValue: 1, mark: "ok" },
  degraded: { verdict: "warn", metricValue: 0.5, mark: "warn" },
  down: { verdict: "fail", metricValue: 0, mark: "fail" },
};

/** The forms of `status`; anything but "ok" or "degraded" is down. */
export function checkStatusForms(status: string): CheckStatusForms {
  return status === "ok" || status === "degraded" ? FORMS[status] : FORMS.down;
}
