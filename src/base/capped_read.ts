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
  const declared = expectedBytes !== undefined && Number.isSafeInteger(expectedBytes) && expectedBytes > 0 && expectedBytes <= limitBytes;
  return collect(stream, limitBytes, declared ? intoBuffer(Buffer.allocUnsafe(expectedBytes)) : intoChunks());
}

/** Where the bytes read so far are kept. */
interface Store {
  add(buf: Buffer): void;
  /** The first `bytes` bytes kept. */
  take(bytes: number): Buffer;
}

function intoChunks(): Store {
  const chunks: Buffer[] = [];
  return { add: (buf) => void chunks.push(buf), take: (bytes) => Buffer.concat(chunks, bytes) };
}

/** Into one preallocated buffer; a body longer than it (the sender lied) goes on in chunks. */
function intoBuffer(into: Buffer): Store {
  let filled = 0;
  let overflow: Buffer[] | undefined;
  return {
    add(buf) {
      if (overflow === undefined && filled + buf.length <= into.length) filled += buf.copy(into, filled);
      else (overflow ??= []).push(buf);
    },
    take: (bytes) => (overflow === undefined && bytes <= filled ? into.subarray(0, bytes) : Buffer.concat([into.subarray(0, filled), ...(overflow ?? [])], bytes)),
  };
}

function collect(stream: Readable, limitBytes: number, store: Store): Promise<CappedRead> {
  return new Promise((resolve, reject) => {
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
        store.add(buf.subarray(0, limitBytes - size));
        cleanup();
        stream.pause();
        return resolve({ kind: "too_large", head: store.take(limitBytes) });
      }
      size += buf.length;
      store.add(buf);
    };
    const onEnd = () => {
      cleanup();
      resolve({ kind: "complete", body: store.take(size) });
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
