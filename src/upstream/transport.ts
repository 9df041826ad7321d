/**
 * How the protocol client puts one form POST on the wire. The default rides node:http(s) with a
 * keep-alive agent: against the simulator it costs about half of what `fetch` costs per call in
 * CPU and allocation (see README, Performance), and it tells when the request could be written
 * (connected, TLS handshake done, or a kept-alive socket reused), which is what the connect timeout
 * and "surely not delivered" rest on. A `fetch` (the global one, or another) can be injected instead
 * and gets the same cap on the body and the same errors, but hides its connect phase.
 */
import { loadBuiltin } from "../base/builtin.ts";
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
}

/** POSTs `form` (urlencoded) to `url`; rejects on network errors and aborts, never on a status. */
export type Transport = (url: URL, form: string, call: TransportCall) => Promise<TransportResponse>;

const HEADERS = { "content-type": "application/x-www-form-urlencoded", accept: "application/json, text/plain" };

/** node:http(s) with keep-alive connections, shared by every call of one client. */
export function nodeHttpTransport(): Transport & { close(): void } {
  const agents = { http: new HttpAgent({ keepAlive: true, scheduling: "lifo" }), https: undefined as import("node:https").Agent | undefined };
  const transport = (url: URL, form: string, { signal, maxBodyBytes, onWritable }: TransportCall) =>
    new Promise<TransportResponse>((resolve, reject) => {
      const secure = url.protocol === "https:";
      const send = secure ? https().request : httpRequest;
      const req = send(url, {
        method: "POST",
        agent: secure ? (agents.https ??= new (https().Agent)({ keepAlive: true, scheduling: "lifo" })) : agents.http,
        headers: { ...HEADERS, "content-length": Buffer.byteLength(form) },
        signal,
      });
      req.on("error", reject);
      req.on("socket", (socket: Socket) => {
        // A new TLS socket is writable after its handshake, even though its TCP connect is done.
        if (req.reusedSocket || (!secure && !socket.connecting)) return onWritable();
        socket.once(secure ? "secureConnect" : "connect", onWritable);
      });
      req.on("response", (res: IncomingMessage) => {
        const head = { status: res.statusCode ?? 0, contentType: String(res.headers["content-type"] ?? "") };
        readCapped(res, maxBodyBytes).then((read) => {
          if (read.kind === "complete") return resolve({ ...head, body: read.body.toString("utf8") });
          res.destroy();
          resolve({ ...head, body: undefined });
        }, reject);
      });
      req.end(form);
    });
  return Object.assign(transport, {
    close() {
      agents.http.destroy();
      agents.https?.destroy();
    },
  });
}

/**
 * The same contract over a `fetch` implementation (no redirects followed). fetch does not say when
 * it connected, so the request counts as writable at once: every timeout may have delivered it
 * (undici's own connect timeout, UND_ERR_CONNECT_TIMEOUT, still reads as not delivered).
 */
export function fetchTransport(doFetch: typeof fetch): Transport {
  return async (url, form, { signal, maxBodyBytes, onWritable }) => {
    onWritable();
    const res = await doFetch(url, { method: "POST", headers: HEADERS, body: form, signal, redirect: "error" });
    const head = { status: res.status, contentType: res.headers.get("content-type") ?? "" };
    if (!res.body) return { ...head, body: "" };
    const stream = Readable.fromWeb(res.body as WebReadableStream);
    const read = await readCapped(stream, maxBodyBytes);
    if (read.kind === "complete") return { ...head, body: read.body.toString("utf8") };
    stream.destroy();
    return { ...head, body: undefined };
  };
}
