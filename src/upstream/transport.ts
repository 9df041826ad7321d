/**
 * How the protocol clients put one POST on the wire: a form (in.php/res.php) or a JSON body (the
 * JSON APIs' createTask, getTaskResult ...), under the same rules. The default rides node:http(s) with a
 * keep-alive agent: against the simulator it costs about half of what `fetch` costs per call in
 * CPU and allocation (see docs/sizing-and-performance.md, Performance), and it tells when the request could be written
 * (connected, TLS handshake done, or a kept-alive socket reused), which is what the connect timeout
 * and "surely not delivered" rest on. A `fetch` (the global one, or another) can be injected instead
 * and gets the same cap on the body and the same errors, but hides its connect phase.
 * Trade-off: a kept-alive connection is written on again only shortly after its last answer (a new
 * one is opened otherwise), so a server's idle close cannot cross a request in flight, at the price
 * of a new connection for calls more than `reuseWithinMs` apart.
 */
import { loadBuiltin } from "../base/builtin.ts";
import { systemClock, type Clock } from "../base/clock.ts";
import type { Socket } from "node:net";
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from "node:http";
// node:https (with node:tls and OpenSSL's set-up, about 5 MB of RSS) loads at the first https call,
// not at start: an http upstream never needs it.
const https = () => loadBuiltin("node:https");
import { Readable } from "node:stream";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { readCapped } from "../base/capped_read.ts";

export interface TransportResponse {
  status: number;
  contentType: string;
  /** The body as text, or undefined when it is longer than the cap (the rest is not read). */
  body: string | undefined;
}

export interface TransportCall {
  signal: AbortSignal;
  /** Largest body read. */
  maxBodyBytes: number;
  /**
   * Called once, when the request can be written: the TCP connect (http) or the TLS handshake
   * (https) of a new connection completed, or a kept-alive connection was reused. Before it, nothing
   * of the request has left the process.
   */
  onWritable: () => void;
  /** On a new connection of its own, never one kept alive (a retry after a StaleConnectionError). */
  newConnection?: boolean;
  /** The body's media type. @default FORM */
  contentType?: string;
}

/** in.php's and res.php's bodies. */
export const FORM = "application/x-www-form-urlencoded";
/** The JSON APIs' bodies (anti-captcha's client sends `application/json; charset=utf-8`). */
export const JSON_BODY = "application/json";

/** POSTs `body` (urlencoded, or as `contentType` says) to `url`; rejects on network errors and aborts, never on a status. */
export type Transport = (url: URL, body: string, call: TransportCall) => Promise<TransportResponse>;

/**
 * The call failed on a reused keep-alive connection before any byte of its answer arrived: the
 * server most likely closed the connection while it was idle, as RFC 9112 (9.3.1, Retrying Requests)
 * warns may happen at any time. A request whose semantics are idempotent may be sent again on a new
 * connection; any other may have been applied and must not be. `code` is the system error's.
 */
export class StaleConnectionError extends Error {
  readonly code: string;
  constructor(cause: Error & { code?: string }) {
    super(`A reused keep-alive connection failed before any answer (${cause.code ?? "UNKNOWN"}).`, { cause });
    this.name = "StaleConnectionError";
    this.code = cause.code ?? "UNKNOWN";
  }
}

export interface NodeHttpTransportOptions {
  /** Measures how long a kept-alive connection has been idle. @default systemClock */
  clock?: Clock;
  /**
   * A kept-alive connection is written on again only within this time of its last answer; an older
   * one is closed and a new one opened. Half the shortest idle timeout it is meant to survive (1 s,
   * see docs/upstream.md), the other half left for the answer's and the
   * next request's time in flight. A shorter `Keep-Alive: timeout=N` hint lowers it. @default 500
   */
  reuseWithinMs?: number;
}

const headersFor = (contentType: string | undefined) => ({ "content-type": contentType ?? FORM, accept: "application/json, text/plain" });
/** What a write on a connection the server closed meets: its RST, or its FIN before any answer ("socket hang up"). */
const STALE_CODES = new Set(["ECONNRESET", "EPIPE"]);

/** node:http(s) with keep-alive connections, shared by every call of one client. */
export function nodeHttpTransport(o: NodeHttpTransportOptions = {}): Transport & { close(): void } {
  const idle = new IdleSockets(o.clock ?? systemClock, o.reuseWithinMs ?? 500);
  const agents = { http: idle.watch(new HttpAgent({ keepAlive: true, scheduling: "lifo" })), https: undefined as import("node:https").Agent | undefined };
  const transport = (url: URL, form: string, { signal, maxBodyBytes, onWritable, newConnection, contentType }: TransportCall) =>
    new Promise<TransportResponse>((resolve, reject) => {
      const secure = url.protocol === "https:";
      const send = secure ? https().request : httpRequest;
      const agent = secure ? (agents.https ??= idle.watch(new (https().Agent)({ keepAlive: true, scheduling: "lifo" }))) : agents.http;
      const attempt = (own: boolean) => {
        if (!own) idle.prune(agent);
        // `agent: false`: a one-off connection, closed after its answer, never taken from the pool.
        const req = send(url, { method: "POST", agent: own ? false : agent, headers: { ...headersFor(contentType), "content-length": Buffer.byteLength(form) }, signal });
        let socket: Socket | undefined;
        let readBefore = 0;
        let replaced = false;
        req.on("error", (err: Error & { code?: string }) => {
          if (replaced) return;
          const stale = req.reusedSocket && socket?.bytesRead === readBefore && STALE_CODES.has(err.code ?? "");
          reject(stale ? new StaleConnectionError(err) : err);
        });
        req.on("socket", (s: Socket) => {
          if (req.reusedSocket && !idle.fresh(s)) {
            // Not written yet (the request is flushed after this event): give it a new connection.
            replaced = true;
            req.destroy();
            return attempt(true);
          }
          socket = s;
          readBefore = s.bytesRead;
          // A new TLS socket is writable after its handshake, even though its TCP connect is done.
          if (req.reusedSocket || (!secure && !s.connecting)) return onWritable();
          s.once(secure ? "secureConnect" : "connect", onWritable);
        });
        req.on("response", (res: IncomingMessage) => {
          idle.hinted(res.socket, String(res.headers["keep-alive"] ?? ""));
          const head = { status: res.statusCode ?? 0, contentType: String(res.headers["content-type"] ?? "") };
          readCapped(res, maxBodyBytes).then((read) => {
            if (read.kind === "complete") return resolve({ ...head, body: read.body.toString("utf8") });
            res.destroy();
            resolve({ ...head, body: undefined });
          }, reject);
        });
        req.end(form);
      };
      attempt(newConnection === true);
    });
  return Object.assign(transport, {
    close() {
      agents.http.destroy();
      agents.https?.destroy();
    },
  });
}

/**
 * When each kept-alive socket last finished an exchange, on the injected clock, and how long it may
 * stay idle before it is no longer trusted: `reuseWithinMs`, or less when the server's
 * `Keep-Alive: timeout=N` hint (RFC 2068, 19.7.1.1) says it closes sooner (a second's margin, as
 * Node's agent keeps when a `timeout` is set).
 */
class IdleSockets {
  readonly #clock: Clock;
  readonly #reuseWithinMs: number;
  readonly #freedAt = new WeakMap<Socket, number>();
  readonly #limitMs = new WeakMap<Socket, number>();

  constructor(clock: Clock, reuseWithinMs: number) {
    this.#clock = clock;
    this.#reuseWithinMs = reuseWithinMs;
  }

  /** Stamps each socket the agent takes back into its pool. */
  watch<A extends HttpAgent>(agent: A): A {
    agent.on("free", (socket: Socket) => this.#freedAt.set(socket, this.#clock.now()));
    return agent;
  }

  /** Notes a response's `Keep-Alive` header, if any, for its socket. */
  hinted(socket: Socket, header: string): void {
    const seconds = /(?:^|[\s,;])timeout\s*=\s*(\d+)/i.exec(header)?.[1];
    if (seconds === undefined) this.#limitMs.delete(socket);
    else this.#limitMs.set(socket, Math.min(this.#reuseWithinMs, Number(seconds) * 1000 - 1000));
  }

  /** Whether an idle socket may still be written on. */
  fresh(socket: Socket): boolean {
    const freedAt = this.#freedAt.get(socket);
    const limitMs = this.#limitMs.get(socket) ?? this.#reuseWithinMs;
    return freedAt !== undefined && !socket.destroyed && this.#clock.now() - freedAt < limitMs;
  }

  /**
   * Closes the agent's idle sockets that are no longer fresh, before a request picks one. The agent
   * keeps them in the order they were freed and skips closed ones at the head of that list, which is
   * where stale ones are; a closed one it takes anyway is caught at its 'socket' event.
   */
  prune(agent: HttpAgent): void {
    for (const sockets of Object.values(agent.freeSockets)) for (const s of sockets ?? []) if (!this.fresh(s)) s.destroy();
  }
}

/**
 * The same contract over a `fetch` implementation (no redirects followed). fetch does not say when
 * it connected, so the request counts as writable at once: every timeout may have delivered it
 * (undici's own connect timeout, UND_ERR_CONNECT_TIMEOUT, still reads as not delivered).
 */
export function fetchTransport(doFetch: typeof fetch): Transport {
  return async (url, form, { signal, maxBodyBytes, onWritable, contentType }) => {
    onWritable();
    const res = await doFetch(url, { method: "POST", headers: headersFor(contentType), body: form, signal, redirect: "error" });
    const head = { status: res.status, contentType: res.headers.get("content-type") ?? "" };
    if (!res.body) return { ...head, body: "" };
    const stream = Readable.fromWeb(res.body as WebReadableStream);
    const read = await readCapped(stream, maxBodyBytes);
    if (read.kind === "complete") return { ...head, body: read.body.toString("utf8") };
    stream.destroy();
    return { ...head, body: undefined };
  };
}
