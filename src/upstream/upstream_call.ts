/**
 * One upstream call, as both protocol clients make it (in.php/res.php and the JSON APIs): one POST
 * bounded by a connect timeout and a response timeout on the injected clock, its body read with a
 * size cap, the answer classified by the caller and every failure turned into an outcome, never a
 * throw. A call that never got a connection to write on is known undelivered (`maybeDelivered:
 * false`); once the request may be on the wire, it may have been delivered. A call whose semantics
 * are idempotent is sent once more, on a new connection, when a reused keep-alive connection turns
 * out to have been closed (RFC 9112, 9.3.1); a submit never is.
 */
import { systemClock, type Clock } from "../base/clock.ts";
import { createRedactor } from "../base/log.ts";
import { BALANCE, POLL, REPORT, type Endpoint } from "./endpoints.ts";
import type { Outcome } from "./outcome.ts";
import { fetchTransport, nodeHttpTransport, StaleConnectionError, type Transport, type TransportResponse } from "./transport.ts";
import { causeOfCode, causeOfTimer, describeTransportCause } from "./transport_cause.ts";

/** What every call of one client shares. */
export interface CallSetup {
  transport: Transport;
  clock: Clock;
  /** The whole call, from its start to the end of the answer. */
  timeoutMs: number;
  /** Until the request can be written (TCP connect, TLS handshake); expiry is CONNECT_TIMEOUT, not delivered. */
  connectTimeoutMs: number;
  /** Largest body read. */
  maxBodyBytes: number;
}

/** What either protocol client (captchaai_client.ts, v2_client.ts) is made with. */
export interface ClientOptions {
  /** Base URL; the protocol's methods are resolved below it. */
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
  /** The legacy `soft_id`; the JSON APIs' `softId` (CapSolver's `appId`). */
  softId?: string;
  /** Largest body read. @default 65536 */
  maxBodyBytes?: number;
}

/**
 * The calls asked twice when a kept-alive connection went stale under the first (RFC 9112, 9.3.1:
 * only a request known to be idempotent may be retried). A poll or a balance read changes nothing.
 * A report is recorded once per task: the 2captcha API answers a second one ERROR_DUPLICATE_REPORT
 * and refunds nothing twice, so at worst the retry is told it was already recorded. A submit
 * (in.php, createTask) starts a paid task: never repeated.
 */
export const IDEMPOTENT: ReadonlySet<Endpoint> = new Set([POLL, BALANCE, REPORT]);

/** A client's parts from its options: its calls' setup, the key in use, its redactor, and the close of a transport it made itself. */
export function clientParts(o: ClientOptions): { setup: CallSetup; key: () => string; redact: (text: string) => string; close: () => void } {
  const own = o.transport === undefined && o.fetch === undefined ? nodeHttpTransport({ clock: o.clock }) : undefined;
  const transport = o.transport ?? (o.fetch ? fetchTransport(o.fetch) : own!);
  const key = typeof o.apiKey === "function" ? o.apiKey : () => o.apiKey as string;
  return {
    setup: { transport, clock: o.clock ?? systemClock, timeoutMs: o.timeoutMs ?? 5000, connectTimeoutMs: o.connectTimeoutMs ?? 3000, maxBodyBytes: o.maxBodyBytes ?? 65_536 },
    key,
    redact: o.redact ?? createRedactor([key()]),
    close: () => own?.close(),
  };
}

/** One call: where, what, how its answer reads. */
export interface CallRequest<T> {
  /** Named in messages (`in.php`, `createTask`). */
  name: string;
  url: URL;
  body: string;
  /** @default the transport's form type */
  contentType?: string;
  /** Whether it may be sent again after a stale keep-alive connection failed under it. */
  idempotent: boolean;
  /** The whole answer, read: its outcome. */
  classify(answer: { status: number; contentType: string; body: string }): Outcome<T>;
  signal?: AbortSignal | undefined;
}

/** Error codes of failed connections: the request surely never reached the upstream. */
const NOT_DELIVERED = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH", "UND_ERR_CONNECT_TIMEOUT", "ERR_INVALID_URL"]);

export async function callUpstream<T>(s: CallSetup, r: CallRequest<T>): Promise<Outcome<T>> {
  const abort = new AbortController();
  let timedOut: "connect" | "response" | undefined;
  let writable = false;
  const timer = s.clock.setTimeout(() => {
    timedOut = "response";
    abort.abort();
  }, s.timeoutMs);
  const armConnect = () =>
    s.clock.setTimeout(() => {
      timedOut = "connect";
      abort.abort();
    }, s.connectTimeoutMs);
  let connectTimer = armConnect();
  const onWritable = () => {
    writable = true;
    connectTimer.cancel();
  };
  const signal = r.signal;
  const onCallerAbort = () => abort.abort();
  signal?.addEventListener("abort", onCallerAbort, { once: true });
  try {
    if (signal?.aborted) abort.abort();
    const call = { signal: abort.signal, maxBodyBytes: s.maxBodyBytes, onWritable, ...(r.contentType ? { contentType: r.contentType } : {}) };
    const send = (newConnection: boolean) => s.transport(r.url, r.body, { ...call, newConnection });
    let res: TransportResponse;
    try {
      res = await send(false);
    } catch (err) {
      if (!(err instanceof StaleConnectionError && r.idempotent) || abort.signal.aborted) throw err;
      // One more time on a new connection, within the same overall timeout: one call, one outcome.
      writable = false;
      connectTimer.cancel();
      connectTimer = armConnect();
      res = await send(true);
    }
    if (res.body === undefined) return { kind: "transient", code: "BAD_BODY", message: `The upstream body is over ${s.maxBodyBytes} bytes.`, maybeDelivered: true };
    return r.classify({ status: res.status, contentType: res.contentType, body: res.body });
  } catch (err) {
    return transportFailure(err, { timedOut, writable, timeoutMs: s.timeoutMs, connectTimeoutMs: s.connectTimeoutMs, name: r.name, url: r.url, callerAborted: signal?.aborted === true });
  } finally {
    timer.cancel();
    connectTimer.cancel();
    signal?.removeEventListener("abort", onCallerAbort);
  }
}

interface FailedCall {
  /** Which timer ended the call, if one did. */
  timedOut: "connect" | "response" | undefined;
  /** Whether the request could be written (it may have left the process). */
  writable: boolean;
  timeoutMs: number;
  connectTimeoutMs: number;
  name: string;
  url: URL;
  callerAborted: boolean;
}

/** A call that ended without an answer, with its cause named; nothing was delivered unless the request could be written. */
function transportFailure<T>(err: unknown, c: FailedCall): Outcome<T> {
  if (c.timedOut !== undefined && !c.writable) {
    const cause = causeOfTimer("connect_timeout", c.url, c.timedOut === "connect" ? c.connectTimeoutMs : c.timeoutMs);
    return { kind: "transient", code: "CONNECT_TIMEOUT", message: `${capitalize(describeTransportCause(cause))}: ${c.name}.`, maybeDelivered: false, cause };
  }
  if (c.timedOut !== undefined) {
    const cause = causeOfTimer("timeout", c.url, c.timeoutMs);
    return { kind: "transient", code: "TIMEOUT", message: `${capitalize(describeTransportCause(cause))}: ${c.name}.`, maybeDelivered: true, cause };
  }
  if (c.callerAborted) return { kind: "transient", code: "ABORTED", message: `The call to ${c.name} was cancelled.`, maybeDelivered: c.writable };
  const code = errorCode(err);
  const cause = causeOfCode(code === "UNKNOWN" ? undefined : code, c.url);
  return {
    kind: "transient",
    code: "NETWORK",
    message: `${capitalize(describeTransportCause(cause))}: ${c.name}.`,
    maybeDelivered: c.writable && !NOT_DELIVERED.has(code),
    cause,
  };
}

const capitalize = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

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
