/**
 * The adaptive concurrency limit of a thread plan that replicas share without talking to each other
 * (docs/providers.md, Thread plan): each learns its limit, 1..plan, from the upstream's answers alone, as TCP
 * learns a path's window from acknowledgements and losses (RFC 5681). A submit past the threads the
 * lane has proven it holds is a probe. A lane starts with a quarter of the plan (five threads at
 * least); until its first refusal it sends a quarter as many probes at once as the threads it holds
 * (slow start), then one at a time. A probe taken adds a thread (additive increase). A refusal for
 * want of threads brings the limit down to the threads the lane still holds, never below; a lane
 * holding more than half the plan gives one more back for a refused probe (an eighth of its limit,
 * one at least: a gentle multiplicative decrease that makes room for neighbours without sawing far
 * below what it can hold). A lane holding the whole plan never probes, so it never hears that a
 * neighbour waits: once it has heard a refusal (it has neighbours), now and then it lets a thread go
 * for longer than any neighbour's pace, and takes it back if no one did (less often each time). After a refusal the next probe waits a pace
 * (doubling while probes keep being refused, jittered by half either way): 2 s doubling to 4 s while
 * the lane's tasks hold a thread 4 s or less; past that, half the time they hold one (an average of
 * submit-to-release times, as RFC 6298 averages round trips) doubling to the whole of it, 30 s
 * doubling to 60 s at most. A neighbour frees a thread only when one of its tasks ends, and refills
 * it at once while its queue lasts: probing faster than tasks end finds nothing more, it only adds
 * refusals (at 30 s solves a fixed 2-4 s pace made most submits refusals). So about one refusal per
 * lane per hold time at the plan's edge, under one every two seconds. Trade-off: threads a
 * neighbour frees are found at the next probe, up to a pace (about one hold time) later.
 */
import type { Clock } from "../base/clock.ts";

export interface ThreadLimitOptions {
  /** The account's threads (--threads, a provider's threads=): the limit's ceiling. */
  plan: number;
  /** The mean pause before the next probe after a refusal. @default 2000 */
  paceMs?: number;
  /** How far that pause grows while probes keep being refused. @default 4000 */
  maxPaceMs?: number;
  /** The longest mean pause, however long tasks hold a thread (the doubling cap grows in proportion). @default 30000 */
  paceCapMs?: number;
  /** Returns a number in [0, 1) (the jitter). @default Math.random */
  random?: () => number;
}

/** What a lane may do with a waiting task now: submit it, submit it as a probe, or keep it waiting. */
export type LimitVerdict = "take" | "probe" | "wait";

/** The fewest threads a lane starts with (the default --threads: 5). */
const INITIAL_MIN = 5;
/** After a probe taken that followed a refusal, the next waits this share of the pace (a neighbour may have freed just one thread). */
const AFTER_TAKEN_SHARE = 1 / 3;
/** How often a lane holding the whole plan lets a thread go, at first; doubling each time no one takes it, to YIELD_MAX_MS. */
const YIELD_FIRST_MS = 5000;
const YIELD_MAX_MS = 60_000;
/** The pace after a refusal is this share of the time the lane's tasks hold a thread, when that is longer than the base pace. */
const HOLD_PACE_SHARE = 1 / 2;
/** The weight of each new hold time in the lane's average (RFC 6298, 2: alpha for SRTT). */
const HOLD_WEIGHT = 1 / 8;
/** A plan smaller than this is not shared by yielding (a thread is too large a share of it). */
const YIELD_MIN_PLAN = 4;
/** How long a thread let go stays free before the lane probes for it again, in doubled paces: past the slowest pace with its jitter, so a neighbour waiting for threads (its tasks holding threads as long) probes meanwhile. */
const YIELD_HOLD_SHARE = 1.5;

export class ThreadLimit {
  #plan: number;
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #paceMs: number;
  readonly #maxPaceMs: number;
  readonly #paceCapMs: number;
  /** How long the lane's tasks hold a thread, submit taken to release (an average); undefined before the first ends. */
  #holdMs: number | undefined;
  /** The limit, 1..plan: what the lane has learnt it may hold. */
  #limit: number;
  /** Threads the lane has proven it holds now (0..limit): below, a submit is no probe. */
  #proven: number;
  /** Probes under way. */
  #probes = 0;
  /** No refusal yet: probes may go several at once. */
  #slowStart = true;
  /** No probe before this. */
  #probeAt = 0;
  /** Probes refused in a row (each doubles the pace). */
  #refusedProbes = 0;
  /** The last word from the upstream was "no free thread" (the plan is full at this limit), until a probe is taken. */
  #refusedLast = false;
  #refusals = 0;
  /** When a lane holding the whole plan next lets a thread go (0: not counting), and the gap it counts with. */
  #yieldAt = 0;
  #yieldGapMs = YIELD_FIRST_MS;
  /** A thread let go that the lane has not probed for again yet. */
  #yielded = false;

  constructor(clock: Clock, o: ThreadLimitOptions) {
    this.#plan = Math.max(1, Math.floor(o.plan));
    this.#clock = clock;
    this.#random = o.random ?? Math.random;
    this.#paceMs = Math.max(1, o.paceMs ?? 2000);
    this.#maxPaceMs = Math.max(this.#paceMs, o.maxPaceMs ?? 4000);
    this.#paceCapMs = Math.max(this.#paceMs, o.paceCapMs ?? 30_000);
    this.#limit = this.plan;
    // The initial window (RFC 5681, 3.1; RFC 6928 lets TCP start with ten segments): a quarter of the
    // plan, as if four replicas shared it, and five threads at least (the default plan runs whole at once).
    this.#proven = Math.min(this.plan, Math.max(INITIAL_MIN, Math.ceil(this.plan / 4)));
  }

  /** The account's threads: the limit's ceiling. */
  get plan(): number {
    return this.#plan;
  }

  /**
   * A reload changed the plan (docs/providers.md): a limit at the whole plan follows it (probes then
   * prove the new threads, as at the start); a limit learnt below stays, within the new plan.
   */
  resize(plan: number): void {
    const was = this.#plan;
    this.#plan = Math.max(1, Math.floor(plan));
    this.#limit = this.#limit >= was ? this.#plan : Math.min(this.#limit, this.#plan);
    this.#proven = Math.min(this.#proven, this.#plan);
  }

  /** The limit now: what this replica has learnt it may hold of the plan. */
  get limit(): number {
    return this.#limit;
  }

  /** Refusals for want of threads since start. */
  get refusals(): number {
    return this.#refusals;
  }

  /** How long the lane's tasks hold a thread, on average (ms); undefined before the first ended. */
  get holdMs(): number | undefined {
    return this.#holdMs;
  }

  /** The mean pause before a probe after a refusal now (before doubling and jitter). */
  get paceMs(): number {
    return this.#paceMs * this.#paceScale();
  }

  /** A task the upstream took gave its thread back `ms` after (solved, failed, expired): the hold time the pace follows. */
  released(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) return;
    this.#holdMs = this.#holdMs === undefined ? ms : this.#holdMs + (ms - this.#holdMs) * HOLD_WEIGHT;
  }

  /** The plan is full when the lane holds `busy`: it holds the whole plan, or as much as the upstream let it before refusing. */
  fullAt(busy: number): boolean {
    return busy >= this.plan || (this.#refusedLast && busy >= this.#proven);
  }

  /** When the lane may next probe, for a pump then (undefined: it need not wait on the clock). */
  get wakeAt(): number | undefined {
    return this.#probes === 0 && this.#probeAt > this.#clock.now() ? this.#probeAt : undefined;
  }

  /** Whether a lane holding `busy` tasks (submits under way included) may submit one more now, and whether as a probe. */
  verdict(busy: number): LimitVerdict {
    const now = this.#clock.now();
    this.#maybeYield(busy, now);
    if (busy < this.#proven) return "take";
    if (busy >= this.plan || now < this.#probeAt) return "wait";
    // Slow start (RFC 5681, 3.1), gentler: a quarter as many probes as threads proven, a quarter more each round trip.
    const inFlight = this.#slowStart ? Math.max(1, Math.floor(this.#proven / 4)) : 1;
    return this.#probes < inFlight ? "probe" : "wait";
  }

  /** A probe went out (`verdict` said so and the task was sent). */
  probeSent(): void {
    this.#probes++;
  }

  /** A probe ended without a word about threads (another refusal, a transport failure, a task that expired). */
  probeEnded(): void {
    this.#probes = Math.max(0, this.#probes - 1);
  }

  /** The lane holds `busy` threads the upstream took already (tasks a restart found submitted): proven. */
  holding(busy: number): void {
    this.#proven = Math.min(this.plan, Math.max(this.#proven, busy));
  }

  /** The upstream took a submit; `busy`: the tasks the lane holds now, this one included. */
  taken(probe: boolean, busy: number): void {
    if (!probe) return;
    this.probeEnded();
    const afterRefusal = this.#refusedLast;
    this.#refusedProbes = 0;
    this.#refusedLast = false;
    this.#proven = Math.min(this.plan, Math.max(this.#proven, busy));
    this.#limit = Math.max(this.#limit, this.#proven);
    this.#probeAt = afterRefusal ? this.#clock.now() + this.#jitter(this.paceMs * AFTER_TAKEN_SHARE) : 0;
    if (this.#yielded) {
      // Taken back: no neighbour wanted it; let go less often.
      this.#yielded = false;
      this.#yieldGapMs = Math.min(YIELD_MAX_MS, this.#yieldGapMs * 2);
    }
  }

  /**
   * The upstream refused a submit for want of threads; `busy`: the tasks the lane holds now, the
   * refused one given back (submits still under way included: they may be taken); `heldMs`: how long
   * the oldest task it holds has held its thread (before any ended, the pace follows that).
   */
  refused(probe: boolean, busy: number, heldMs = 0): void {
    this.#refusals++;
    this.#refusedLast = true;
    this.#slowStart = false;
    let held = Math.min(this.#limit, busy);
    if (probe) {
      this.probeEnded();
      this.#refusedProbes++;
      if (this.#limit > this.plan / 2) held = Math.min(held, this.#limit - Math.max(1, Math.floor(this.#limit / 8)));
      if (this.#yielded) {
        // A neighbour took the thread let go: it waits for threads; let go again soon.
        this.#yielded = false;
        this.#yieldGapMs = YIELD_FIRST_MS;
      }
    }
    this.#proven = Math.max(0, held);
    this.#limit = Math.max(1, held);
    this.#yieldAt = 0;
    const scale = this.#paceScale(heldMs);
    const paceMs = Math.min(this.#maxPaceMs * scale, this.#paceMs * scale * 2 ** Math.max(0, this.#refusedProbes - 1));
    this.#probeAt = this.#clock.now() + this.#jitter(paceMs);
  }

  /** The money came back after refusals read as "no money": those said nothing of threads; grow again from what the lane holds, in slow start. */
  fundsBack(): void {
    this.#slowStart = true;
    this.#probeAt = 0;
    this.#refusedProbes = 0;
    this.#refusedLast = false;
  }

  /** Holding the whole plan with work waiting, it lets a thread go every so often (a neighbour it cannot see may wait for one). */
  #maybeYield(busy: number, now: number): void {
    // Only a lane that has heard "no free thread" knows it has neighbours: one alone on the account
    // keeps its whole plan. Letting go costs a thread a while; a small plan keeps it too.
    if (this.#refusals === 0 || this.plan < YIELD_MIN_PLAN || this.#proven < this.plan || busy < this.plan - 1 || this.#probes > 0) {
      this.#yieldAt = 0;
      return;
    }
    if (this.#yieldAt === 0) {
      this.#yieldAt = now + this.#jitter(this.#yieldGapMs);
      return;
    }
    if (now < this.#yieldAt) return;
    this.#yieldAt = 0;
    this.#yielded = true;
    this.#limit = this.plan - 1;
    this.#proven = Math.min(this.#proven, this.#limit);
    this.#probeAt = now + this.#maxPaceMs * this.#paceScale() * YIELD_HOLD_SHARE;
  }

  /** How many times the base pace the pauses are: half the hold time over the base pace, 1 at least, up to the cap. */
  #paceScale(heldMs = 0): number {
    const hold = this.#holdMs ?? heldMs;
    return Math.min(this.#paceCapMs / this.#paceMs, Math.max(1, (hold * HOLD_PACE_SHARE) / this.#paceMs));
  }

  /** Half `ms` to one and a half: lanes refused together do not probe together. */
  #jitter(ms: number): number {
    return Math.round(ms * (0.5 + this.#random()));
  }
}
