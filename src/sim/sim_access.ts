/**
 * Who the simulator answers, by CaptchaAI's error page (docs.captchaai.com, error handling): a key
 * that is not 32 characters is malformed (CaptchaAI's ERROR_WRONG_USER_KEY), a well-formed key it
 * does not know unknown (ERROR_KEY_DOES_NOT_EXIST); after 5 such bad-key requests from one address
 * within a minute, that address is banned on every request for 5 minutes (CaptchaAI's IP_BANNED;
 * 2captcha's API documents the same ban: "ERROR: 1004", 5 bad keys). Each dialect names the three
 * its own way (sim_dialects.ts); one that never bans passes `bans: false`. On the simulator's
 * clock; bounded memory.
 */
import type { Clock } from "../base/clock.ts";

export const KEY_LENGTH = 32;
export const BAD_KEYS_TO_BAN = 5;
export const BAD_KEY_WINDOW_MS = 60_000;
export const BAN_MS = 5 * 60_000;
/** Addresses remembered at once; beyond, the oldest is forgotten. */
const MAX_ADDRESSES = 10_000;

export type AccessRefusal = "banned" | "malformed" | "unknown";

export class SimAccess {
  readonly #clock: Clock;
  /** Accepted keys; empty: any key of 32 characters. */
  readonly #keys: ReadonlySet<string>;
  readonly #bans: boolean;
  /** Per address: the times of its recent bad-key requests, and the end of its ban. */
  readonly #addresses = new Map<string, { bad: number[]; bannedUntil: number }>();

  constructor(clock: Clock, keys: Iterable<string>, o: { bans?: boolean } = {}) {
    this.#clock = clock;
    this.#keys = new Set(keys);
    this.#bans = o.bans ?? true;
  }

  /** Undefined when `key` from `address` is answered; else the code refusing it. A bad key counts toward the address's ban. */
  check(address: string, key: string): AccessRefusal | undefined {
    const now = this.#clock.now();
    const seen = this.#addresses.get(address);
    if (seen && now < seen.bannedUntil) return "banned";
    const refusal = key.length !== KEY_LENGTH ? "malformed" : this.#keys.size > 0 && !this.#keys.has(key) ? "unknown" : undefined;
    if (refusal === undefined || !this.#bans) return refusal;
    const entry = seen ?? { bad: [], bannedUntil: 0 };
    entry.bad = entry.bad.filter((at) => at > now - BAD_KEY_WINDOW_MS);
    entry.bad.push(now);
    if (entry.bad.length >= BAD_KEYS_TO_BAN) {
      entry.bad = [];
      entry.bannedUntil = now + BAN_MS;
    }
    this.#addresses.delete(address); // re-inserted last: the map's order is the order of last use
    this.#addresses.set(address, entry);
    if (this.#addresses.size > MAX_ADDRESSES) this.#addresses.delete(this.#addresses.keys().next().value!);
    return refusal;
  }

  /** Addresses banned now, each with the ms its ban has left. */
  banned(): Record<string, number> {
    const now = this.#clock.now();
    return Object.fromEntries([...this.#addresses].filter(([, e]) => now < e.bannedUntil).map(([a, e]) => [a, e.bannedUntil - now]));
  }

  /** Forgets every bad key and ban. */
  clear(): void {
    this.#addresses.clear();
  }
}
