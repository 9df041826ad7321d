/**
 * The process set, read at scrape time: CPU, resident memory, start time, open fds, heap, and the
 * event loop's delay from perf_hooks.monitorEventLoopDelay, reported honestly as delay (the max and
 * p99 seen since the previous scrape, then the histogram resets).
 */
import { readdirSync } from "node:fs";
import { monitorEventLoopDelay } from "node:perf_hooks";
import type { Registry } from "./registry.ts";

export interface ProcessMetrics {
  stop(): void;
}

export function registerProcessMetrics(registry: Registry, startTimeMs: number): ProcessMetrics {
  const loop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
  loop.enable();
  registry.counterFn("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", (set) => {
    const u = process.cpuUsage();
    set(undefined, (u.user + u.system) / 1e6);
  });
  registry.gauge("process_resident_memory_bytes", "Resident memory size in bytes.", [], (set) => set(undefined, process.memoryUsage.rss()));
  registry.gauge("process_start_time_seconds", "Start time of the process since unix epoch in seconds.", [], (set) =>
    set(undefined, Math.floor(startTimeMs / 1000)),
  );
  registry.gauge("process_open_fds", "Number of open file descriptors.", [], (set) => {
    try {
      set(undefined, readdirSync("/proc/self/fd").length - 1); // minus the one readdir holds
    } catch {
      // no /proc (not Linux): leave the series out rather than report a false 0
    }
  });
  registry.gauge("nodejs_heap_size_used_bytes", "V8 heap used in bytes.", [], (set) => set(undefined, process.memoryUsage().heapUsed));
  registry.gauge("nodejs_heap_size_total_bytes", "V8 heap size in bytes.", [], (set) => set(undefined, process.memoryUsage().heapTotal));
  // One read of the window serves both series; the second resets it for the next scrape.
  let windowMax = 0;
  registry.gauge("nodejs_eventloop_lag_seconds", "Event loop delay, p99 over the window since the previous scrape (monitorEventLoopDelay).", [], (set) => {
    windowMax = loop.count > 0 ? loopDelaySeconds(loop.max) : 0;
    set(undefined, loop.count > 0 ? loopDelaySeconds(loop.percentile(99)) : 0);
  });
  registry.gauge("nodejs_eventloop_lag_max_seconds", "Event loop delay, maximum over the window since the previous scrape.", [], (set) => {
    set(undefined, windowMax);
    loop.reset();
  });
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
