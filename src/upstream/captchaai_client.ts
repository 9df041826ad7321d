/**
 * The CaptchaAI (2captcha-compatible) protocol client: in.php and res.php, always `json=1`, the key
 * only in a POST form body (never in a URL), every call bounded by a connect timeout and a response
 * timeout on the injected clock, every answer classified (never thrown), bodies read with a size cap
 * (upstream_call.ts: a call never delivered is known so; polls, balance reads and reports are sent
 * again on a new connection after a stale keep-alive one, a submit never is).
 */
import { systemClock, type Clock } from "../base/clock.ts";
import { createRedactor } from "../base/log.ts";
import { classifyAnswer, type RawAnswer } from "./classify.ts";
import { BALANCE, POLL, REPORT, SUBMIT, type Endpoint, type OutcomeKind } from "./endpoints.ts";
import type { Outcome } from "./outcome.ts";
import type { TaskParams } from "../tasks/task_catalogue.ts";
import type { TaskProxy } from "../tasks/task_proxy.ts";
import { taskToForm } from "./task_form.ts";
import { fetchTransport, nodeHttpTransport, type Transport } from "./transport.ts";
import { callUpstream, type CallSetup } from "./upstream_call.ts";

export type { Endpoint };

export interface CaptchaAiClientOptions {
  /** Base URL; in.php and res.php are resolved below it. */
  baseUrl: URL;
  /** The key, or where to read the current one (it may be re-read on SIGHUP). */
  apiKey: string | (() => string);
  /** Redacts the key (every key so far) from errors and quoted answers. @default a redactor of apiKey */
  redact?: (text: string) => string;
  /** Puts one POST on the wire. @default nodeHttpTransport() (keep-alive node:http/https) */
  transport?: Transport;
  /** A fetch to use instead of the default transport (e.g. globalThis.fetch). */
  fetch?: typeof fetch;
  /** @default systemClock */
  clock?: Clock;
  /** The whole call, from its start to the end of the answer. @default 5000 */
  timeoutMs?: number;
  /**
   * Until the request can be written: the TCP connect (http), the TLS handshake included (https); a
   * reused keep-alive connection has none. Expiry is `CONNECT_TIMEOUT`, not delivered. @default 3000
   */
  connectTimeoutMs?: number;
  /** Sent as `soft_id` when set. */
  softId?: string;
  /** Largest body read. @default 65536 */
  maxBodyBytes?: number;
  /** Called after every call, for metrics. */
  onCall?: (endpoint: Endpoint, kind: OutcomeKind, durationMs: number) => void;
}

export interface CaptchaAiClient {
  submit(task: TaskParams, signal?: AbortSignal): Promise<Outcome<string>>;
  /** `proxy`: the task's, whose password is redacted from the answer as the key is (an upstream may echo it). */
  poll(id: string, signal?: AbortSignal, proxy?: TaskProxy): Promise<Outcome<RawAnswer>>;
  balance(signal?: AbortSignal): Promise<Outcome<number>>;
  report(id: string, correct: boolean, signal?: AbortSignal): Promise<Outcome<string>>;
  /** Closes idle upstream connections. */
  close(): void;
}

/**
 * The calls asked twice when a kept-alive connection went stale under the first (RFC 9112, 9.3.1:
 * only a request known to be idempotent may be retried). A poll or a balance read changes nothing.
 * A report is recorded once per task: the 2captcha API answers a second one ERROR_DUPLICATE_REPORT
 * and refunds nothing twice, so at worst the retry is told it was already recorded. A submit
 * (in.php) starts a paid task: never repeated.
 */
const IDEMPOTENT: ReadonlySet<Endpoint> = new Set([POLL, BALANCE, REPORT]);

export function createCaptchaAiClient(o: CaptchaAiClientOptions): CaptchaAiClient {
  const own = o.transport === undefined && o.fetch === undefined ? nodeHttpTransport({ clock: o.clock }) : undefined;
  const transport = o.transport ?? (o.fetch ? fetchTransport(o.fetch) : own!);
  const clock = o.clock ?? systemClock;
  const key = typeof o.apiKey === "function" ? o.apiKey : () => o.apiKey as string;
  const redact = o.redact ?? createRedactor([key()]);
  const inUrl = new URL("in.php", o.baseUrl);
  const resUrl = new URL("res.php", o.baseUrl);

  const setup: CallSetup = { transport, clock, timeoutMs: o.timeoutMs ?? 5000, connectTimeoutMs: o.connectTimeoutMs ?? 3000, maxBodyBytes: o.maxBodyBytes ?? 65_536 };

  async function call<T>(
    endpoint: Endpoint,
    url: URL,
    fields: Record<string, string>,
    value: (answer: RawAnswer) => T | undefined,
    signal?: AbortSignal,
    proxy?: TaskProxy,
  ): Promise<Outcome<T>> {
    const started = clock.now();
    // A task's proxy password is redacted from what the upstream echoes of this call, on top of the key.
    const callRedact = proxy ? (t: string) => proxy.redact(redact(t)) : redact;
    const form = new URLSearchParams({ key: key(), json: "1", ...fields });
    if (o.softId) form.set("soft_id", o.softId);
    const outcome = await callUpstream(setup, {
      name: endpoint,
      url,
      body: form.toString(),
      idempotent: IDEMPOTENT.has(endpoint),
      signal,
      classify: (answer) => classifyAnswer(answer, value, { redact: callRedact }),
    });
    o.onCall?.(endpoint, outcome.kind, clock.now() - started);
    return outcome;
  }

  return {
    submit: (task, signal) => call(SUBMIT, inUrl, taskToForm(task), text(idValue), signal, task.proxy),
    poll: (id, signal, proxy) => call(POLL, resUrl, { action: "get", id }, (a) => (a.request === "" ? undefined : a), signal, proxy),
    balance: (signal) => call(BALANCE, resUrl, { action: "getbalance" }, text(balanceValue), signal),
    report: (id, correct, signal) =>
      call(REPORT, resUrl, { action: correct ? "reportgood" : "reportbad", id }, text((r) => r), signal),
    close: () => own?.close(),
  };
}

/** A value read from the answer's text (a number as text); an answer that is not text is none. */
function text<T>(value: (request: string) => T | undefined): (a: RawAnswer) => T | undefined {
  return (a) => (typeof a.request === "string" ? value(a.request) : undefined);
}

/** Upstream ids are strings even when JSON sends a number. */
export function idValue(request: string): string | undefined {
  const id = request.trim();
  return /^[A-Za-z0-9_-]{1,64}$/.test(id) ? id : undefined;
}

/** A balance is a decimal number ("12.5", "-3.20", "1e-7"): Number() alone would also take 0x10, 0b101 and 0o7. */
export function balanceValue(request: string): number | undefined {
  const text = request.trim();
  const n = Number(text);
  return /^-?\d+(?:\.\d+)?(?:e[+-]?\d+)?$/i.test(text) && Number.isFinite(n) ? n : undefined;
}
