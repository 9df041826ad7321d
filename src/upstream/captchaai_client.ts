/**
 * The CaptchaAI (2captcha-compatible) protocol client: in.php and res.php, always `json=1`, the key
 * only in a POST form body (never in a URL), every call bounded by a connect timeout and a response
 * timeout on the injected clock, every answer classified (never thrown), bodies read with a size cap.
 * A call that never got a connection to write on is known undelivered (`maybeDelivered: false`), so
 * a submit can be retried; once the request may be on the wire, it may have been delivered. The
 * calls whose semantics are idempotent (polls, balance, reports) are sent once more, on a new
 * connection, when a reused keep-alive connection turns out to have been closed; a submit never is.
 */
import { systemClock, type Clock } from "../base/clock.ts";
import { createRedactor } from "../base/log.ts";
import { classifyAnswer, type RawAnswer } from "./classify.ts";
import { BALANCE, POLL, REPORT, SUBMIT, type Endpoint, type OutcomeKind } from "./endpoints.ts";
import type { Outcome } from "./outcome.ts";
import type { TaskParams } from "../tasks/task_catalogue.ts";
import type { TaskProxy } from "../tasks/task_proxy.ts";
import { taskToForm } from "./task_form.ts";
import { fetchTransport, nodeHttpTransport, StaleConnectionError, type Transport, type TransportResponse } from "./transport.ts";

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
  poll(id: string, signal?: AbortSignal): Promise<Outcome<RawAnswer>>;
  balance(signal?: AbortSignal): Promise<Outcome<number>>;
  report(id: string, correct: boolean, signal?: AbortSignal): Promise<Outcome<string>>;
  /** Closes idle upstream connections. */
  close(): void;
}

/** Error codes of failed connections: the request surely never reached the upstream. */
const NOT_DELIVERED = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH", "UND_ERR_CONNECT_TIMEOUT", "ERR_INVALID_URL"]);

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
  const timeoutMs = o.timeoutMs ?? 5000;
  const connectTimeoutMs = o.connectTimeoutMs ?? 3000;
  const maxBody = o.maxBodyBytes ?? 65_536;
  const key = typeof o.apiKey === "function" ? o.apiKey : () => o.apiKey as string;
  const redact = o.redact ?? createRedactor([key()]);
  const inUrl = new URL("in.php", o.baseUrl);
  const resUrl = new URL("res.php", o.baseUrl);

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
    const abort = new AbortController();
    let timedOut: "connect" | "response" | undefined;
    let writable = false;
    const timer = clock.setTimeout(() => {
      timedOut = "response";
      abort.abort();
    }, timeoutMs);
    const armConnect = () =>
      clock.setTimeout(() => {
        timedOut = "connect";
        abort.abort();
      }, connectTimeoutMs);
    let connectTimer = armConnect();
    const onWritable = () => {
      writable = true;
      connectTimer.cancel();
    };
    const onCallerAbort = () => abort.abort();
    signal?.addEventListener("abort", onCallerAbort, { once: true });
    let outcome: Outcome<T>;
    try {
      if (signal?.aborted) abort.abort();
      const body = form.toString();
      const send = (newConnection: boolean) => transport(url, body, { signal: abort.signal, maxBodyBytes: maxBody, onWritable, newConnection });
      let res: TransportResponse;
      try {
        res = await send(false);
      } catch (err) {
        if (!(err instanceof StaleConnectionError && IDEMPOTENT.has(endpoint)) || abort.signal.aborted) throw err;
        // One more time on a new connection, within the same overall timeout: one call, one outcome.
        writable = false;
        connectTimer.cancel();
        connectTimer = armConnect();
        res = await send(true);
      }
      outcome =
        res.body === undefined
          ? { kind: "transient", code: "BAD_BODY", message: `The upstream body is over ${maxBody} bytes.`, maybeDelivered: true }
          : classifyAnswer({ status: res.status, contentType: res.contentType, body: res.body }, value, { redact: callRedact });
    } catch (err) {
      outcome = transportFailure(err, { timedOut, writable, timeoutMs, connectTimeoutMs, endpoint, callerAborted: signal?.aborted === true });
    } finally {
      timer.cancel();
      connectTimer.cancel();
      signal?.removeEventListener("abort", onCallerAbort);
    }
    o.onCall?.(endpoint, outcome.kind, clock.now() - started);
    return outcome;
  }

  return {
    submit: (task, signal) => call(SUBMIT, inUrl, taskToForm(task), text(idValue), signal, task.proxy),
    poll: (id, signal) => call(POLL, resUrl, { action: "get", id }, (a) => (a.request === "" ? undefined : a), signal),
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
function idValue(request: string): string | undefined {
  const id = request.trim();
  return /^[A-Za-z0-9_-]{1,64}$/.test(id) ? id : undefined;
}

/** A balance is a decimal number ("12.5", "-3.20", "1e-7"): Number() alone would also take 0x10, 0b101 and 0o7. */
function balanceValue(request: string): number | undefined {
  const text = request.trim();
  const n = Number(text);
  return /^-?\d+(?:\.\d+)?(?:e[+-]?\d+)?$/i.test(text) && Number.isFinite(n) ? n : undefined;
}

interface FailedCall {
  /** Which timer ended the call, if one did. */
  timedOut: "connect" | "response" | undefined;
  /** Whether the request could be written (it may have left the process). */
  writable: boolean;
  timeoutMs: number;
  connectTimeoutMs: number;
  endpoint: Endpoint;
  callerAborted: boolean;
}

/** A call that ended without an answer; nothing was delivered unless the request could be written. */
function transportFailure<T>(err: unknown, c: FailedCall): Outcome<T> {
  if (c.timedOut !== undefined && !c.writable) {
    const ms = c.timedOut === "connect" ? c.connectTimeoutMs : c.timeoutMs;
    return { kind: "transient", code: "CONNECT_TIMEOUT", message: `Upstream connect timed out after ${ms}ms: ${c.endpoint}.`, maybeDelivered: false };
  }
  if (c.timedOut !== undefined) {
    return { kind: "transient", code: "TIMEOUT", message: `Upstream timed out after ${c.timeoutMs}ms: ${c.endpoint}.`, maybeDelivered: true };
  }
  if (c.callerAborted) return { kind: "transient", code: "ABORTED", message: `The call to ${c.endpoint} was cancelled.`, maybeDelivered: c.writable };
  const code = errorCode(err);
  return {
    kind: "transient",
    code: "NETWORK",
    message: `Upstream unreachable (${code}): ${c.endpoint}.`,
    maybeDelivered: c.writable && !NOT_DELIVERED.has(code),
  };
}

/** The system error code under fetch's "fetch failed" TypeError. */
function errorCode(err: unknown): string {
  let e: unknown = err;
  for (let depth = 0; depth < 5 && e; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string") return code;
    e = (e as { cause?: unknown }).cause;
  }
  return "UNKNOWN";
}
