/**
 * Task ids for both APIs (docs/gateway.md and Scaling out): positive integers no larger than 2^53-1, so clients that
 * parse JSON numbers or compare `taskId > 0` take them. The high part counts quarter-milliseconds
 * since 2025-01-01 (never backwards, borrowing ahead under bursts); the low 10 bits are the node.
 * The trade-off: more than 4000 ids a second run ahead of the clock, so a restart seeds from the
 * journal's ids (observe) rather than trusting the clock alone.
 */

/** Bits of an id that hold the owning node's number. */
export const NODE_BITS = 10;
export const MAX_NODE_ID = 2 ** NODE_BITS - 1;
/** 2025-01-01T00:00:00Z: the high part's zero. */
export const ID_EPOCH_MS = 1_735_689_600_000;
/** High-part steps per millisecond (sub-millisecond counter). */
const STEPS_PER_MS = 4;
const NODES = 2 ** NODE_BITS;
/** The largest high part that keeps an id within Number.MAX_SAFE_INTEGER (good until about 2094). */
const MAX_SEQUENCE = Math.floor(Number.MAX_SAFE_INTEGER / NODES);

export interface TaskIdGeneratorOptions {
  /** Wall-clock milliseconds since the Unix epoch. */
  now: () => number;
  /** This node's number, 0 to 1023 (--node-id). @default 0 */
  nodeId?: number;
}

export class TaskIdGenerator {
  readonly nodeId: number;
  readonly #now: () => number;
  #last = 0;

  constructor(o: TaskIdGeneratorOptions) {
    const nodeId = o.nodeId ?? 0;
    if (!Number.isInteger(nodeId) || nodeId < 0 || nodeId > MAX_NODE_ID) throw new RangeError(`Invalid node id: expected 0 to ${MAX_NODE_ID}, got ${nodeId}`);
    this.nodeId = nodeId;
    this.#now = o.now;
  }

  /** A new id as a decimal string: larger than every id this generator made or observed. */
  next(): string {
    const fromClock = Math.floor((this.#now() - ID_EPOCH_MS) * STEPS_PER_MS);
    const seq = Math.max(this.#last + 1, fromClock, 1);
    if (seq > MAX_SEQUENCE) throw new RangeError("Task ids are exhausted (the id space ends in 2094)");
    this.#last = seq;
    return String(seq * NODES + this.nodeId);
  }

  /** Takes note of an id made before (a journal's, after a restart) so no later id repeats it. */
  observe(id: string): void {
    const n = parseTaskId(id);
    if (n !== undefined) this.#last = Math.max(this.#last, Math.floor(n / NODES));
  }
}

/**
 * Whether `id` has the shape of a task id, the one guard every API and the cluster apply before
 * looking a task up: decimal digits, 1 to 20 of them (the 2captcha protocol's ids are numbers; ours
 * are at most 16 digits), or a UUID, the id older journals wrote (docs/gateway.md:
 * Ids): such tasks still replay and answer.
 */
export function isTaskId(id: string): boolean {
  return /^\d{1,20}$/.test(id) || /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(id);
}

/** The id as a number when it is one of ours (a positive safe integer in decimal), else undefined (a UUID from an older journal). */
export function parseTaskId(id: string): number | undefined {
  if (!/^[1-9]\d{0,15}$/.test(id)) return undefined;
  const n = Number(id);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** The node that made `id`, or undefined for an id not in this scheme. */
export function nodeOfTaskId(id: string): number | undefined {
  const n = parseTaskId(id);
  return n === undefined ? undefined : n % NODES;
}

/**
 * When `id` was made, in Unix milliseconds, from its high part (never earlier than the real
 * creation: under bursts the part runs ahead of the clock); undefined for an id not in this scheme.
 */
export function createdAtOfTaskId(id: string): number | undefined {
  const n = parseTaskId(id);
  return n === undefined ? undefined : ID_EPOCH_MS + Math.floor(n / NODES) / STEPS_PER_MS;
}
