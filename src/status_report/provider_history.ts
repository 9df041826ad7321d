/**
 * Each provider's last hour for the status page's provider rows (docs/health.md, Status page): tasks solved
 * and failed (every end that is not a solve, as captcha_worker_provider_tasks_total counts), the
 * time from its submit to the solution in fixed buckets (so the median is estimated the way
 * Prometheus's histogram_quantile does, at a fixed cost), the time it spent down and a thread
 * plan's limit against its plan (docs/providers.md, Thread plan), from the samples the status history takes. One fixed ring of minutes, one slot per provider in each:
 * memory depends on the number of providers, never on the traffic.
 */
import type { ProviderCondition } from "../health/provider_readiness.ts";
import { MINUTE_MS, MinuteRing, RING_MINUTES, minuteOf } from "./history_rings.ts";

/** Upper edges of the solve-time buckets, in seconds; a last bucket takes what is slower. */
export const SOLVE_EDGES_S = [0.5, 1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 25, 30, 40, 50, 60, 90, 120, 180, 300, 600] as const;

interface ProviderMinute {
  solved: number;
  failed: number;
  /** Solves per bucket of SOLVE_EDGES_S, the last one past its end. */
  buckets: Uint32Array;
  /** Time it was down, and time its state was known at all (removed time is neither). */
  msDown: number;
  msKnown: number;
  /** A thread plan's limit over time (limit x ms), the time it was known, its lowest and highest, and the plan. */
  limitMs: number;
  limitKnownMs: number;
  limitMin: number;
  limitMax: number;
  plan: number;
}

/** A thread plan's limit over the hour (docs/providers.md, Thread plan): its time-weighted mean, its range, and the plan. */
export interface LimitHour {
  mean: number;
  min: number;
  max: number;
  plan: number;
}

/** What a sample says of a provider: its state, and a thread plan's limit and plan (none for a per-solve provider). */
export interface ProviderSample {
  name: string;
  state: ProviderCondition;
  load?: { limit: number; plan: number | undefined } | undefined;
}

/** A provider's last hour as its row shows it. */
export interface ProviderHour {
  name: string;
  /** Minutes the hour covers so far (less after a start; at least 1, so a first minute is no burst). */
  minutes: number;
  solved: number;
  failed: number;
  solvedPerMin: number;
  failedPerMin: number;
  /** The median time from its submit to the solution, in seconds; undefined before a solve. */
  p50S: number | undefined;
  /** How long it was down in the hour, and how long its state was sampled. */
  msDown: number;
  msKnown: number;
  /** A thread plan's limit over the hour; undefined for a per-solve provider or before a sample. */
  limit?: LimitHour | undefined;
}

/** What a task's end tells this history. */
export interface EndedAtProvider {
  status: string;
  provider?: string | undefined;
  submittedAt?: number | undefined;
  endedAt?: number | undefined;
}

const newMinute = (): ProviderMinute => ({ solved: 0, failed: 0, buckets: new Uint32Array(SOLVE_EDGES_S.length + 1), msDown: 0, msKnown: 0, limitMs: 0, limitKnownMs: 0, limitMin: Infinity, limitMax: 0, plan: 0 });

function resetMinute(m: ProviderMinute): void {
  m.solved = 0;
  m.failed = 0;
  m.buckets.fill(0);
  m.msDown = 0;
  m.msKnown = 0;
  m.limitMs = 0;
  m.limitKnownMs = 0;
  m.limitMin = Infinity;
  m.limitMax = 0;
  m.plan = 0;
}

/** The bucket a solve of `seconds` falls in. */
function bucketOf(seconds: number): number {
  const i = SOLVE_EDGES_S.findIndex((edge) => seconds <= edge);
  return i < 0 ? SOLVE_EDGES_S.length : i;
}

/**
 * The median of bucketed solve times: linear within the bucket holding it (as histogram_quantile);
 * past the last edge, the last edge. Undefined without a solve.
 */
export function medianOfBuckets(buckets: ArrayLike<number>): number | undefined {
  let total = 0;
  for (let i = 0; i < buckets.length; i++) total += buckets[i]!;
  if (total === 0) return undefined;
  const rank = total / 2;
  let below = 0;
  for (let i = 0; i < buckets.length; i++) {
    const n = buckets[i]!;
    if (n > 0 && below + n >= rank) {
      if (i >= SOLVE_EDGES_S.length) return SOLVE_EDGES_S[SOLVE_EDGES_S.length - 1];
      const lower = i === 0 ? 0 : SOLVE_EDGES_S[i - 1]!;
      return lower + (SOLVE_EDGES_S[i]! - lower) * ((rank - below) / n);
    }
    below += n;
  }
  return SOLVE_EDGES_S[SOLVE_EDGES_S.length - 1];
}

export class ProviderHistory {
  readonly #names: readonly string[];
  readonly #index: ReadonlyMap<string, number>;
  readonly #ring: MinuteRing<ProviderMinute[]>;
  /** Each provider's state at the last sample (undefined: not sampled yet), and when that was. */
  readonly #states: (ProviderCondition | undefined)[];
  /** A thread plan's limit and plan at the last sample (undefined: per-solve, or not known). */
  readonly #limits: ({ limit: number; plan: number } | undefined)[];
  #sampledAt: number | undefined;

  /** `names`: the providers, in order of preference (a reload adds none: docs/providers.md). */
  constructor(names: readonly string[]) {
    this.#names = [...names];
    this.#index = new Map(names.map((n, i) => [n, i]));
    this.#ring = new MinuteRing(() => names.map(newMinute), (slot) => slot.forEach(resetMinute));
    this.#states = names.map(() => undefined);
    this.#limits = names.map(() => undefined);
  }

  /** A task ended at `now`: counted for the provider that took it (one that never left the queue is no provider's). */
  taskEnded(task: EndedAtProvider, now: number): void {
    const i = task.provider === undefined ? undefined : this.#index.get(task.provider);
    if (i === undefined) return;
    const m = this.#ring.at(minuteOf(now))?.[i];
    if (!m) return;
    if (task.status !== "solved") {
      m.failed++;
      return;
    }
    m.solved++;
    if (task.submittedAt !== undefined && task.endedAt !== undefined && task.endedAt >= task.submittedAt) {
      m.buckets[bucketOf((task.endedAt - task.submittedAt) / 1000)]!++;
    }
  }

  /** The providers' states now: the time since the last sample is charged to the states it found. */
  sample(states: readonly ProviderSample[], now: number): void {
    if (this.#sampledAt !== undefined) this.#account(this.#sampledAt, now);
    this.#sampledAt = this.#sampledAt === undefined ? now : Math.max(this.#sampledAt, now);
    for (const s of states) {
      const i = this.#index.get(s.name);
      if (i === undefined) continue;
      this.#states[i] = s.state;
      const plan = s.load?.plan;
      this.#limits[i] = plan === undefined ? undefined : { limit: s.load!.limit, plan };
    }
  }

  /** Charges [from, to) to each provider's last sampled state, minute by minute (only the last hour can show). */
  #account(from: number, to: number): void {
    let t = Math.max(from, to - RING_MINUTES * MINUTE_MS);
    while (t < to) {
      const minute = minuteOf(t);
      const end = Math.min(to, (minute + 1) * MINUTE_MS);
      const slot = this.#ring.at(minute);
      if (slot) {
        this.#states.forEach((state, i) => {
          if (state === undefined || state === "removed") return;
          const m = slot[i]!;
          m.msKnown += end - t;
          if (state === "down") m.msDown += end - t;
          const l = this.#limits[i];
          if (!l) return;
          m.limitMs += l.limit * (end - t);
          m.limitKnownMs += end - t;
          m.limitMin = Math.min(m.limitMin, l.limit);
          m.limitMax = Math.max(m.limitMax, l.limit);
          m.plan = l.plan;
        });
      }
      t = end;
    }
  }

  /** Each provider's hour up to `now` (the states sampled last are charged up to `now`), in order of preference. */
  view(now: number, startedAt: number): ProviderHour[] {
    if (this.#sampledAt !== undefined && now > this.#sampledAt) {
      this.#account(this.#sampledAt, now);
      this.#sampledAt = now;
    }
    const window = this.#ring.window(minuteOf(now));
    const from = Math.max(startedAt, window[0]!.minute * MINUTE_MS);
    const minutes = Math.max(1, (now - from) / MINUTE_MS);
    return this.#names.map((name, i) => {
      const buckets = new Array<number>(SOLVE_EDGES_S.length + 1).fill(0);
      let solved = 0;
      let failed = 0;
      let msDown = 0;
      let msKnown = 0;
      const limit = { ms: 0, knownMs: 0, min: Infinity, max: 0, plan: 0 };
      for (const { slot } of window) {
        const m = slot?.[i];
        if (!m) continue;
        solved += m.solved;
        failed += m.failed;
        msDown += m.msDown;
        msKnown += m.msKnown;
        for (let b = 0; b < buckets.length; b++) buckets[b]! += m.buckets[b]!;
        if (m.limitKnownMs === 0) continue;
        limit.ms += m.limitMs;
        limit.knownMs += m.limitKnownMs;
        limit.min = Math.min(limit.min, m.limitMin);
        limit.max = Math.max(limit.max, m.limitMax);
        limit.plan = m.plan; // the window runs oldest first: the latest plan
      }
      const limitHour = limit.knownMs === 0 ? undefined : { mean: limit.ms / limit.knownMs, min: limit.min, max: limit.max, plan: limit.plan };
      return { name, minutes, solved, failed, solvedPerMin: solved / minutes, failedPerMin: failed / minutes, p50S: medianOfBuckets(buckets), msDown, msKnown, limit: limitHour };
    });
  }
}
