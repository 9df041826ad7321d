/**
 * What the metrics and the systemd integration read of the process, as a port: bin.ts passes the
 * real process in through the Runtime, tests pass fixed values, and nothing below bin reads `process`.
 */

/** CPU time used, in microseconds (process.cpuUsage()). */
export interface CpuUsage {
  user: number;
  system: number;
}

/** Memory in bytes (process.memoryUsage()). */
export interface MemoryUsage {
  rss: number;
  heapUsed: number;
  heapTotal: number;
}

export interface ProcessStats {
  cpuUsage(): CpuUsage;
  memoryUsage(): MemoryUsage;
  /** Resident set size in bytes, cheaper than memoryUsage() (process.memoryUsage.rss()). */
  rss(): number;
  readonly pid: number;
  /** e.g. "v24.21.0" (process.version). */
  readonly nodeVersion: string;
}
