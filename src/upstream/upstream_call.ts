/**
 * One upstream call, as both protocol clients make it (in.php/res.php and the JSON APIs): one POST
 * bounded by a connect timeout and a response timeout on the injected clock, its body read with a
 * size cap, the answer classified by the caller and every failure turned into an outcome, never a
 * throw. A call that never got a connection to write on is known undelivered (`maybeDelivered:
 * false`); once the request may be on the wire, it may have been delivered. A call whose semantics
 * are idempotent is sent once more, on a new connection, when a reused keep-alive connection turns
 * out to have been closed (RFC 9112, 9.3.1); a submit never is.
 */
import type { Clock } from "../base/clock.ts";
import type { Outcome } from "./outcome.ts";
import { StaleConnectionError, type Transport, type TransportResponse } from "./transport.ts";
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
