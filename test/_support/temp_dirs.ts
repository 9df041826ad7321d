/** Temporary directories a test file makes, removed after it; and a journal file read back as records. */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after } from "node:test";
import { JOURNAL_FILE } from "../../src/journal/file_journal.ts";

const dirs: string[] = [];
// Registered as this module loads, so on the file's root (with the unit files in one process, on the
// run's): registered at the first call, inside a test, it ran when that test ended and every
// directory made after it was left behind.
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A new empty directory under the system's temp dir, removed when the test file (or the one-process unit run) ends. */
export function tempDir(prefix = "cw-journal-"): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}

/** The journal in `dir`, one parsed record a line. */
export const journalLines = (dir: string): Record<string, unknown>[] =>
  readFileSync(join(dir, JOURNAL_FILE), "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
