/** What a forward is made of: the peer headers, what of the client's request travels, the target URL, and the owner's answer written back. */
import type { IncomingHttpHeaders, OutgoingHttpHeaders, ServerResponse } from "node:http";
import type { HttpAnswer } from "../http/http_client.ts";

/** Marks a request as forwarded by a peer (its value: the sender's node number); never forwarded again. */
export const FORWARDED_HEADER = "x-captcha-worker-forwarded";
/** The peers' shared token (--peer-token-file). */
export const PEER_TOKEN_HEADER = "x-captcha-worker-peer-token";
/** On a forwarded request: the node it is meant for; on a 421 refusal: the node that refused it. */
export const NODE_HEADER = "x-captcha-worker-node";
/** Client headers the owner needs; nothing else is passed on (no cookies, no proxies' headers). */
const PASSED_ON = ["authorization", "content-type", "content-length", "transfer-encoding", "prefer", "accept", "user-agent"];
/** Hop-by-hop headers (RFC 9110 §7.6.1) and the length, which the answer written back sets itself. */
const NOT_COPIED = new Set(["connection", "keep-alive", "transfer-encoding", "proxy-connection", "upgrade", "content-length"]);

/** The client's headers that travel; with `body` already read, its length replaces the client's framing. */
export function forwardedHeaders(h: IncomingHttpHeaders, body: Buffer | undefined): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const k of PASSED_ON) if (h[k] !== undefined) out[k] = h[k];
  if (body !== undefined) {
    delete out["transfer-encoding"];
    out["content-length"] = body.length;
  }
  return out;
}

/** `pathAndQuery` on the peer's base URL (which may carry a path prefix). */
export function requestTarget(peer: URL, pathAndQuery: string): URL {
  const target = new URL(peer);
  const wanted = new URL(pathAndQuery, "http://peer.invalid");
  target.pathname = peer.pathname.replace(/\/$/, "") + wanted.pathname;
  target.search = wanted.search;
  return target;
}

/** The owner's answer to the client: its status, its end-to-end headers and its body. */
export function sendOwnerAnswer(res: ServerResponse, answer: HttpAnswer): void {
  const copied: OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(answer.headers)) if (v !== undefined && !NOT_COPIED.has(k)) copied[k] = v;
  const head = res.req.method === "HEAD";
  if (!head) copied["content-length"] = answer.body.length;
  else if (answer.headers["content-length"] !== undefined) copied["content-length"] = answer.headers["content-length"];
  res.writeHead(answer.status || 502, copied);
  res.end(head ? undefined : answer.body);
}
