/** A /health/ready document of a worker not ready for two reasons, for the status report's tests. */
import type { ReadyDocument } from "../../src/health/health_documents.ts";

export const READY_DOC: ReadyDocument = {
  status: "not_ready",
  state: "not_ready",
  issues: ["low_balance=$0.42", "circuit_open"],
  warnings: [],
  stats: { solved: 90, failed: 10, success_rate: 0.9, error_rate: 0.1, balance: 0.42, balance_age_s: 75, queue_depth: 3, in_flight: 2, window_s: 300, window_outcomes: 40, window_failed: 4, oldest_queued_s: 0, saturation: 0 },
  thresholds: { max_consecutive_failures: 10, max_seconds_without_solve: 600, min_balance: 1, max_error_rate: 0.5, queue_max: 1000, max_queue_wait: 60, max_saturation: 0.1 },
};
