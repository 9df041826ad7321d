/**
 * Request bodies with limits: the content type checked before reading, the size counted as bytes
 * arrive (a declared or streamed body over the limit is refused at once and the connection closed,
 * not read to its end), strict UTF-8, JSON parse errors as 400 naming `body`.
 */
import type { IncomingMessage } from "node:http";
import type { ByteBudget } from "../base/byte_budget.ts";
import { readCapped } from "../base/capped_read.ts";
import { WorkerError } from "../base/errors.ts";

/** @default 2 MiB (docs/task-api.md) */
export const DEFAULT_BODY_LIMIT = 2 * 1024 * 1024;

const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/**
 * @default 16 MiB: bodies being read at once, all connections and APIs together (8 of the largest
 * task bodies, 5 of the gateway's; thousands of ordinary ones). A body is held up to three times
 * while it is parsed (bytes, text, value), so docs/sizing-and-performance.md, Sizing counts 3 x this.
 */
export const DEFAULT_BODY_BUDGET = 16 * 1024 * 1024;

/**
 * Reads a body whole, or throws: 413 ERR_BODY_TOO_LARGE past `limitBytes` (declared or streamed;
 * nothing more is read, the answer closes the connection), 503 ERR_BUSY when `budget` has no room
 * for it (nothing read): the declared length, or the whole limit when undeclared, is taken from it
 * while the body is read, so slow bodies cannot hold unbounded memory together. A client gone
 * part-way is ERR_BAD_REQUEST naming `body` (its answer is never written).
 */
export async function readBody(req: IncomingMessage, limitBytes = DEFAULT_BODY_LIMIT, budget?: ByteBudget): Promise<Buffer> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limitBytes) throw tooLarge(limitBytes);
  const reserved = Number.isFinite(declared) && declared >= 0 ? declared : limitBytes;
  if (budget && !budget.take(reserved)) throw new WorkerError("ERR_BUSY");
  const read = await readCapped(req, limitBytes, Number.isFinite(declared) ? declared : undefined)
    .catch((err: unknown) => {
      throw new WorkerError("ERR_BAD_REQUEST", "The body could not be read.", { field: "body", cause: err });
    })
    .finally(() => budget?.give(reserved));
  // Past the limit nothing more is read: the 413 closes the connection.
  if (read.kind === "too_large") throw tooLarge(limitBytes);
  return read.body;
}

/** Reads and parses a JSON body (readBody's limits); throws 415 for another content type, 400 for what is not JSON. */
export async function readJsonBody(req: IncomingMessage, limitBytes = DEFAULT_BODY_LIMIT, budget?: ByteBudget): Promise<unknown> {
  const type = (req.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
  if (type !== "application/json" && !type.endsWith("+json")) {
    throw new WorkerError("ERR_UNSUPPORTED_MEDIA_TYPE", `Expected Content-Type application/json, got ${JSON.stringify(type.slice(0, 100) || "none")}.`, {
      field: "content-type",
    });
  }
  // Decoded as it is returned: nothing references the bytes while the text is parsed, so the next
  // collection can free them whatever the parse and the submit that follows still hold.
  const text = decode(await readBody(req, limitBytes, budget));
  if (text.trim() === "") throw new WorkerError("ERR_BAD_REQUEST", "The body is empty; expected a JSON object.", { field: "body" });
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new WorkerError("ERR_BAD_REQUEST", "The body is not valid JSON.", { field: "body" });
  }
}

function decode(body: Buffer): string {
  try {
    return decoder.decode(body);
  } catch {
    throw new WorkerError("ERR_BAD_REQUEST", "The body is not valid UTF-8.", { field: "body" });
  }
}

function tooLarge(limitBytes: number): WorkerError {
  return new WorkerError("ERR_BODY_TOO_LARGE", undefined, { field: "body", data: { limitBytes } });
}
