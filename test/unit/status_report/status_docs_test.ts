import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { readStatusDocs } from "../../../src/status_report/status_docs.ts";

describe("readStatusDocs", () => {
  test("readStatusDocs keeps the fields that have their type, as the worker sent them", () => {
    const docs = readStatusDocs({
      ready: { status: "ready", issues: [], stats: { solved: 3, balance: null, queue_depth: 1 }, thresholds: { min_balance: 1 } },
      dependencies: { status: "ok", checks: { captchaai_api: { status: "ok", response_ms: 12, checked_at: "2026-01-01T00:00:00.000Z", stale: false } } },
      health: { status: "pass", releaseId: "1.2.3", checks: { uptime: [{ observedValue: 42, status: "pass" }] } },
    });
    assert.equal(docs.ready.status, "ready");
    assert.deepEqual(docs.ready.issues, []);
    assert.equal(docs.ready.stats?.solved, 3);
    assert.equal(docs.ready.stats?.balance, undefined, "null: the worker has no balance yet");
    assert.equal(docs.ready.thresholds?.min_balance, 1);
    assert.deepEqual(docs.dependencies.checks?.captchaai_api, { status: "ok", response_ms: 12, checked_at: "2026-01-01T00:00:00.000Z", stale: false, error: undefined });
    assert.equal(docs.health.status, "pass");
    assert.equal(docs.health.releaseId, "1.2.3");
    assert.equal(docs.health.checks?.uptime?.[0]?.observedValue, 42);
  });

  test("readStatusDocs drops fields of the wrong type and whole documents that are not objects, never throwing", () => {
    const docs = readStatusDocs({
      ready: { status: "maybe", issues: "low", stats: { solved: "3", error_rate: Number.NaN }, thresholds: [1] },
      dependencies: { checks: { a: { status: "sideways", stale: "yes", response_ms: "12" }, b: 7 } },
      health: { status: 1, checks: { uptime: "42" } },
    });
    assert.equal(docs.ready.status, undefined);
    assert.equal(docs.ready.issues, undefined);
    assert.deepEqual([docs.ready.stats?.solved, docs.ready.stats?.error_rate], [undefined, undefined]);
    assert.equal(docs.ready.thresholds?.min_balance, undefined);
    assert.deepEqual([docs.dependencies.checks?.a?.status, docs.dependencies.checks?.a?.stale, docs.dependencies.checks?.a?.response_ms], [undefined, undefined, undefined]);
    assert.equal(docs.dependencies.checks?.b?.status, undefined);
    assert.deepEqual([docs.health.status, docs.health.checks?.uptime], [undefined, undefined]);
    for (const junk of [null, 42, "x", []]) {
      const d = readStatusDocs({ ready: junk, dependencies: junk, health: junk });
      assert.equal(d.ready.status, undefined);
      assert.deepEqual(d.dependencies.checks, {});
    }
  });
  test("readStatusDocs makes text from a server safe for a terminal: no control characters, a bounded list of issues", () => {
    const esc = "\u001b]0;pwned\u0007\u001b[2J\u001b[31mEVIL\r\nfake line\u009b";
    const docs = readStatusDocs({
      ready: { status: "not_ready", issues: [esc, { a: 1 }, ...Array.from({ length: 500 }, (_, i) => `i${i}`)], warnings: [esc] },
      dependencies: { checks: { [esc]: { status: "down", error: esc, checked_at: esc } } },
      health: { status: "pass", releaseId: esc, checks: { [esc]: [{ observedValue: 1 }] } },
    });
    const texts = [
      ...(docs.ready.issues ?? []),
      ...(docs.ready.warnings ?? []),
      ...Object.keys(docs.dependencies.checks ?? {}),
      ...Object.values(docs.dependencies.checks ?? {}).flatMap((c) => [c?.error ?? "", c?.checked_at ?? ""]),
      docs.health.releaseId ?? "",
      ...Object.keys(docs.health.checks ?? {}),
    ];
    for (const t of texts) assert.doesNotMatch(t, /[\u0000-\u001f\u007f-\u009f]/, `no control character in ${JSON.stringify(t)}`);
    assert.equal(docs.ready.issues?.[0], "?]0;pwned??[2J?[31mEVIL??fake line?");
    assert.ok((docs.ready.issues?.length ?? 0) <= 101, `at most 100 issues and a line saying how many more: ${docs.ready.issues?.length}`);
    assert.equal(docs.ready.issues?.at(-1), "(and 402 more)");
    const many = Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`c${i}`, { status: "ok" }]));
    assert.equal(Object.keys(readStatusDocs({ ready: {}, dependencies: { checks: many }, health: { checks: many } }).dependencies.checks ?? {}).length, 100, "at most 100 checks");
  });
});
