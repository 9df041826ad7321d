/**
 * The worker's one HTTP client, for peers, callbacks and the CLI: one request under a total deadline
 * on the injected clock that covers the whole exchange (waiting for a socket from the agent's pool,
 * connecting, sending the body, the answer's head and its body), a cap on the answer's size, and
 * cancellation by a signal. An idle-socket timeout would let a peer that trickles a byte every few
 * seconds hold a request for ever; a total deadline cannot be stretched. node:http always;
 * node:https is loaded only for an https URL (docs/sizing-and-performance.md, Performance). The upstream's transport
 * (upstream/transport.ts) is its own: it has keep-alive and retry rules this client does not need.
 */
import { request as httpRequest, type Agent, type ClientRequest, type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders } from "node:http";
import type { LookupFunction } from "node:net";
import type { Readable } from "node:stream";
import { loadBuiltin } from "../base/builtin.ts";
import { readCapped } from "../base/capped_read.ts";
import type { Clock } from "../base/clock.ts";

/** The default cap on an answer's body. */
export const DEFAULT_MAX_ANSWER_BYTES = 1 << 20;

export interface HttpRequestOptions {
  /** @default "GET" */
  method?: string;
  headers?: OutgoingHttpHeaders;
  /** Sent whole, or piped (a request being forwarded as it arrives). */
  body?: Buffer | string | Readable;
  /** Times the deadline (the CLI may pass the system clock). */
  clock: Clock;
  /** The whole exchange, from asking the agent for a socket to the answer's last byte. */
  timeoutMs: number;
  /**
   * Bytes of the answer's body read at most. 0: the status alone; the answer is not read, its
   * connection destroyed at its head (a receiver trickling an endless body holds nothing).
   * @default DEFAULT_MAX_ANSWER_BYTES
   */
  maxAnswerBytes?: number;
  /** Past the cap: "fail" (HttpClientError too_large) or "cut" (the first bytes, `truncated`). @default "fail" */
  overCap?: "fail" | "cut";
  /** Aborts the exchange (a client gone away, a stop). */
  signal?: AbortSignal | undefined;
  /** For http: URLs. @default node's global agent */
  agent?: Agent | false | undefined;
  /** Resolves the host (a callback pins the address it checked). */
  lookup?: LookupFunction | undefined;
}

export interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** The body was cut at maxAnswerBytes (overCap "cut"). */
  truncated: boolean;
}

export type HttpFailure = "timeout" | "aborted" | "too_large" | "network";

/** Why an exchange ended without an answer; `kind` is stable, the message says what and the limit. */
export class HttpClientError extends Error {
  override readonly name = "HttpClientError";
  constructor(readonly kind: HttpFailure, message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Sends one request and resolves with the whole answer (any status), or rejects with an HttpClientError. */
export function sendRequest(url: URL, o: HttpRequestOptions): Promise<HttpAnswer> {
  const maxBytes = o.maxAnswerBytes ?? DEFAULT_MAX_ANSWER_BYTES;
  return new Promise<HttpAnswer>((resolve, reject) => {
    if (o.signal?.aborted) return reject(new HttpClientError("aborted", "cancelled before it was sent", { cause: o.signal.reason }));
    let settled = false;
    let req: ClientRequest | undefined;
    const finish = (err: HttpClientError | undefined, answer?: HttpAnswer) => {
      if (settled) return;
      settled = true;
      timer.cancel();
      o.signal?.removeEventListener("abort", onAbort);
      if (err) {
        // Also takes a request still queued for a socket out of the agent's queue.
        req?.destroy(err);
        reject(err);
      } else resolve(answer!);
    };
    // Started before the agent is asked for a socket: queueing for one counts against the deadline.
    const timer = o.clock.setTimeout(() => finish(new HttpClientError("timeout", `no whole answer within ${o.timeoutMs}ms`)), o.timeoutMs);
    const onAbort = () => finish(new HttpClientError("aborted", "cancelled", { cause: o.signal?.reason }));
    o.signal?.addEventListener("abort", onAbort, { once: true });

    const https = url.protocol === "https:";
    const send = https ? loadBuiltin("node:https").request : httpRequest;
    const options = { method: o.method ?? "GET", headers: o.headers ?? {}, ...(o.agent !== undefined ? { agent: o.agent } : {}), ...(o.lookup ? { lookup: o.lookup } : {}) };
    req = send(url, options);
    req.on("error", (err: NodeJS.ErrnoException) => finish(new HttpClientError("network", err.code ?? err.message, { cause: err })));
    req.once("response", (res: IncomingMessage) => {
      res.on("error", (err: NodeJS.ErrnoException) => finish(new HttpClientError("network", err.code ?? err.message, { cause: err })));
      const head = { status: res.statusCode ?? 0, headers: res.headers };
      if (maxBytes === 0) {
        finish(undefined, { ...head, body: Buffer.alloc(0), truncated: false });
        res.destroy();
        return;
      }
      readCapped(res, maxBytes, Number(res.headers["content-length"] ?? NaN)).then(
        (read) => {
          if (read.kind === "complete") return finish(undefined, { ...head, body: read.body, truncated: false });
          if (o.overCap === "cut") {
            finish(undefined, { ...head, body: read.head, truncated: true });
            return void res.destroy();
          }
          finish(new HttpClientError("too_large", `the answer is over ${maxBytes} bytes`));
        },
        (err: Error) => finish(new HttpClientError("network", err.message, { cause: err })),
      );
    });
    const body = o.body;
    if (body === undefined || typeof body === "string" || Buffer.isBuffer(body)) req.end(body);
    else {
      body.once("error", (err) => finish(new HttpClientError("network", `the body could not be read: ${err.message}`, { cause: err })));
      body.pipe(req);
    }
  });
}
