/**
 * Request bodies with limits: the content type checked before reading, the size counted as bytes
 * arrive (a declared or streamed body over the limit is refused at once and the connection closed,
 * not read to its end), strict UTF-8, JSON parse errors as 400 naming `body`.
 */
import type { IncomingMessage } from "node:http";
import { readCapped } from "../base/capped_read.ts";
import { WorkerError } from "../base/errors.ts";

/** @default 2 MiB (SPEC §5) */
export const DEFAULT_BODY_LIMIT = 2 * 1024 * 1024;

const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/** Reads and parses a JSON body; throws 415, 413 or 400 as WorkerErrors. */
export async function readJsonBody(req: IncomingMessage, limitBytes = DEFAULT_BODY_LIMIT): Promise<unknown> {
  const type = (req.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
  if (type !== "application/json" && !type.endsWith("+json")) {
    throw new WorkerError("ERR_UNSUPPORTED_MEDIA_TYPE", `Expected Content-Type application/json, got ${JSON.stringify(type.slice(0, 100) || "none")}.`, {
      field: "content-type",
    });
  }
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limitBytes) throw tooLarge(limitBytes);

  const read = await readCapped(req, limitBytes).catch((err: unknown) => {
    throw new WorkerError("ERR_BAD_REQUEST", "The body could not be read.", { field: "body", cause: err });
  });
  // Past the limit nothing more is read: the 413 closes the connection.
  if (read.kind === "too_large") throw tooLarge(limitBytes);
  let text: string;
  try {
    text = decoder.decode(read.body);
  } catch {
    throw new WorkerError("ERR_BAD_REQUEST", "The body is not valid UTF-8.", { field: "body" });
  }
  if (text.trim() === "") throw new WorkerError("ERR_BAD_REQUEST", "The body is empty; expected a JSON object.", { field: "body" });
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new WorkerError("ERR_BAD_REQUEST", "The body is not valid JSON.", { field: "body" });
  }
}

function tooLarge(limitBytes: number): WorkerError {
  return new WorkerError("ERR_BODY_TOO_LARGE", undefined, { field: "body", data: { limitBytes } });
}
