/**
 * Dependency checks, each run in the background behind its own TTL cache with a deadline and a
 * try/catch: a check that throws or hangs reads as `down` (or `degraded` while a last good result
 * is still at hand), never as an exception in a handler. Endpoints read results; they never run checks.
 */
import type { Clock } from "../base/clock.ts";
import type { CheckStatus } from "./check_status.ts";
import { TtlCache, type CacheRead } from "./ttl_cache.ts";

export type { CheckStatus };

/** What a check's run returns; a throw means down. */
export interface CheckValue {
  /** @default "ok" */
  status?: CheckStatus;
  observedValue?: number | string | boolean;
  observedUnit?: string;
  output?: string;
}

export interface CheckDefinition {
  name: string;
  /** For health+json: e.g. "system", "component". @default "component" */
  componentType?: string;
  ttlMs: number;
  timeoutMs: number;
  /** One run; `signal` aborts when the run passes `timeoutMs` (the result is then down or degraded anyway). */
  run: (signal: AbortSignal) => Promise<CheckValue>;
}

export interface CheckResult {
  name: string;
  componentType: string;
  status: CheckStatus;
  /** How long the last successful run took. */
  responseMs: number | undefined;
  /** When the result shown was produced (the last run, failed or not). */
  checkedAt: number | undefined;
  stale: boolean;
  error: string | undefined;
  /** Code of the last failure (ERR_CHECK_TIMEOUT, ERR_CHECK_FAILED, or one the check threw). */
  errorCode: string | undefined;
  value: CheckValue | undefined;
  /** When `value` was produced (the last successful run). */
  valueAt: number | undefined;
  /** A run is out now. */
  refreshing: boolean;
}

export interface HealthChecksOptions {
  clock: Clock;
  sanitize?: (message: string) => string;
  random?: () => number;
}

export class HealthChecks {
  readonly #o: HealthChecksOptions;
  readonly #checks = new Map<string, { def: CheckDefinition; cache: TtlCache<CheckValue> }>();
  readonly #listeners = new Set<(name: string) => void>();

  constructor(options: HealthChecksOptions) {
    this.#o = options;
  }

  register(def: CheckDefinition): void {
    const cache = new TtlCache<CheckValue>({
      clock: this.#o.clock,
      ttlMs: def.ttlMs,
      timeoutMs: def.timeoutMs,
      load: (signal) => runGuarded(def, signal),
      sanitize: this.#o.sanitize,
      random: this.#o.random,
      onSettled: () => this.#settled(def.name),
    });
    this.#checks.set(def.name, { def, cache });
  }

  /** Registers a check while the others run (a provider a reload lists again) and starts keeping it fresh. */
  add(def: CheckDefinition): Promise<void> {
    this.register(def);
    return this.#checks.get(def.name)!.cache.start();
  }

  /**
   * Stops a check and forgets it: it leaves results() (a provider a reload removed, once it holds no
   * task). Returns its definition, to add it again; undefined for a name it does not know.
   */
  remove(name: string): CheckDefinition | undefined {
    const c = this.#checks.get(name);
    if (!c) return undefined;
    c.cache.stop();
    this.#checks.delete(name);
    return c.def;
  }

  /**
   * Subscribes to the end of every run of every check (a new result to read, changed or not);
   * returns the unsubscribe. This is where readiness learns that a check result changed.
   */
  onResult(listener: (name: string) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Runs every check once, in parallel, and keeps them fresh; resolves when all first runs ended. */
  async start(): Promise<void> {
    await Promise.all([...this.#checks.values()].map((c) => c.cache.start()));
  }

  stop(): void {
    for (const c of this.#checks.values()) c.cache.stop();
  }

  /** Runs one check now (single flight with its background refresh). */
  refresh(name: string): Promise<void> {
    return this.#checks.get(name)?.cache.refresh() ?? Promise.resolve();
  }

  /** Every check's latest result, synchronously; reading never starts a run (start() keeps them fresh). */
  results(): CheckResult[] {
    return [...this.#checks.values()].map(({ def, cache }) => toResult(def, cache.peek()));
  }

  result(name: string): CheckResult | undefined {
    const c = this.#checks.get(name);
    return c ? toResult(c.def, c.cache.peek()) : undefined;
  }

  #settled(name: string): void {
    for (const l of this.#listeners) {
      try {
        l(name);
      } catch {
        // a subscriber's failure is its own (the notifier logs its own); a check run never rejects
      }
    }
  }
}

/** A check's run, with anything it throws synchronously turned into a rejection. */
async function runGuarded(def: CheckDefinition, signal: AbortSignal): Promise<CheckValue> {
  const value = await def.run(signal);
  if (typeof value !== "object" || value === null) return {};
  return value;
}

function toResult(def: CheckDefinition, read: CacheRead<CheckValue>): CheckResult {
  let status: CheckStatus;
  if (read.error) status = read.value === undefined ? "down" : "degraded";
  else if (read.value === undefined) status = "degraded"; // first run still out
  else status = read.value.status ?? "ok";
  return {
    name: def.name,
    componentType: def.componentType ?? "component",
    status,
    responseMs: read.loadMs,
    checkedAt: read.error?.at ?? read.loadedAt,
    stale: read.stale,
    error: read.error?.message ?? (read.value === undefined ? "not checked yet" : read.value.output && status !== "ok" ? read.value.output : undefined),
    errorCode: read.error?.code,
    value: read.value,
    valueAt: read.loadedAt,
    refreshing: read.refreshing,
  };
}
