/** The gateway's own node:http edge (private to src/gateway): handler shape, capped bodies, 200 answers as 2captcha sends them. */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from "node:http";
import { readCapped } from "../base/capped_read.ts";

/** A route handler as the worker's router calls it. */
export type GatewayHandler = (req: IncomingMessage, res: ServerResponse, params: Record<string, string>, url: URL) => Promise<void>;

export interface GatewayRoute {
  method: "GET" | "POST";
  path: string;
  handler: GatewayHandler;
}

/** Image uploads as multipart or base64 in JSON: room for MAX_IMAGE_BASE64 and the envelope around it. */
export const BODY_LIMIT_BYTES = 3 * 1024 * 1024;

/** The body, or "too_large" (the caller answers and the connection closes), or "gone" (the client left). */
export async function readBody(req: IncomingMessage): Promise<Buffer | "too_large" | "gone"> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > BODY_LIMIT_BYTES) return "too_large";
  try {
    const read = await readCapped(req, BODY_LIMIT_BYTES);
    return read.kind === "complete" ? read.body : "too_large";
  } catch {
    return "gone";
  }
}

/** Writes a 200 (2captcha answers errors with 200 too), with `Access-Control-Allow-Origin: *` when asked. */
export function send(res: ServerResponse, text: string, contentType: string, o: { acao?: boolean; close?: boolean } = {}): void {
  if (res.headersSent || res.destroyed) return;
  const headers: OutgoingHttpHeaders = { "content-type": contentType, "content-length": Buffer.byteLength(text), "cache-control": "no-store" };
  if (o.acao) headers["access-control-allow-origin"] = "*";
  if (o.close) headers.connection = "close";
  res.writeHead(200, headers);
  res.end(res.req.method === "HEAD" ? undefined : text);
}
