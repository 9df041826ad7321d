/**
 * The default budgets and what they allow together, as docs/sizing-and-performance.md, Sizing writes the arithmetic: each
 * part computed from the constant the worker runs with, the whole under the 512 MiB container the
 * defaults are sized for, and docs/sizing-and-performance.md naming each figure. The peaks themselves are measured by
 * `npm run bench -- memory` (scripts/bench_memory.mjs), never asserted in a test.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { parseConfig } from "../../src/config/parse_config.ts";
import { BODY_LIMIT_BYTES } from "../../src/gateway/legacy.ts";
import { DEFAULT_BODY_BUDGET, DEFAULT_BODY_LIMIT } from "../../src/http/body.ts";
import { DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_HEADER_BYTES } from "../../src/http/server.ts";
import { DEFAULT_QUEUE_MAX_BYTES } from "../../src/solver/pool_options.ts";
import { MAX_IMAGE_BASE64 } from "../../src/tasks/task_fields.ts";
import { DEFAULT_MAX_FINISHED_BYTES } from "../../src/tasks/task_store.ts";

const KiB = 1024;
const MiB = 1024 * KiB;
/** The container the defaults are sized for. */
const CEILING = 512 * MiB;
/** Idle RSS with an https upstream (docs/sizing-and-performance.md, Performance: 51.5 MiB with http, TLS about 8 MiB more). */
const BASE = 60 * MiB;
/** One open connection before its headers, measured (docs/sizing-and-performance.md, Sizing): 12 KiB silent, 16 KiB idle keep-alive. */
const PER_CONNECTION = 16 * KiB;
/** V8's young generation where V8 sizes itself from a big host: two 64 MiB semi-spaces (about 8 MiB in a 512 MiB container). */
const YOUNG_GENERATION = 128 * MiB;

/** What each budget lets the worker hold at once with the defaults (docs/sizing-and-performance.md, Sizing, the table's last column). */
function budgets(stateDir: boolean): Record<string, number> {
  const { config } = parseConfig({}, {});
  return {
    base: BASE,
    "queued payloads": config.queueMaxBytes,
    // Each submit out holds its payload once more as the form, then as the bytes written.
    "submits in flight": config.threads * 2 * MAX_IMAGE_BASE64,
    "retained results": DEFAULT_MAX_FINISHED_BYTES,
    // The journal keeps the same ended tasks' end records, to answer them again after a restart.
    ...(stateDir ? { "the journal's end records": DEFAULT_MAX_FINISHED_BYTES } : {}),
    // A body is held as bytes, as text and as its parsed value for a moment.
    "request bodies": 3 * DEFAULT_BODY_BUDGET,
    connections: DEFAULT_MAX_CONNECTIONS * (PER_CONNECTION + DEFAULT_MAX_HEADER_BYTES),
  };
}
const sum = (parts: Record<string, number>) => Object.values(parts).reduce((a, b) => a + b, 0);

describe("memory budgets (docs/sizing-and-performance.md, Sizing)", () => {
  test("--queue-max-bytes' default is the pool's, and the body budget takes several of each API's largest bodies at once", () => {
    assert.equal(parseConfig({}, {}).config.queueMaxBytes, DEFAULT_QUEUE_MAX_BYTES);
    assert.ok(DEFAULT_BODY_BUDGET >= 8 * DEFAULT_BODY_LIMIT, "8 task bodies of the limit");
    assert.ok(DEFAULT_BODY_BUDGET >= 5 * BODY_LIMIT_BYTES, "5 gateway uploads of the limit");
  });

  test("every budget full at once, plus V8's young generation, stays under 512 MiB, with --state-dir too", () => {
    for (const stateDir of [false, true]) {
      const parts = budgets(stateDir);
      const total = sum(parts) + YOUNG_GENERATION;
      const shown = Object.entries(parts).map(([k, v]) => `${k} ${(v / MiB).toFixed(0)}`).join(" + ");
      assert.ok(total <= CEILING - 32 * MiB, `${shown} + young generation 128 = ${(total / MiB).toFixed(0)} MiB, over 480 MiB`);
    }
    // Today's figures, as docs/sizing-and-performance.md writes them: a change to a default changes the page too.
    assert.equal(sum(budgets(false)) / MiB, 320);
    assert.equal(sum(budgets(true)) / MiB, 352);
  });

  test("docs/sizing-and-performance.md's Sizing section names each default and the sums", () => {
    const page = readFileSync(new URL("../../docs/sizing-and-performance.md", import.meta.url), "utf8");
    const at = page.indexOf("\n## Sizing\n");
    assert.ok(at >= 0, "a Sizing section");
    const sizing = page.slice(at, page.indexOf("\n## ", at + 1));
    const mib = (n: number) => `${n / MiB} MiB`;
    for (const figure of [mib(DEFAULT_QUEUE_MAX_BYTES), mib(DEFAULT_MAX_FINISHED_BYTES), mib(DEFAULT_BODY_BUDGET), mib(3 * DEFAULT_BODY_BUDGET), "4,096", `${DEFAULT_MAX_HEADER_BYTES / KiB} KiB`, mib(sum(budgets(false))), mib(sum(budgets(true)))]) {
      assert.ok(sizing.includes(figure), `docs/sizing-and-performance.md, Sizing names ${figure}`);
    }
    assert.equal(DEFAULT_MAX_CONNECTIONS, 4_096);
  });
});
