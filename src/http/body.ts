/**
 * Request bodies with limits: the content type checked before reading, the size counted as bytes
 * arrive (a declared or streamed body over the limit is refused at once and the connection closed,
 * not read to its end), strict UTF-8, JSON parse errors as 400 naming `body`.
 */
import type { IncomingMessage } from "node:http";
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

  const { chunks, size } = await collect(req, limitBytes);
  let text: string;
  try {
    text = decoder.decode(Buffer.concat(chunks, size));
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

/** Collects the body; past the limit it stops reading (the 413 then closes the connection). */
function collect(req: IncomingMessage, limitBytes: number): Promise<{ chunks: Buffer[]; size: number }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = () => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
      req.off("aborted", onAborted);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limitBytes) {
        cleanup();
        req.pause();
        return reject(tooLarge(limitBytes));
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve({ chunks, size });
    };
    const onError = (err: Error) => {
      cleanup();
      reject(new WorkerError("ERR_BAD_REQUEST", "The body could not be read.", { field: "body", cause: err }));
    };
    const onAborted = () => onError(new Error("aborted"));
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onError);
    req.on("aborted", onAborted);
  });
}

function tooLarge(limitBytes: number): WorkerError {
  return new WorkerError("ERR_BODY_TOO_LARGE", `The body is over the limit of ${limitBytes} bytes.`, { field: "body" });
}
