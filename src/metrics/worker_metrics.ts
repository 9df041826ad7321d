/**
 * The product's metrics (docs/metrics.md). Counters and histograms are fed by events (task ends, upstream
 * calls); gauges derive from state at scrape time. Label values come from closed sets only (task
 * types, outcomes, endpoints, check names), never from task ids or free text.
 */
import type { Config } from "../config/config.ts";
import { checkStatusForms } from "../health/check_status.ts";
import type { HealthState, HealthView } from "../health/health_view.ts";
import { READINESS_STATES, type ReadinessState } from "../health/readiness.ts";
import type { Task } from "../tasks/task.ts";
import { TASK_TYPES } from "../tasks/task_catalogue.ts";
import { registryRow } from "../base/error_registry.ts";
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

export interface WorkerMetricsOptions {
  view: Pick<HealthView, "state">;
  /** The readiness state changes so far, by the state entered. */
  readinessChanges?: () => Readonly<Record<ReadinessState, number>>;
  config: Pick<Config, "maxConsecutiveFailures" | "maxWithoutSolveMs" | "minBalanceUsd" | "maxErrorRate" | "queueMax" | "threads" | "maxQueueWaitMs" | "maxSaturation">;
  /** For build_info, e.g. "v24.21.0". */
  nodeVersion: string;
  /** Processes refused the --state-dir since start (the lines they appended to its `.refused`). @default always 0 */
  stateDirRefusals?: () => number;
  /** Tasks the upstream refused as unsupported since start, by type and code. @default none */
  unsupported?: () => readonly { type: string; code: string; count: number }[];
}

export function registerWorkerMetrics(registry: Registry, o: WorkerMetricsOptions): WorkerMetrics {
  const { view, config } = o;
  const tasks = registry.counter("captcha_worker_tasks_total", "Tasks that ended, by type and outcome (solved, or the failure code class).", ["type", "outcome"]);
  for (const type of TASK_TYPES) for (const outcome of ["solved", "failed", "timeout", "shutdown"]) tasks.init({ type, outcome });
  const failures = registry.counter(
    "captcha_worker_task_failures_total",
    "Failed tasks by type, code (an upstream code the worker knows, timeout, shutdown, SUBMIT_UNCERTAIN, journal, or other) and blame (worker: counts toward readiness; client: the client's input; none: a shutdown, a restore or a task the journal could not record).",
    ["type", "code", "blame"],
  );
  for (const type of TASK_TYPES) {
    failures.init({ type, code: "timeout", blame: "worker" });
    failures.init({ type, code: "shutdown", blame: "none" });
  }
  const solve = registry.histogram("captcha_worker_solve_duration_seconds", "Time from acceptance to solution of solved tasks.", ["type"], SOLVE_BUCKETS_S);
  const requests = registry.counter("captcha_worker_upstream_requests_total", "Upstream HTTP calls by endpoint and classified outcome.", ["endpoint", "outcome"]);
  const latency = registry.histogram("captcha_worker_upstream_request_duration_seconds", "Upstream HTTP call duration.", ["endpoint"], UPSTREAM_BUCKETS_S);

  // Always present (0 without --state-dir), so the alert on it reads the same everywhere.
  registry.counterFn("captcha_worker_state_dir_refusals_total", "Processes refused this worker's --state-dir (another instance started on it) since it started.", (set) =>
    set(undefined, o.stateDirRefusals?.() ?? 0),
  );

  // Always present: a type the upstream stops taking shows here (and on the status page), never in readiness.
  registry.counterFn(
    "captcha_worker_unsupported_total",
    "Tasks failed because the upstream does not take their type (ERROR_METHOD_CALL, ERROR_TASK_NOT_SUPPORTED, ...), by type and code; charged to nobody.",
    (set) => {
      for (const c of o.unsupported?.() ?? []) set({ type: c.type, code: c.code }, c.count);
    },
    ["type", "code"],
  );

  // One pure evaluation per scrape, taken before any family renders, feeds every gauge below.
  let state: HealthState | undefined;
  registry.beforeRender(() => {
    state = view.state();
  });
  const gauge = (name: string, help: string, read: (s: HealthState) => number | undefined) =>
    registry.gauge(name, help, [], (set) => {
      const v = state === undefined ? undefined : read(state);
      if (v !== undefined) set(undefined, v);
    });
  gauge("captcha_worker_ready", "1 when /health/ready passes.", (s) => (s.readiness.ready ? 1 : 0));
  gauge("captcha_worker_live", "1 when /health/live passes.", (s) => (s.live.ok ? 1 : 0));
  gauge("captcha_worker_queue_depth", "Tasks waiting to be submitted.", (s) => s.readiness.snapshot.queueDepth);
  gauge("captcha_worker_in_flight", "Tasks holding an upstream thread.", (s) => s.readiness.snapshot.inFlight);
  gauge("captcha_worker_balance_usd", "Last known upstream balance (with a providers file: the first provider's in use that has one).", (s) => s.readiness.balanceUsd);
  gauge("captcha_worker_balance_age_seconds", "Age of the last known balance.", (s) =>
    s.readiness.balanceAgeMs === undefined ? undefined : s.readiness.balanceAgeMs / 1000,
  );
  gauge("captcha_worker_consecutive_failures", "Task failures in a row charged to the worker (with several providers: the longest of one provider's).", (s) => s.readiness.snapshot.consecutiveFailures);
  gauge("captcha_worker_seconds_since_last_solve", "Seconds since the last solve (since start before the first).", (s) =>
    (s.readiness.snapshot.msSinceLastSolve ?? s.readiness.snapshot.uptimeMs) / 1000,
  );
  gauge("captcha_worker_error_rate", "Failure ratio over --error-window.", (s) => s.readiness.snapshot.errorRate);
  gauge("captcha_worker_circuit_open", "1 while the upstream circuit breaker is open (with several providers: any provider's; half-open: on probation, 0).", (s) => (s.readiness.snapshot.circuit === "open" ? 1 : 0));
  registry.gauge("captcha_worker_readiness_state", "1 for the readiness state the worker is in (starting, ready, probation, not_ready, draining).", ["state"], (set) => {
    if (state !== undefined) for (const s of READINESS_STATES) set({ state: s }, state.readiness.state === s ? 1 : 0);
  });
  gauge("captcha_worker_oldest_queued_seconds", "How long the oldest waiting task has waited, one out submitting included (0 when none waits).", (s) =>
    Math.max(0, s.readiness.snapshot.oldestQueuedAgeMs / 1000),
  );
  gauge("captcha_worker_saturation_ratio", "Share of --error-window the thread plan was full while work waited (the fullest plan's).", (s) => s.readiness.snapshot.saturation);
  if (o.readinessChanges) {
    const changes = o.readinessChanges;
    registry.counterFn("captcha_worker_readiness_changes_total", "Readiness state changes, by the state entered.", (set) => {
      for (const [to, n] of Object.entries(changes())) set({ to }, n);
    }, ["to"]);
  }
  registry.gauge("captcha_worker_check_status", "Dependency check status: 1 ok, 0.5 degraded, 0 down.", ["check"], (set) => {
    for (const c of state?.checks ?? []) set({ check: c.name }, checkStatusForms(c.status).metricValue);
  });
  const thresholds: Record<string, number> = {
    max_consecutive_failures: config.maxConsecutiveFailures,
    max_seconds_without_solve: config.maxWithoutSolveMs / 1000,
    min_balance: config.minBalanceUsd,
    max_error_rate: config.maxErrorRate,
    queue_max: config.queueMax,
    threads: config.threads,
    max_queue_wait: config.maxQueueWaitMs / 1000,
    max_saturation: config.maxSaturation,
  };
  registry.gauge("captcha_worker_threshold", "Configured readiness thresholds, for alerts and dashboards.", ["name"], (set) => {
    for (const [name, value] of Object.entries(thresholds)) set({ name }, value);
  });
  registry.gauge("captcha_worker_build_info", "Build information.", ["version", "node"], (set) => set({ version: VERSION, node: o.nodeVersion }, 1));

  return {
    taskEnded(task) {
      const outcome = task.status === "solved" ? "solved" : task.error?.code === "timeout" || task.error?.code === "shutdown" ? task.error.code : "failed";
      tasks.inc({ type: task.type, outcome });
      if (task.status === "failed" && task.error) failures.inc({ type: task.type, code: failureCodeLabel(task.error.code), blame: task.error.blame ?? "none" });
      if (task.status === "solved" && task.endedAt !== undefined) solve.observe({ type: task.type }, (task.endedAt - task.createdAt) / 1000);
    },
    upstreamCall(endpoint, outcome, durationMs) {
      requests.inc({ endpoint, outcome });
      latency.observe({ endpoint }, durationMs / 1000);
    },
  };
}

/** A failure code as a label value: registered codes as they are, anything else (upstream free text) `other`. */
export function failureCodeLabel(code: string): string {
  const row = registryRow(code);
  return (row?.family === "task" && !row.relayed) || (row?.family === "protocol" && row.upstream !== undefined) ? code : "other";
}
