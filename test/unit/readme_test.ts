/**
 * The README stands on its own: it names no document outside the repository, every path and link it
 * gives exists, every `#anchor` resolves, and every readiness issue and warning the worker can report
 * has a Troubleshooting row (`id="ts-<kind>"`) that the alert rules can link to.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { ISSUE_KINDS, WARNING_KINDS } from "../../src/health/readiness_issue.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const README = readFileSync(`${ROOT}README.md`, "utf8");

/** GitHub's heading anchor: lower case, punctuation other than `-` and `_` dropped, spaces to `-`. */
export function headingSlug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/`/g, "")
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");
}

/** Every anchor the README defines: its headings' slugs and explicit `id="..."` attributes. */
export function anchorsOf(markdown: string): Set<string> {
  const out = new Set<string>();
  let inFence = false;
  for (const line of markdown.split("\n")) {
    if (line.startsWith("```")) inFence = !inFence;
    const heading = !inFence && /^#{1,6} (.+)$/.exec(line);
    if (heading) out.add(headingSlug(heading[1]!));
  }
  for (const m of markdown.matchAll(/\bid="([^"]+)"/g)) out.add(m[1]!);
  return out;
}

/** The issue and warning kinds (the part before `=`) pushed in a source file. */
describe("README", () => {
  test("names no document outside the repository", () => {
    for (const pattern of [/\bSPEC\b/, /\bseed(?:'s)?\b(?! N| 1)/i, /\.\.\/shared/, /STYLE\.md/, /\bissue \d+\b/i]) {
      const hit = README.split("\n").find((l) => pattern.test(l) && !/--seed/.test(l));
      assert.equal(hit, undefined, `README refers outside the repository (${pattern}): ${hit}`);
    }
  });

  test("every repository path it names exists", () => {
    const paths = [...README.matchAll(/`((?:src|test|deploy|scripts|\.ci)\/[^`\s]*)`/g)].map((m) => m[1]!);
    assert.ok(paths.length > 20, `found ${paths.length} paths`);
    const missing = paths.filter((p) => !/[*<{]/.test(p) && !existsSync(ROOT + p.replace(/[:#].*$/, "")));
    assert.deepEqual(missing, []);
  });

  test("every relative link and #anchor resolves", () => {
    const anchors = anchorsOf(README);
    const links = [...README.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!).filter((l) => !/^[a-z]+:/.test(l));
    assert.ok(links.length > 5);
    const broken = links.filter((l) => (l.startsWith("#") ? !anchors.has(l.slice(1)) : !existsSync(ROOT + l.replace(/#.*$/, ""))));
    assert.deepEqual(broken, []);
  });

  test("every readiness issue and warning the worker reports has a Troubleshooting row", () => {
    const kinds: string[] = [...ISSUE_KINDS, ...WARNING_KINDS];
    for (const expected of ["starting", "draining", "upstream_auth", "low_balance", "backlog", "state_dir", "queue_wait", "saturation"]) assert.ok(kinds.includes(expected), expected);
    const anchors = anchorsOf(README);
    const missing = kinds.filter((k) => !anchors.has(`ts-${k}`));
    assert.deepEqual(missing, []);
    const section = README.slice(README.indexOf("## Troubleshooting"));
    assert.ok(section.length < README.length, "a Troubleshooting section");
    for (const k of kinds) assert.match(section, new RegExp(`id="ts-${k}"`), k);
  });

  test("the helpers: slugs and anchors as GitHub makes them", () => {
    assert.equal(headingSlug("Readiness: states, issues and the way back from each"), "readiness-states-issues-and-the-way-back-from-each");
    assert.equal(headingSlug("Durability (`--state-dir`)"), "durability---state-dir");
    assert.deepEqual([...anchorsOf("# A b\n```\n# not\n```\n<a id=\"x\"></a>")], ["a-b", "x"]);
  });
});
