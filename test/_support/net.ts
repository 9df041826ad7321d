/**
 * Waiting on things outside the test's control: a free TCP port for a program that must be told
 * one, and polling another process (a child worker, HAProxy, Prometheus) until it says what is
 * expected. In-process code runs on the fake clock instead (harness `eventually`, `advance`).
 * Plain erasable TypeScript: the .mjs scripts import it too (Node 24 strips the types).
 */
import { once } from "node:events";
import { createServer, type AddressInfo } from "node:net";
import { setImmediate as tick, setTimeout as sleep } from "node:timers/promises";

/** A TCP port free on 127.0.0.1 a moment ago, for a program that must be given its port before it starts. */
export async function freePort(): Promise<number> {
  const server = createServer().listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface PollOptions<T> {
  /** When the probe's value is the one awaited. @default neither undefined nor false */
  until?: (value: T) => boolean;
  /** Give up after this long on the wall clock (another process's pace, not the fake clock's). @default 10_000 */
  timeoutMs?: number;
  /** Between probes; 0 waits one event-loop turn. @default 20 */
  intervalMs?: number;
}

/**
 * Calls `probe` until its value is the one awaited and resolves with it. A probe that throws (a
 * server not listening yet) counts as not yet. Rejects after `timeoutMs` naming `what` and the
 * last value or error.
 */
export async function pollUntil<T>(what: string, probe: () => T | Promise<T>, options: PollOptions<T> = {}): Promise<Exclude<T, undefined | false>> {
  const until = options.until ?? ((v: T) => v !== undefined && v !== false);
  const timeoutMs = options.timeoutMs ?? 10_000;
  const intervalMs = options.intervalMs ?? 20;
  const deadline = Date.now() + timeoutMs;
  let last: string = "nothing";
  for (;;) {
    try {
      const value = await probe();
      if (until(value)) return value as Exclude<T, undefined | false>;
      last = JSON.stringify(value) ?? String(value);
    } catch (err) {
      last = `error: ${(err as Error).message}`;
    }
    if (Date.now() >= deadline) throw new Error(`not reached within ${timeoutMs}ms: ${what}; last: ${last}`);
    await (intervalMs > 0 ? sleep(intervalMs) : tick());
  }
}
