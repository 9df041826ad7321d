/** The test process's own readings as the worker's ProcessStats port (bin.ts builds the same from `process`). */
import type { ProcessStats } from "../../src/base/process_stats.ts";

export const testProcess: ProcessStats = {
  cpuUsage: () => process.cpuUsage(),
  memoryUsage: () => process.memoryUsage(),
  rss: () => process.memoryUsage.rss(),
  pid: process.pid,
  nodeVersion: process.version,
};
