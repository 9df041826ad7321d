/**
 * The documentation stands on its own and a newcomer can finish the README: the README is short
 * (at most 3,000 words, the quick start in its first 40 lines, a table of contents naming every
 * section) and links every page under docs/; no page names a document outside the repository or
 * the development history (a commit, an issue); every path and link a page gives exists, every
 * `#anchor` resolves on the page it names; and every readiness issue and warning the worker can
 * report has a row of docs/troubleshooting.md (`id="ts-<kind>"`) that the alert rules can link to.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { describe, test } from "node:test";
import { ISSUE_KINDS, WARNING_KINDS } from "../../src/health/readiness_issue.ts";
import { anchorsOf, brokenLink, docFiles, headingSlug, headingsOf, readDoc, relativeLinks, ROOT } from "../_support/markdown.ts";

const README = readDoc("README.md");
const TROUBLESHOOTING = "docs/troubleshooting.md";
/** The pages for people who build the worker, not run it: a measured history may stay there. */
const DEVELOPER_PAGES = new Set(["docs/development.md"]);

const MAX_README_WORDS = 3000;

/** Words as `wc -w` counts them: runs of characters between white space. */
function wordCount(text: string): number {
  return text.split(/\s+/).filter((w) => w !== "").length;
}

/**
 * What in `text` refers outside the repository or to its history: SPEC sections and the seed article
 * (not in the repository), the shared notes, an issue (`issue 27`, `#27`) or a commit hash.
 */
export function outsideReferences(text: string): string[] {
  const patterns = [
    /\bSPEC\b/,
    /\bseed(?:'s)?\b(?! N| 1)/i,
    /\.\.\/shared/,
    /STYLE\.md/,
    /\bissues? \d+\b/i,
    /(?:^|[\s(\[])#\d+\b/,
    /\b(?=[0-9a-f]*[a-f])(?=[0-9a-f]*\d)(?:[0-9a-f]{7,12}|[0-9a-f]{40})\b/,
  ];
  return text.split("\n").filter((l) => !/--seed/.test(l) && patterns.some((p) => p.test(l)));
}

/** The text of the README section under `## heading`, up to the next `##`. */
function sectionOf(markdown: string, heading: string): string {
  const start = markdown.indexOf(`\n## ${heading}\n`);
  assert.ok(start >= 0, `a "## ${heading}" section`);
  const end = markdown.indexOf("\n## ", start + 1);
  return markdown.slice(start, end < 0 ? undefined : end);
}

describe("README", () => {
  test(`a newcomer can finish it: at most ${MAX_README_WORDS} words, the quick start in its first 40 lines`, () => {
    const words = wordCount(README);
    assert.ok(words <= MAX_README_WORDS, `README.md is ${words} words; reference material belongs in docs/`);
    const lines = README.split("\n");
    const quickStart = lines.findIndex((l) => /^## Quick start$/.test(l));
    assert.ok(quickStart >= 0 && quickStart < 40, `## Quick start at line ${quickStart + 1}`);
    assert.ok(lines.slice(0, 40).some((l) => l.startsWith("npm ci && npm start")), "the two commands in the first 40 lines");
    // Who it is for, before anything else.
    const intro = README.slice(0, README.indexOf("\n## "));
    assert.match(intro, /\bfor operators who\b/);
  });

  test("a table of contents links every section", () => {
    const contents = sectionOf(README, "Contents");
    const linked = new Set(relativeLinks(contents).filter((l) => l.startsWith("#")).map((l) => l.slice(1)));
    const sections = headingsOf(README).filter((h) => README.includes(`\n## ${h}\n`) && !["Contents", "Quick start"].includes(h));
    assert.ok(sections.length >= 6, `${sections.length} sections`);
    assert.deepEqual(sections.map(headingSlug).filter((s) => !linked.has(s)), []);
  });

  test("links every page under docs/, so each is reachable from it", () => {
    const linked = new Set(relativeLinks(README).map((l) => l.replace(/#.*$/, "")));
    assert.deepEqual(docFiles().filter((f) => f !== "README.md" && !linked.has(f)), []);
  });

  test("states no test count (it goes stale with the next test)", () => {
    const pages = docFiles().filter((f) => !DEVELOPER_PAGES.has(f));
    const hits = pages.flatMap((f) => readDoc(f).split("\n").filter((l) => /\b\d[\d,]* (?:unit |scenario |system )?tests\b/.test(l)).map((l) => `${f}: ${l}`));
    assert.deepEqual(hits, []);
  });
});

describe("README and docs/", () => {
  test("name no document outside the repository, no issue and no commit", () => {
    const hits = docFiles().flatMap((f) => outsideReferences(readDoc(f)).map((l) => `${f}: ${l}`));
    assert.deepEqual(hits, []);
  });

  test("every repository path they name exists", () => {
    const missing: string[] = [];
    let count = 0;
    for (const f of docFiles()) {
      for (const m of readDoc(f).matchAll(/`((?:src|test|deploy|scripts|docs|\.ci)\/[^`\s]*)`/g)) {
        count++;
        const p = m[1]!;
        if (!/[*<{]/.test(p) && !existsSync(ROOT + p.replace(/[:#].*$/, ""))) missing.push(`${f}: ${p}`);
      }
    }
    assert.ok(count > 50, `found ${count} paths`);
    assert.deepEqual(missing, []);
  });

  test("every relative link and #anchor resolves, on the page it names", () => {
    const broken: string[] = [];
    let count = 0;
    for (const f of docFiles()) {
      for (const link of relativeLinks(readDoc(f))) {
        count++;
        const why = brokenLink(f, link);
        if (why) broken.push(`${f}: ${why}`);
      }
    }
    assert.ok(count > 100, `found ${count} links`);
    assert.deepEqual(broken, []);
  });

  test("every readiness issue and warning the worker reports has a row of docs/troubleshooting.md", () => {
    const kinds: string[] = [...ISSUE_KINDS, ...WARNING_KINDS];
    for (const expected of ["starting", "draining", "upstream_auth", "low_balance", "backlog", "state_dir", "queue_wait", "saturation"]) assert.ok(kinds.includes(expected), expected);
    const anchors = anchorsOf(readDoc(TROUBLESHOOTING));
    assert.deepEqual(kinds.filter((k) => !anchors.has(`ts-${k}`)), []);
    // The README's Troubleshooting section points at the rows.
    const section = sectionOf(README, "Troubleshooting");
    const rows = new Set(relativeLinks(section).filter((l) => l.startsWith(`${TROUBLESHOOTING}#ts-`)).map((l) => l.slice(TROUBLESHOOTING.length + 4)));
    assert.deepEqual(kinds.filter((k) => !rows.has(k)), []);
  });
});

describe("the checks themselves", () => {
  test("slugs and anchors as GitHub makes them", () => {
    assert.equal(headingSlug("Readiness: states, issues and the way back from each"), "readiness-states-issues-and-the-way-back-from-each");
    assert.equal(headingSlug("Durability (`--state-dir`)"), "durability---state-dir");
    assert.deepEqual([...anchorsOf("# A b\n```\n# not\n```\n<a id=\"x\"></a>")], ["a-b", "x"]);
  });

  test("a link is broken when its page or its anchor is missing, resolved from the page it is on", () => {
    assert.equal(brokenLink("README.md", "docs/health.md#status-page"), undefined);
    assert.equal(brokenLink("docs/metrics.md", "health.md#status-page"), undefined);
    assert.equal(brokenLink("docs/metrics.md", "#alerts"), undefined);
    assert.match(brokenLink("docs/metrics.md", "#nowhere") ?? "", /no anchor #nowhere in docs\/metrics\.md/);
    assert.match(brokenLink("README.md", "docs/" + "nope.md") ?? "", /no file docs\/nope\.md/);
    assert.match(brokenLink("docs/metrics.md", "../../x.md") ?? "", /outside the repository/);
  });

  test("outside references: SPEC, issues, commits; not a 32-character key or a flag", () => {
    const lines = [
      "see SPEC §12", "fixed in issue 27", "as #31 said", "the build of main at 8e71839", "commit ac76e4cf9de20451fda3df949f5212650614b31d",
      "--key 0123456789abcdef0123456789abcdef", "--seed 7", "a 1,000,000-line file", "`#ts-starting`", "colour #ffffff",
    ];
    assert.deepEqual(outsideReferences(lines.join("\n")), lines.slice(0, 5));
  });

  test("words counted as wc -w counts them", () => {
    assert.equal(wordCount("# Title\n\nTwo words, `code` | a\n"), 7);
  });
});
