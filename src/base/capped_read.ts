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
export function readCapped(stream: Readable, limitBytes: number): Promise<CappedRead> {
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
