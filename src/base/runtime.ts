/** What a command may use of the process, passed in by main so commands stay testable in-process. */

export type StopSignal = "SIGTERM" | "SIGINT";

export interface Runtime {
  env: Record<string, string | undefined>;
  stdout(text: string): void;
  stderr(text: string): void;
  readFile(path: string): string;
  exists(path: string): boolean;
  /** Subscribes to SIGTERM/SIGINT; returns the unsubscribe function. */
  onSignal(handler: (signal: StopSignal) => void): () => void;
  /** Ends the process at once (the second signal during a drain). */
  exit(code: number): never;
  isTTY: boolean;
}

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
export const EXIT_CONFIG = 78;
