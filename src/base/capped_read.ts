/**
 * Reads a stream (a request or response body) into one Buffer up to a byte cap. Past the cap it
 * stops reading at once and says so, keeping only the bytes up to the cap: the caller decides
 * whether to destroy the stream (a client) or answer 413 and close (a server, whose socket must
 * stay writable for that answer).
 */
import type { Readable } from "node:stream";

export type CappedRead =
  | { kind: "complete"; body: Buffer }
  /** `head`: the first `limitBytes` bytes; the stream is paused, its listeners removed, nothing more read. */
  | { kind: "too_large"; head: Buffer };

/**
 * Collects `stream` to its end. Rejects with the stream's error, or with an Error "aborted" when it
 * closes before its end (a client gone away). After `too_large` the caller owns the stream: destroy
 * it, or keep it (an IncomingMessage emits no error without a listener) until the answer is sent.
 */
export function readCapped(stream: Readable, limitBytes: number, expectedBytes?: number): Promise<CappedRead> {
  // A declared length within the cap: one buffer of that size, each chunk copied in and let go at
  // once, so a body is held once, not twice (chunks, then their concatenation).
  if (expectedBytes !== undefined && Number.isSafeInteger(expectedBytes) && expectedBytes > 0 && expectedBytes <= limitBytes) {
    return readInto(stream, limitBytes, Buffer.allocUnsafe(expectedBytes));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = () => {
      stream.off("data", onData);
      stream.off("end", onEnd);
      stream.off("error", onError);
      stream.off("close", onClose);
    };
    const onData = (chunk: Buffer | string) => {
      const buf = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
      if (size + buf.length > limitBytes) {
        chunks.push(buf.subarray(0, limitBytes - size));
        cleanup();
        stream.pause();
        return resolve({ kind: "too_large", head: Buffer.concat(chunks, limitBytes) });
      }
      size += buf.length;
      chunks.push(buf);
    };
    const onEnd = () => {
      cleanup();
      resolve({ kind: "complete", body: Buffer.concat(chunks, size) });
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    const onClose = () => onError(new Error("aborted"));
    stream.on("data", onData);
    stream.on("end", onEnd);
    stream.on("error", onError);
    stream.on("close", onClose);
    if (stream.readableEnded) onEnd();
    else if (stream.destroyed) onClose();
  });
}

/** readCapped into `into`; a body longer than it (the sender lied) falls back to chunks up to the cap. */
function readInto(stream: Readable, limitBytes: number, into: Buffer): Promise<CappedRead> {
  return new Promise((resolve, reject) => {
    let size = 0;
    /** Bytes in `into`; what did not fit goes to `overflow`, in order. */
    let filled = 0;
    let overflow: Buffer[] | undefined;
    const cleanup = () => {
      stream.off("data", onData);
      stream.off("end", onEnd);
      stream.off("error", onError);
      stream.off("close", onClose);
    };
    const onData = (chunk: Buffer | string) => {
      const buf = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
      if (size + buf.length > limitBytes) {
        const head = Buffer.concat([into.subarray(0, filled), ...(overflow ?? []), buf], limitBytes);
        cleanup();
        stream.pause();
        return resolve({ kind: "too_large", head });
      }
      if (overflow === undefined && filled + buf.length <= into.length) filled += buf.copy(into, filled);
      else (overflow ??= []).push(buf);
      size += buf.length;
    };
    const onEnd = () => {
      cleanup();
      const body = overflow === undefined ? into.subarray(0, filled) : Buffer.concat([into.subarray(0, filled), ...overflow], size);
      resolve({ kind: "complete", body });
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    const onClose = () => onError(new Error("aborted"));
    stream.on("data", onData);
    stream.on("end", onEnd);
    stream.on("error", onError);
    stream.on("close", onClose);
    if (stream.readableEnded) onEnd();
    else if (stream.destroyed) onClose();
  });
}
