/** Small writers for the hot paths: no web Request/Response objects, headers precomputed by callers. */
import type { OutgoingHttpHeaders, ServerResponse } from "node:http";
import { lingerBeforeClose } from "./linger.ts";

/** Sends `body` as JSON (or only the headers for HEAD) with `Cache-Control: no-store`. */
export function sendJson(res: ServerResponse, status: number, body: unknown, contentType = "application/json"): void {
  sendText(res, status, JSON.stringify(body), contentType);
}

/**
 * Sends `text` (or only the headers for HEAD) with its length and `Cache-Control: no-store`;
 * `headers` added. With `connection: close` a request body left unread lingers (linger.ts), so the
 * client reads the answer, not a reset. Nothing is written to a response already sent or destroyed.
 */
export function sendText(
  res: ServerResponse,
  status: number,
  text: string,
  contentType: string,
  headers?: OutgoingHttpHeaders,
): void {
  if (res.headersSent || res.destroyed) return;
  if (headers?.connection === "close") lingerBeforeClose(res);
  res.writeHead(status, {
    "content-type": contentType,
    "content-length": Buffer.byteLength(text),
    "cache-control": "no-store",
    ...headers,
  });
  res.end(res.req.method === "HEAD" ? undefined : text);
}
