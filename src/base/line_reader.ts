/**
 * Reads a file line by line in fixed chunks, never the whole file as one string: memory is one chunk
 * plus the longest line, and a line over `maxLineBytes` is reported (text undefined) and skipped,
 * not buffered. The last line's `terminated` says whether a newline ended it (a crash mid-write does not).
 */
import { loadBuiltin } from "./builtin.ts";
// node:fs/promises (about 1 MB of RSS) loads at the first read: a worker without --state-dir never reads.
const open = (path: string, flags: string) => loadBuiltin("node:fs/promises").open(path, flags);

export interface LineReaderOptions {
  /** @default 1 MiB */
  chunkBytes?: number;
  /** @default 64 MiB */
  maxLineBytes?: number;
}

export interface Line {
  /** 1-based. */
  number: number;
  /** UTF-8 text without the newline; undefined when the line was over maxLineBytes. */
  text: string | undefined;
  terminated: boolean;
}

/** Yields each line of `path`; a missing file yields nothing. */
export async function* readLines(path: string, o: LineReaderOptions = {}): AsyncGenerator<Line> {
  const chunkBytes = o.chunkBytes ?? 1 << 20;
  const maxLineBytes = o.maxLineBytes ?? 64 << 20;
  let fh;
  try {
    fh = await open(path, "r");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
    throw err;
  }
  try {
    const buf = Buffer.allocUnsafe(chunkBytes);
    let parts: Buffer[] = [];
    let partBytes = 0;
    let tooLong = false;
    let number = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, chunkBytes, null);
      if (bytesRead === 0) break;
      let start = 0;
      for (;;) {
        const nl = buf.indexOf(10, start);
        if (nl < 0 || nl >= bytesRead) break;
        number++;
        if (tooLong || partBytes + nl - start > maxLineBytes) yield { number, text: undefined, terminated: true };
        else yield { number, text: Buffer.concat([...parts, buf.subarray(start, nl)]).toString("utf8"), terminated: true };
        parts = [];
        partBytes = 0;
        tooLong = false;
        start = nl + 1;
      }
      if (start < bytesRead && !tooLong) {
        partBytes += bytesRead - start;
        if (partBytes > maxLineBytes) {
          tooLong = true;
          parts = [];
        } else parts.push(Buffer.from(buf.subarray(start, bytesRead)));
      }
    }
    if (partBytes > 0 || tooLong) yield { number: number + 1, text: tooLong ? undefined : Buffer.concat(parts).toString("utf8"), terminated: false };
  } finally {
    await fh.close();
  }
}
