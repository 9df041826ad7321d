/**
 * Callbacks (docs/gateway.md: Callbacks): pingback (legacy, a form with `id` and
 * `code`, as 2captcha posts it) and callbackUrl (v2, the getTaskResult answer as JSON with `taskId`)
 * POSTed when a gateway task ends. Only to hosts named in --callback-allow; the name is resolved
 * once and the connection pinned to that address, which must be public unless the operator named
 * the address itself; no redirect is followed; a few retries with back-off, each attempt under a
 * total deadline on the injected clock (a receiver trickling its answer cannot hold one). With
 * --state-dir each attempt is journaled before it is made and a settled callback says so, so a
 * callback still owed at a stop or a crash is resumed at the next start, never past its attempts.
 */
import { solutionIn, solutionText } from "../tasks/task_catalogue.ts";
import { loadBuiltin } from "../base/builtin.ts";
import type { LookupAddress } from "node:dns";
import type { LookupFunction } from "node:net";
import { isIP } from "node:net";
import type { Clock, Timer } from "../base/clock.ts";
import type { Logger } from "../base/log.ts";
import { sendRequest } from "../http/http_client.ts";
import type { PendingCallback } from "../journal/callback_records.ts";
import type { Counter, Registry } from "../metrics/registry.ts";
import { isEnded, isWithdrawn, type Task } from "../tasks/task.ts";
import { taskFailureCode } from "./errors.ts";
import { taskResultBody } from "./v2_result.ts";

/** Waits before the 2nd, 3rd, ... attempt: five attempts over about four minutes. */
export const RETRY_DELAYS_MS = [5_000, 15_000, 45_000, 180_000];
/** Attempts per callback, however many restarts come between them. */
export const MAX_ATTEMPTS = RETRY_DELAYS_MS.length + 1;
/** Deliveries waiting at once; beyond, new ones are dropped (and counted). */
export const MAX_PENDING = 10_000;
/** One attempt, from connecting to the answer's status line: a total deadline, not an idle timeout. */
export const ATTEMPT_TIMEOUT_MS = 10_000;

export type Resolve = (host: string) => Promise<LookupAddress[]>;

/** Where attempts are recorded (the task journal, with --state-dir): see src/journal/callback_records.ts. */
export interface CallbackJournal {
  /** Attempt `attempt` (1-based) is about to be made; resolves once recorded (rejects if it cannot be). */
  callbackAttempt(id: string, attempt: number): Promise<void>;
  callbackSettled(id: string, outcome: string): void;
}

export interface CallbacksOptions {
  /** --callback-allow: host names and IP literals, lower-cased. */
  allow: readonly string[];
  clock: Clock;
  log: Logger;
  registry?: Registry;
  /** @default dns.lookup with all addresses */
  resolve?: Resolve;
  /** Records attempts so a restart resumes what is still owed. @default none: a stop loses what is pending */
  journal?: CallbackJournal | undefined;
}

/** One callback owed: where, what, and for which task. */
interface Delivery {
  task: Task;
  url: string;
  body: string;
  type: string;
}

type Outcome = "delivered" | "failed" | "refused" | "dropped";

/** Addresses a callback may not reach unless the operator named them: loopback, private, link-local, CGNAT, unspecified, multicast. */
export function isInternalAddress(ip: string): boolean {
  const v4 = ip.startsWith("::ffff:") && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip;
  if (isIP(v4) === 4) {
    const [a, b] = v4.split(".").map(Number) as [number, number];
    return a === 0 || a === 10 || a === 127 || a >= 224 || (a === 169 && b === 254) || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 100 && b >= 64 && b <= 127);
  }
  const s = ip.toLowerCase();
  return s === "::" || s === "::1" || /^f[cd]/.test(s) || /^fe[89ab]/.test(s) || s.startsWith("ff");
}

export class Callbacks {
  readonly #o: CallbacksOptions;
  readonly #allow: Set<string>;
  readonly #resolve: Resolve;
  readonly #timers = new Set<Timer>();
  /** Ends every delivery under way at stop(). */
  readonly #inFlight = new AbortController();
  readonly #outcomes: Counter | undefined;
  #pending = 0;
  #stopped = false;

  constructor(o: CallbacksOptions) {
    this.#o = o;
    this.#allow = new Set(o.allow.map(normalHost));
    this.#resolve = o.resolve ?? ((host) => new Promise((ok, fail) => loadBuiltin("node:dns").lookup(host, { all: true }, (err, a) => (err ? fail(err) : ok(a)))));
    this.#outcomes = o.registry?.counter("captcha_worker_callbacks_total", "Gateway callbacks by outcome (delivered, failed after retries, refused by address, dropped).", ["outcome"]);
    for (const outcome of ["delivered", "failed", "refused", "dropped"]) this.#outcomes?.init({ outcome });
    o.registry?.gauge("captcha_worker_callbacks_pending", `Callbacks owed now: being sent or waiting for a retry (at most ${MAX_PENDING}).`, [], (set) => set(undefined, this.#pending));
  }

  /** Whether a client may ask for a callback to `url`: http(s), no credentials, a host in --callback-allow. */
  check = (url: string): "ERROR_BAD_PARAMETERS" | undefined => {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      return "ERROR_BAD_PARAMETERS";
    }
    if ((u.protocol !== "http:" && u.protocol !== "https:") || u.username !== "" || u.password !== "" || url.length > 2048) return "ERROR_BAD_PARAMETERS";
    return this.#allow.has(normalHost(u.hostname)) ? undefined : "ERROR_BAD_PARAMETERS";
  };

  /** POSTs the ended task's result to its callback, retrying a few times; never throws. */
  deliver(task: Task): void {
    const cb = task.params.callback;
    // A task the journal could not record was withdrawn: its client was refused and never had its id.
    if (!cb || this.#stopped || isWithdrawn(task)) return;
    this.#start(task, cb.url, cb.format, 0);
  }

  /**
   * Takes up the callbacks the journal found still owed at start (`find`: the restored ended task):
   * each resumes at once with the attempts it has left; one whose attempts were all made settles as failed.
   */
  resume(pending: readonly PendingCallback[], find: (id: string) => Task | undefined): void {
    for (const p of pending) {
      const task = find(p.id);
      if (!task || !isEnded(task)) {
        this.#o.journal?.callbackSettled(p.id, "failed"); // its task is gone: nothing to send
        continue;
      }
      if (p.attempts >= MAX_ATTEMPTS) {
        this.#o.journal?.callbackSettled(task.id, "failed");
        this.#outcomes?.inc({ outcome: "failed" });
        continue;
      }
      this.#start(task, p.url, p.format, p.attempts);
    }
  }

  /** Cancels waiting retries and ends deliveries under way (the stop ladder): nothing keeps the process. */
  stop(): void {
    this.#stopped = true;
    for (const t of this.#timers) t.cancel();
    this.#timers.clear();
    this.#inFlight.abort();
  }

  #start(task: Task, url: string, format: "pingback" | "v2", attemptsMade: number): void {
    if (this.#pending >= MAX_PENDING) return this.#settle("dropped", task, "too many callbacks waiting");
    this.#pending++;
    const body = format === "pingback" ? pingbackBody(task) : JSON.stringify({ taskId: Number(task.id), ...taskResultBody(task) });
    const type = format === "pingback" ? "application/x-www-form-urlencoded" : "application/json";
    void this.#attempt({ task, url, body, type }, attemptsMade);
  }

  /** Attempt number `made + 1`: recorded first, then sent; then delivered, retried later, or settled. */
  async #attempt(d: Delivery, made: number): Promise<void> {
    const u = new URL(d.url);
    let address: LookupAddress;
    try {
      address = await this.#pin(u.hostname);
    } catch (err) {
      return this.#settle("refused", d.task, err instanceof Error ? err.message : "unresolvable");
    }
    if (this.#stopped) return this.#leftOwed(d.task);
    // Recorded before it is sent: a crash mid-attempt counts it, so a restart never makes a sixth.
    await this.#o.journal?.callbackAttempt(d.task.id, made + 1).catch(() => {}); // a failing state dir must not also lose the callback
    if (this.#stopped) return this.#leftOwed(d.task);
    const status = await this.#post(u, address, d);
    if (status >= 200 && status < 300) return this.#settle("delivered", d.task);
    // A redirect is not followed and a 4xx will not change: both are final, like the pingback receiver's own verdict.
    const final = status >= 300 && status < 500;
    const why = status === 0 ? "no answer" : `HTTP ${status}`;
    if (final || made + 1 >= MAX_ATTEMPTS) return this.#settle("failed", d.task, why);
    if (this.#stopped) return this.#leftOwed(d.task, why);
    const timer = this.#o.clock.setTimeout(() => {
      this.#timers.delete(timer);
      void this.#attempt(d, made + 1);
    }, RETRY_DELAYS_MS[made]!);
    this.#timers.add(timer);
  }

  /**
   * One POST to the pinned address (SNI and Host keep the name) under ATTEMPT_TIMEOUT_MS; the status,
   * 0 for none. Only the status matters: the answer's body is not read, its connection destroyed at
   * once (a receiver that trickles an endless answer holds nothing).
   */
  async #post(u: URL, address: LookupAddress, d: Delivery): Promise<number> {
    // Pinned: the connection goes to the address checked above, never to a second answer of the resolver.
    const lookup: LookupFunction = (_h, o, cb) => (o.all ? cb(null, [address]) : cb(null, address.address, address.family));
    try {
      const answer = await sendRequest(u, {
        method: "POST", body: d.body, clock: this.#o.clock, timeoutMs: ATTEMPT_TIMEOUT_MS, maxAnswerBytes: 0, agent: false, lookup, signal: this.#inFlight.signal,
        headers: { "content-type": d.type, "content-length": Buffer.byteLength(d.body), "user-agent": "captcha-worker" },
      });
      return answer.status;
    } catch {
      return 0;
    }
  }

  /** The one address a delivery connects to: the name's first, refused when internal unless the operator named that address. */
  async #pin(hostname: string): Promise<LookupAddress> {
    const host = normalHost(hostname);
    if (!this.#allow.has(host)) throw new Error("host not in --callback-allow");
    const addresses = isIP(host) ? [{ address: host, family: isIP(host) }] : await this.#resolve(host);
    const ok = addresses.find((a) => !isInternalAddress(a.address) || this.#allow.has(normalHost(a.address)));
    if (!ok) throw new Error("resolves only to internal addresses not named in --callback-allow");
    return ok;
  }

  #settle(outcome: Outcome, task: Task, why?: string): void {
    if (outcome !== "dropped") this.#pending--;
    this.#o.journal?.callbackSettled(task.id, outcome);
    this.#outcomes?.inc({ outcome });
    if (outcome !== "delivered") this.#o.log.warn("callback not delivered", { id: task.id, client: task.params.client, outcome, why });
  }

  /** Stopping: with a journal the callback stays owed and the next start resumes it; without one it is lost (failed). */
  #leftOwed(task: Task, why = "the worker stopped"): void {
    if (!this.#o.journal) return this.#settle("failed", task, why);
    this.#pending--;
  }
}

/** The legacy pingback: `id` and `code` (the answer, or the error code), form-encoded. */
function pingbackBody(task: Task): string {
  const code = task.status === "solved" ? solutionText(solutionIn(task, "legacy") ?? "") : taskFailureCode(task.error?.code);
  return new URLSearchParams({ id: task.id, code }).toString();
}

const normalHost = (h: string) => h.toLowerCase().replace(/^\[|\]$/g, "");
