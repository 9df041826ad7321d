/**
 * A TTL cache with stale-while-revalidate, written for probes: reads never wait. Fresh within the
 * TTL; past it the stale value is served while exactly one refresh runs, however many readers;
 * a failed refresh keeps the last good value (marked stale, with the error and its age) and retries
 * with back-off; a background refresh before expiry keeps probes from seeing stale data at all.
 * Every load is bounded by a timeout.
 */
import type { Clock, Timer } from "../base/clock.ts";
import { describeError, isWorkerError, WorkerError } from "../base/errors.ts";
import { Backoff } from "../base/backoff.ts";

export interface CacheError {
  code: string;
  message: string;
  at: number;
}

export interface CacheRead<T> {
  value: T | undefined;
  /** When the value was loaded (undefined: never). */
  loadedAt: number | undefined;
  ageMs: number | undefined;
  /** True when there is no value, it is past its TTL, or the last refresh failed. */
  stale: boolean;
  /** The last refresh's failure, cleared by a success. */
  error: CacheError | undefined;
  /** How long the last successful load took. */
  loadMs: number | undefined;
  refreshing: boolean;
}

export interface TtlCacheOptions<T> {
  clock: Clock;
  ttlMs: number;
  /** Loads a fresh value; may throw (the cache records the error). */
  load: (signal: AbortSignal) => Promise<T>;
  /** Upper bound on one load (--check-timeout). */
  timeoutMs: number;
  /**
   * How long before expiry the background refresh starts, given the last load's duration.
   * @default refreshLead: four times the last load, at least 100 ms, at most a fifth of the TTL
   */
  refreshLeadMs?: (lastLoadMs: number, ttlMs: number) => number;
  /** First retry delay after a failure. @default 1000 */
  retryBaseMs?: number;
  /** Makes a message safe to show (redaction). @default identity */
  sanitize?: (message: string) => string;
  random?: () => number;
  /** Called after each load ended (value or error recorded, `refreshing` false again); must not throw. */
  onSettled?: () => void;
}

/**
 * The default refresh lead: early enough that a load as slow as the last one finishes before expiry
 * (with room for it to take four times as long), late enough that the upstream sees about one call
 * per TTL rather than one per probe or one per fraction of the TTL.
 */
export function refreshLead(lastLoadMs: number, ttlMs: number): number {
  return Math.min(ttlMs / 5, Math.max(100, 4 * lastLoadMs));
}

export class TtlCache<T> {
  readonly #o: TtlCacheOptions<T>;
  readonly #retry: Backoff;
  #value: T | undefined;
  #loadedAt: number | undefined;
  #loadMs: number | undefined;
  #error: CacheError | undefined;
  #inFlight: Promise<void> | undefined;
  #timer: Timer | undefined;
  #nextAttemptAt = 0;
  #running = false;
  #loads = 0;

  constructor(options: TtlCacheOptions<T>) {
    this.#o = options;
    this.#retry = new Backoff({ baseMs: options.retryBaseMs ?? 1000, maxMs: Math.max(options.ttlMs, 1000), random: options.random });
  }

  /** Loads started so far (single-flight tests count these). */
  get loads(): number {
    return this.#loads;
  }

  /** The current value and its state, at once; kicks off one refresh if expired and none runs. */
  read(): CacheRead<T> {
    const now = this.#o.clock.now();
    const expired = this.#loadedAt === undefined || now - this.#loadedAt >= this.#o.ttlMs;
    if (expired && !this.#inFlight && now >= this.#nextAttemptAt) void this.refresh();
    return this.peek();
  }

  /** The current value and its state, without starting a refresh (a pure read; start() keeps it fresh). */
  peek(): CacheRead<T> {
    const now = this.#o.clock.now();
    const ageMs = this.#loadedAt === undefined ? undefined : now - this.#loadedAt;
    const expired = ageMs === undefined || ageMs >= this.#o.ttlMs;
    return {
      value: this.#value,
      loadedAt: this.#loadedAt,
      ageMs,
      stale: expired || this.#error !== undefined,
      error: this.#error,
      loadMs: this.#loadMs,
      refreshing: this.#inFlight !== undefined,
    };
  }

  /** Starts one load, or joins the one running (single flight). Never rejects. */
  refresh(): Promise<void> {
    this.#inFlight ??= this.#load().finally(() => {
      this.#inFlight = undefined;
      this.#o.onSettled?.();
    });
    return this.#inFlight;
  }

  /** Loads now and keeps the value fresh in the background until stop(). */
  start(): Promise<void> {
    this.#running = true;
    return this.refresh();
  }

  stop(): void {
    this.#running = false;
    this.#timer?.cancel();
    this.#timer = undefined;
  }

  async #load(): Promise<void> {
    const { clock } = this.#o;
    this.#loads++;
    const started = clock.now();
    const abort = new AbortController();
    let timer: Timer | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = clock.setTimeout(() => {
        const err = new WorkerError("ERR_CHECK_TIMEOUT", undefined, { data: { timeoutMs: this.#o.timeoutMs } });
        abort.abort(err);
        reject(err);
      }, this.#o.timeoutMs);
    });
    try {
      const value = await Promise.race([this.#o.load(abort.signal), timeout]);
      this.#value = value;
      this.#loadedAt = clock.now();
      this.#loadMs = this.#loadedAt - started;
      this.#error = undefined;
      this.#retry.reset();
      this.#nextAttemptAt = 0;
      const lead = (this.#o.refreshLeadMs ?? refreshLead)(this.#loadMs, this.#o.ttlMs);
      this.#schedule(Math.max(1, this.#o.ttlMs - lead));
    } catch (err) {
      const sanitize = this.#o.sanitize ?? ((m: string) => m);
      this.#error = {
        code: isWorkerError(err) ? err.code : "ERR_CHECK_FAILED",
        message: sanitize(describeError(err)).slice(0, 200),
        at: clock.now(),
      };
      const delay = this.#retry.next();
      this.#nextAttemptAt = clock.now() + delay;
      this.#schedule(delay);
    } finally {
      timer?.cancel();
    }
  }

  #schedule(delayMs: number): void {
    this.#timer?.cancel();
    this.#timer = undefined;
    if (!this.#running) return;
    this.#timer = this.#o.clock.setTimeout(() => {
      this.#timer = undefined;
      void this.refresh();
    }, delayMs);
  }
}
