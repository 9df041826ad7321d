import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { readLines, type Line } from "../../../src/base/line_reader.ts";
import { tempDir } from "../../_support/temp_dirs.ts";

async function all(path: string, chunkBytes: number, maxLineBytes: number): Promise<Line[]> {
  const out: Line[] = [];
  for await (const l of readLines(path, { chunkBytes, maxLineBytes })) out.push(l);
  return out;
}

describe("readLines", () => {
  test("readLines yields each line across chunk boundaries, multi-byte text intact, the unterminated last one marked", async () => {
    const path = join(tempDir("cw-lines-"), "f");
    writeFileSync(path, "alpha\nbétä ✓\n\nlast");
    const lines = await all(path, 3, 100);
    assert.deepEqual(lines, [
      { number: 1, text: "alpha", terminated: true },
      { number: 2, text: "bétä ✓", terminated: true },
      { number: 3, text: "", terminated: true },
      { number: 4, text: "last", terminated: false },
    ]);
  });

  test("readLines skips a line over maxLineBytes without buffering it; a missing file has no lines", async () => {
    const dir = tempDir("cw-lines-");
    const path = join(dir, "f");
    writeFileSync(path, "ok\n" + "x".repeat(50) + "\nafter\n" + "y".repeat(40));
    assert.deepEqual(await all(path, 8, 20), [
      { number: 1, text: "ok", terminated: true },
      { number: 2, text: undefined, terminated: true },
      { number: 3, text: "after", terminated: true },
      { number: 4, text: undefined, terminated: false },
    ]);
    assert.deepEqual(await all(join(dir, "none"), 8, 20), []);
  });
});
