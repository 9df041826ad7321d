import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { ProcessStats } from "../../../src/base/process_stats.ts";
import { loopDelaySeconds, registerProcessMetrics } from "../../../src/metrics/process_metrics.ts";
import { Registry } from "../../../src/metrics/registry.ts";

function value(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(series + " "));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** Fixed process numbers, counting how often memory is read. */
function fakeStats() {
  const calls = { memoryUsage: 0 };
  const stats: ProcessStats = {
    cpuUsage: () => ({ user: 1_500_000, system: 500_000 }),
    memoryUsage: () => (calls.memoryUsage++, { rss: 1, heapUsed: 2048, heapTotal: 4096 }),
    rss: () => 123_456,
    pid: 4242,
    nodeVersion: "v0.0.0-test",
  };
  return { stats, calls };
}

describe("registerProcessMetrics", () => {
  test("registerProcessMetrics reads the ProcessStats port: CPU seconds, resident memory, heap, start time, fds", () => {
    const r = new Registry();
    const { stats, calls } = fakeStats();
    const m = registerProcessMetrics(r, { stats, startTimeMs: 1_700_000_000_900, openFds: () => 17 });
    try {
      const text = r.render();
      assert.equal(value(text, "process_cpu_seconds_total"), 2);
      assert.equal(value(text, "process_resident_memory_bytes"), 123_456);
      assert.equal(value(text, "nodejs_heap_size_used_bytes"), 2048);
      assert.equal(value(text, "nodejs_heap_size_total_bytes"), 4096);
      assert.equal(value(text, "process_start_time_seconds"), 1_700_000_000);
      assert.equal(value(text, "process_open_fds"), 17);
      assert.equal(calls.memoryUsage, 1, "one memory read per scrape serves both heap series");
      assert.ok(value(text, "nodejs_eventloop_lag_seconds")! >= 0);
      assert.ok(value(text, "nodejs_eventloop_lag_max_seconds")! >= value(text, "nodejs_eventloop_lag_seconds")!);
    } finally {
      m.stop();
    }
  });

  test("registerProcessMetrics leaves process_open_fds out where they cannot be counted, rather than report 0", () => {
    const r = new Registry();
    const m = registerProcessMetrics(r, { stats: fakeStats().stats, startTimeMs: 0, openFds: () => undefined });
    try {
      const text = r.render();
      assert.match(text, /^# TYPE process_open_fds gauge$/m);
      assert.equal(value(text, "process_open_fds"), undefined);
    } finally {
      m.stop();
    }
  });
});

describe("process metrics", () => {
  test("event-loop delay is what lies beyond monitorEventLoopDelay's own 10 ms timer", () => {
    assert.equal(loopDelaySeconds(10_000_000), 0, "an idle loop has no delay");
    assert.equal(loopDelaySeconds(9_200_000), 0, "early ticks are not negative delay");
    assert.equal(loopDelaySeconds(35_000_000), 0.025);
    assert.equal(loopDelaySeconds(3_000_000, 1), 0.002);
  });
});
