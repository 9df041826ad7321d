/**
 * The product's metrics (SPEC §9). Counters and histograms are fed by events (task ends, upstream
 * calls); gauges derive from state at scrape time. Label values come from closed sets only (task
 * types, outcomes, endpoints, check names), never from task ids or free text.
 */
import type { Config } from "../config/config.ts";
import type { HealthView } from "../health/health_view.ts";
import type { Task } from "../tasks/task.ts";
import { TASK_TYPES } from "../tasks/task.ts";
import { VERSION } from "../base/version.ts";
import type { Endpoint, OutcomeKind } from "../upstream/endpoints.ts";
import type { Registry } from "./registry.ts";

/** Seconds to minutes: a token solve takes 10-60 s, an image 5-20 s, the task timeout 180 s. */
export const SOLVE_BUCKETS_S = [1, 2.5, 5, 7.5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 300];
/** Milliseconds to seconds, for one upstream HTTP call. */
export const UPSTREAM_BUCKETS_S = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export interface WorkerMetrics {
  taskEnded(task: Task): void;
  upstreamCall(endpoint: Endpoint, outcome: OutcomeKind, durationMs: number): void;
}

export function registerWorkerMetrics(registry: Registry, view: HealthView, config: Config): WorkerMetrics {
  const tasks = registry.counter("captcha_worker_tasks_total", "Tasks that ended, by type and outcome (solved, or the failure code class).", ["type", "outcome"]);
  for (const type of TASK_TYPES) for (const outcome of ["solved", "failed", "timeout", "shutdown"]) tasks.init({ type, outcome });
  const solve = registry.histogram("captcha_worker_solve_duration_seconds", "Time from acceptance to solution of solved tasks.", ["type"], SOLVE_BUCKETS_S);
  const requests = registry.counter("captcha_worker_upstream_requests_total", "Upstream HTTP calls by endpoint and classified outcome.", ["endpoint", "outcome"]);
  const latency = registry.histogram("captcha_worker_upstream_request_duration_seconds", "Upstream HTTP call duration.", ["endpoint"], UPSTREAM_BUCKETS_S);

  // One readiness evaluation per scrape feeds every gauge below.
  let r = view.evaluate();
  registry.gauge("captcha_worker_ready", "1 when /health/ready passes.", [], (set) => {
    r = view.evaluate();
    set(undefined, r.ready ? 1 : 0);
  });
  registry.gauge("captcha_worker_live", "1 when /health/live passes.", [], (set) => set(undefined, view.live().ok ? 1 : 0));
  registry.gauge("captcha_worker_queue_depth", "Tasks waiting to be submitted.", [], (set) => set(undefined, r.snapshot.queueDepth));
  registry.gauge("captcha_worker_in_flight", "Tasks holding an upstream thread.", [], (set) => set(undefined, r.snapshot.inFlight));
  registry.gauge("captcha_worker_balance_usd", "Last known CaptchaAI balance.", [], (set) => {
    if (r.balanceUsd !== undefined) set(undefined, r.balanceUsd);
  });
  registry.gauge("captcha_worker_balance_age_seconds", "Age of the last known balance.", [], (set) => {
    if (r.balanceAgeMs !== undefined) set(undefined, r.balanceAgeMs / 1000);
  });
  registry.gauge("captcha_worker_consecutive_failures", "Task failures in a row charged to the worker.", [], (set) =>
    set(undefined, r.snapshot.consecutiveFailures),
  );
  registry.gauge("captcha_worker_seconds_since_last_solve", "Seconds since the last solve (since start before the first).", [], (set) =>
    set(undefined, (r.snapshot.msSinceLastSolve ?? r.snapshot.uptimeMs) / 1000),
  );
  registry.gauge("captcha_worker_error_rate", "Failure ratio over --error-window.", [], (set) => set(undefined, r.snapshot.errorRate));
  registry.gauge("captcha_worker_circuit_open", "1 while the upstream circuit breaker is open.", [], (set) =>
    set(undefined, r.snapshot.circuit === "open" ? 1 : 0),
  );
  registry.gauge("captcha_worker_check_status", "Dependency check status: 1 ok, 0.5 degraded, 0 down.", ["check"], (set) => {
    for (const c of view.dependencies()) set({ check: c.name }, c.status === "ok" ? 1 : c.status === "degraded" ? 0.5 : 0);
  });
  const thresholds: Record<string, number> = {
    max_consecutive_failures: config.maxConsecutiveFailures,
    max_seconds_without_solve: config.maxSecondsWithoutSolveMs / 1000,
    min_balance: config.minBalanceUsd,
    max_error_rate: config.maxErrorRate,
    queue_max: config.queueMax,
    threads: config.threads,
  };
  registry.gauge("captcha_worker_threshold", "Configured readiness thresholds, for alerts and dashboards.", ["name"], (set) => {
    for (const [name, value] of Object.entries(thresholds)) set({ name }, value);
  });
  registry.gauge("captcha_worker_build_info", "Build information.", ["version", "node"], (set) => set({ version: VERSION, node: process.version }, 1));

  return {
    taskEnded(task) {
      const outcome = task.status === "solved" ? "solved" : task.error?.code === "timeout" || task.error?.code === "shutdown" ? task.error.code : "failed";
      tasks.inc({ type: task.type, outcome });
      if (task.status === "solved" && task.endedAt !== undefined) solve.observe({ type: task.type }, (task.endedAt - task.createdAt) / 1000);
    },
    upstreamCall(endpoint, outcome, durationMs) {
      requests.inc({ endpoint, outcome });
      latency.observe({ endpoint }, durationMs / 1000);
    },
  };
}
