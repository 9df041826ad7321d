/**
 * The repository's markdown read as GitHub renders it: the README and the docs/ pages, their
 * headings and the anchors those make, their relative links, and whether a link resolves.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** GitHub's heading anchor: lower case, punctuation other than `-` and `_` dropped, spaces to `-`. */
export function headingSlug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/`/g, "")
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");
}

/** The lines of `markdown` outside fenced code blocks. */
function proseLines(markdown: string): string[] {
  const out: string[] = [];
  let inFence = false;
  for (const line of markdown.split("\n")) {
    if (/^\s*```/.test(line)) inFence = !inFence;
    else if (!inFence) out.push(line);
  }
  return out;
}

/** The text of every heading, in order, outside fenced code. */
export function headingsOf(markdown: string): string[] {
  return proseLines(markdown).flatMap((l) => /^#{1,6} (.+)$/.exec(l)?.[1]?.trim() ?? []);
}

/** Every anchor a page defines: its headings' slugs and explicit `id="..."` attributes. */
export function anchorsOf(markdown: string): Set<string> {
  const out = new Set(headingsOf(markdown).map(headingSlug));
  for (const m of markdown.matchAll(/\bid="([^"]+)"/g)) out.add(m[1]!);
  return out;
}

/** The labels of bold run-in headings (`**Reloads.** ...`), which name a part of a section. */
export function boldLabelsOf(markdown: string): string[] {
  return proseLines(markdown).flatMap((l) => /^\*\*([^*]+?)\.?\*\*/.exec(l)?.[1] ?? []);
}

/** Every link target of a page that is not a URL with a scheme (`docs/<page>.md`, `#anchor`, `<page>.md#a`). */
export function relativeLinks(markdown: string): string[] {
  return [...markdown.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!).filter((l) => !/^[a-z][a-z+.-]*:/i.test(l));
}

/** The README and every page under docs/, as repository paths (`README.md`, `docs/<page>.md`). */
export function docFiles(): string[] {
  const docs = readdirSync(join(ROOT, "docs")).filter((f) => f.endsWith(".md")).sort();
  return ["README.md", ...docs.map((f) => `docs/${f}`)];
}

export function readDoc(file: string): string {
  return readFileSync(join(ROOT, file), "utf8");
}

/**
 * Why `link`, found in the page `from` (a repository path), does not resolve, or undefined when it
 * does: the file it names must exist, and an anchor must be one the target page defines.
 */
export function brokenLink(from: string, link: string): string | undefined {
  const [path, anchor] = link.split("#", 2) as [string, string | undefined];
  const target = path === "" ? from : normalize(join(dirname(from), path));
  if (target.startsWith("..")) return `${link}: outside the repository`;
  if (!existsSync(join(ROOT, target))) return `${link}: no file ${target}`;
  if (anchor === undefined || !target.endsWith(".md")) return undefined;
  return anchorsOf(readDoc(target)).has(anchor) ? undefined : `${link}: no anchor #${anchor} in ${target}`;
}

/** A repository path relative to ROOT. */
export function repoPath(absolute: string): string {
  return relative(ROOT, absolute);
}
