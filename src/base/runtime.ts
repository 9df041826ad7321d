/** What a command may use of the process, filled in by bin.ts so everything below stays testable in-process. */
import type { ProcessStats } from "./process_stats.ts";

/** What stops a run: SIGTERM, SIGINT, or SIGHUP where it means the terminal hung up (the demo on a terminal). */
export type StopSignal = "SIGTERM" | "SIGINT" | "SIGHUP";

/** Subscribes to the stop signals; returns the unsubscribe function. */
export type SignalSource = (handler: (signal: StopSignal) => void) => () => void;

export interface Runtime {
  env: Record<string, string | undefined>;
  stdout(text: string): void;
  stderr(text: string): void;
  readFile(path: string): string;
  exists(path: string): boolean;
  /** Subscribes to SIGTERM/SIGINT; returns the unsubscribe function. */
  onSignal: SignalSource;
  /** Subscribes to SIGHUP (reload); returns the unsubscribe function. Absent: no reload signal (tests). */
  onReload?: (handler: () => void) => () => void;
  /** Ends the process at once (the second signal during a drain). */
  exit(code: number): never;
  /** stdout is a terminal. */
  isTTY: boolean;
  /** stderr (where the log goes) is a terminal. @default false */
  stderrIsTTY?: boolean;
  /** stdin is a terminal. @default false */
  stdinIsTTY?: boolean;
  /**
   * Calls `handler` for each line typed on stdin (Enter) when stdin is a terminal, and returns the
   * unsubscribe, which stops reading; undefined (nothing read) when stdin is no terminal. Absent: tests.
   */
  onEnter?: (handler: () => void) => (() => void) | undefined;
  /** What metrics, systemd and the start line read of the process (version, pid, CPU, memory). */
  process: ProcessStats;
}

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
/** EX_TEMPFAIL: try again later (the state dir is owned by another process); systemd restarts it. */
export const EXIT_TEMPFAIL = 75;
export const EXIT_CONFIG = 78;
