/** The gateway's own node:http edge (private to src/gateway): handler shape, capped bodies, 200 answers as 2captcha sends them. */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from "node:http";
import type { ByteBudget } from "../base/byte_budget.ts";
import { readCapped } from "../base/capped_read.ts";
import { lingerBeforeClose } from "../base/linger.ts";

/** A route handler as the worker's router calls it. */
export type GatewayHandler = (req: IncomingMessage, res: ServerResponse, params: Record<string, string>, url: URL) => Promise<void>;

export interface GatewayRoute {
  method: "GET" | "POST";
  path: string;
  handler: GatewayHandler;
}

/** Image uploads as multipart or base64 in JSON: room for MAX_IMAGE_BASE64 and the envelope around it. */
export const BODY_LIMIT_BYTES = 3 * 1024 * 1024;

/**
 * The body, or "too_large" (the caller answers and the connection closes), "busy" (the worker's
 * shared body budget has no room: nothing read, the caller answers no-slot and closes) or "gone"
 * (the client left). Bodies of all connections together are held to `budget`, the same one the task
 * API reads against, before any key is looked at.
 */
export async function readBody(req: IncomingMessage, budget?: ByteBudget): Promise<Buffer | "too_large" | "busy" | "gone"> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > BODY_LIMIT_BYTES) return "too_large";
  const reserved = Number.isFinite(declared) && declared >= 0 ? declared : BODY_LIMIT_BYTES;
  if (budget && !budget.take(reserved)) return "busy";
  try {
    const read = await readCapped(req, BODY_LIMIT_BYTES, Number.isFinite(declared) ? declared : undefined);
    return read.kind === "complete" ? read.body : "too_large";
  } catch {
    return "gone";
  } finally {
    budget?.give(reserved);
  }
}

/** Writes a 200 (2captcha answers errors with 200 too), with `Access-Control-Allow-Origin: *` when asked. */
export function send(res: ServerResponse, text: string, contentType: string, o: { acao?: boolean; close?: boolean } = {}): void {
  if (res.headersSent || res.destroyed) return;
  const headers: OutgoingHttpHeaders = { "content-type": contentType, "content-length": Buffer.byteLength(text), "cache-control": "no-store" };
  if (o.acao) headers["access-control-allow-origin"] = "*";
  if (o.close) {
    headers.connection = "close";
    lingerBeforeClose(res); // an upload refused part-way reads its answer, not a reset
  }
  res.writeHead(200, headers);
  res.end(res.req.method === "HEAD" ? undefined : text);
}
