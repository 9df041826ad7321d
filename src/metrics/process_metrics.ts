/**
 * The process set, read at scrape time from the ProcessStats port: CPU, resident memory, start time,
 * open fds, heap, and the event loop's delay from perf_hooks.monitorEventLoopDelay, reported honestly
 * as delay (the p99 and max seen since the previous scrape, then the histogram resets).
 */
import { readdirSync } from "node:fs";
import { monitorEventLoopDelay } from "node:perf_hooks";
import type { MemoryUsage, ProcessStats } from "../base/process_stats.ts";
import type { Registry } from "./registry.ts";

export interface ProcessMetrics {
  stop(): void;
}

export interface ProcessMetricsOptions {
  stats: ProcessStats;
  /** When the process started, ms since the epoch. */
  startTimeMs: number;
  /** Open file descriptors. @default the entries of /proc/self/fd (undefined where there is no /proc) */
  openFds?: () => number | undefined;
}

export function registerProcessMetrics(registry: Registry, o: ProcessMetricsOptions): ProcessMetrics {
  const loop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
  loop.enable();
  const openFds = o.openFds ?? procOpenFds;
  // One read per scrape for the series that share a source; the loop window resets after it.
  let memory: MemoryUsage = { rss: 0, heapUsed: 0, heapTotal: 0 };
  let lagP99 = 0;
  let lagMax = 0;
  registry.beforeRender(() => {
    memory = o.stats.memoryUsage();
    lagP99 = loop.count > 0 ? loopDelaySeconds(loop.percentile(99)) : 0;
    lagMax = loop.count > 0 ? loopDelaySeconds(loop.max) : 0;
    loop.reset();
  });
  registry.counterFn("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", (set) => {
    const u = o.stats.cpuUsage();
    set(undefined, (u.user + u.system) / 1e6);
  });
  registry.gauge("process_resident_memory_bytes", "Resident memory size in bytes.", [], (set) => set(undefined, o.stats.rss()));
  registry.gauge("process_start_time_seconds", "Start time of the process since unix epoch in seconds.", [], (set) =>
    set(undefined, Math.floor(o.startTimeMs / 1000)),
  );
  registry.gauge("process_open_fds", "Number of open file descriptors.", [], (set) => {
    const n = openFds();
    if (n !== undefined) set(undefined, n); // no /proc (not Linux): leave the series out rather than report a false 0
  });
  registry.gauge("nodejs_heap_size_used_bytes", "V8 heap used in bytes.", [], (set) => set(undefined, memory.heapUsed));
  registry.gauge("nodejs_heap_size_total_bytes", "V8 heap size in bytes.", [], (set) => set(undefined, memory.heapTotal));
  registry.gauge("nodejs_eventloop_lag_seconds", "Event loop delay, p99 over the window since the previous scrape (monitorEventLoopDelay).", [], (set) =>
    set(undefined, lagP99),
  );
  registry.gauge("nodejs_eventloop_lag_max_seconds", "Event loop delay, maximum over the window since the previous scrape.", [], (set) =>
    set(undefined, lagMax),
  );
  return { stop: () => loop.disable() };
}

const LOOP_RESOLUTION_MS = 10;

/**
 * monitorEventLoopDelay records the time between its timer's runs, resolution included: an idle
 * loop reads about 10 ms. The delay is what lies beyond the resolution.
 */
export function loopDelaySeconds(recordedNs: number, resolutionMs = LOOP_RESOLUTION_MS): number {
  return Math.max(0, recordedNs - resolutionMs * 1e6) / 1e9;
}

function procOpenFds(): number | undefined {
  try {
    return readdirSync("/proc/self/fd").length - 1; // minus the one readdir holds
  } catch {
    return undefined;
  }
}
