/**
 * The kinds of provider the simulator can be (docs/simulator.md): CaptchaAI's in.php/res.php and
 * 2captcha's, anti-captcha's and CapSolver's createTask APIs, one row each. A row says what differs
 * between them and nothing else: the protocol, how a solve is billed, what answers "no capacity",
 * the key and ban codes, what a legacy dialect does not serve, and its default thread cap. Prices
 * are USD per 1000 solves of each kind, from the public figures each source gives.
 */
import type { Dialect } from "../tasks/task_dialects.ts";

export const SIM_DIALECTS = ["captchaai", "2captcha", "anticaptcha", "capsolver"] as const;
export type SimDialect = (typeof SIM_DIALECTS)[number];

/** What answers past the thread cap: CaptchaAI documents ERROR_ZERO_BALANCE ("no available threads"); the per-solve services ERROR_NO_SLOT_AVAILABLE. */
export const CAPACITY_CODES = ["ERROR_ZERO_BALANCE", "ERROR_NO_SLOT_AVAILABLE"] as const;
export type CapacityCode = (typeof CAPACITY_CODES)[number];

export type SolveKind = "image" | "token";

/** How a dialect refuses a key, and the address banned after repeated bad keys (undefined: it never bans). */
export interface KeyCodes {
  readonly malformed: string;
  readonly unknown: string;
  readonly banned: string | undefined;
}

export interface SimDialectSpec {
  readonly name: SimDialect;
  readonly protocol: "legacy" | "v2";
  /** The task catalogue's dialect its createTask speaks (v2 only). */
  readonly v2?: Dialect;
  /** USD per 1000 solves of each kind, charged once when a solution is first answered. */
  readonly pricePer1000Usd: Readonly<Record<SolveKind, number>>;
  /** Whether a task answered ERROR_CAPTCHA_UNSOLVABLE is charged too. */
  readonly chargesUnsolvable: boolean;
  /**
   * When a submit is refused ERROR_ZERO_BALANCE: `empty`, a balance of zero or less (the simulator's
   * CaptchaAI behaviour); `cannot_pay`, a balance under the task's price.
   */
  readonly zeroBalance: "empty" | "cannot_pay";
  /** Whether the balance may go below zero by a solve's price (anti-captcha: "zero or negative balance"). */
  readonly overdraws: boolean;
  readonly capacityCode: CapacityCode;
  /** Unsolved tasks per key; undefined: no cap (a per-solve account has no thread plan). */
  readonly threads: number | undefined;
  readonly keys: KeyCodes;
  /** in.php methods (or `grid`, `geetest_v4`) the service does not serve at all, answered `unsupportedCode`. */
  readonly notServed: readonly string[];
  /** The code of a type or method it does not take. */
  readonly unsupportedCode: string;
  /** 2captcha's `res.php?action=get2`: the answer and its price. */
  readonly get2: boolean;
  /** Task ids: in.php's and anti-captcha's numbers, CapSolver's UUIDs. */
  readonly ids: "number" | "uuid";
}

/** CaptchaAI's and 2captcha's key codes (CaptchaAI's error page; 2captcha's "ERROR: 1004" ban after 5 bad keys). */
const LEGACY_KEYS: KeyCodes = { malformed: "ERROR_WRONG_USER_KEY", unknown: "ERROR_KEY_DOES_NOT_EXIST", banned: "IP_BANNED" };

export const SIM_DIALECT_SPECS: Readonly<Record<SimDialect, SimDialectSpec>> = {
  // CaptchaAI bills by thread plan ("pricing is based on concurrent threads", its blog); the
  // simulator has always charged $1 per 1000 solves so the balance rules have something to watch.
  captchaai: {
    name: "captchaai", protocol: "legacy", pricePer1000Usd: { image: 1, token: 1 }, chargesUnsolvable: false, zeroBalance: "empty", overdraws: false,
    capacityCode: "ERROR_ZERO_BALANCE", threads: 50, keys: LEGACY_KEYS, notServed: [], unsupportedCode: "ERROR_METHOD_CALL", get2: false, ids: "number",
  },
  // 2captcha: images "From $0.5 to $1 for 1000 CAPTCHAs solved" (2captcha.com/order-captchas: the
  // top of it), tokens $2.99 (the top of its API docs' $0.5-2.99 per 1000); "You are charged only in
  // case the image is recognized correctly"; no Cloudflare Challenge or BLS method (ERROR_METHOD_CALL,
  // its answer for a method it does not serve: Furry/2captcha#55, #58); NO_SLOT when its queue of
  // your unassigned tasks is too long, no thread plan.
  "2captcha": {
    name: "2captcha", protocol: "legacy", pricePer1000Usd: { image: 1, token: 2.99 }, chargesUnsolvable: false, zeroBalance: "cannot_pay", overdraws: false,
    capacityCode: "ERROR_NO_SLOT_AVAILABLE", threads: undefined, keys: LEGACY_KEYS, notServed: ["cloudflare_challenge", "bls"], unsupportedCode: "ERROR_METHOD_CALL", get2: true, ids: "number",
  },
  // anti-captcha: "$0.5/1000 images, $2/1000 Recaptchas" (@antiadmin/anticaptchaofficial's README);
  // ERROR_CAPTCHA_UNSOLVABLE is charged ("Clients are charged for such tasks", anti-captcha.com/apidoc/errors);
  // one code for a missing or malformed key; ERROR_IP_BLOCKED for an address that misused the API.
  anticaptcha: {
    name: "anticaptcha", protocol: "v2", v2: "anticaptcha", pricePer1000Usd: { image: 0.5, token: 2 }, chargesUnsolvable: true, zeroBalance: "cannot_pay", overdraws: true,
    capacityCode: "ERROR_NO_SLOT_AVAILABLE", threads: undefined, keys: { malformed: "ERROR_KEY_DOES_NOT_EXIST", unknown: "ERROR_KEY_DOES_NOT_EXIST", banned: "ERROR_IP_BLOCKED" },
    notServed: [], unsupportedCode: "ERROR_TASK_NOT_SUPPORTED", get2: false, ids: "number",
  },
  // CapSolver: no price in the sources read, so docs/providers.md's example ($1.2 per 1000);
  // ERROR_KEY_DENIED_ACCESS with HTTP 401; a type it does not name is ERROR_INVALID_TASK_DATA
  // "unsupported captcha type" (capsolver-python#15); no documented ban.
  capsolver: {
    name: "capsolver", protocol: "v2", v2: "capsolver", pricePer1000Usd: { image: 1.2, token: 1.2 }, chargesUnsolvable: false, zeroBalance: "cannot_pay", overdraws: false,
    capacityCode: "ERROR_NO_SLOT_AVAILABLE", threads: undefined, keys: { malformed: "ERROR_KEY_DENIED_ACCESS", unknown: "ERROR_KEY_DENIED_ACCESS", banned: undefined },
    notServed: [], unsupportedCode: "ERROR_INVALID_TASK_DATA", get2: false, ids: "uuid",
  },
};

export function isSimDialect(v: unknown): v is SimDialect {
  return typeof v === "string" && (SIM_DIALECTS as readonly string[]).includes(v);
}
