import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { ProviderDocument, ReadyDocument } from "../../../src/health/health_documents.ts";
import { providerJson, usd } from "../../../src/status_report/provider_rows.ts";
import type { ProviderHour } from "../../../src/status_report/provider_history.ts";
import { readStatusDocs } from "../../../src/status_report/status_docs.ts";
import { statusModel } from "../../../src/status_report/status_model.ts";
import { renderHtml } from "../../../src/status_report/status_page.ts";
import { renderText } from "../../../src/status_report/status_render.ts";
import { READY_DOC } from "../../_support/ready_doc.ts";

const READY: ReadyDocument = { ...READY_DOC, status: "ready", state: "ready", issues: [], warnings: ["provider_down=paid:upstream_auth=ERROR_KEY_DOES_NOT_EXIST"] };
const PLAN: ProviderDocument = { name: "plan", check: "plan_api", state: "up", reason: null, billing: "plan", busy: 3, limit: 10, plan: 10, spent_today_usd: 0, daily_budget_usd: null, budget_left_usd: null };
const PAID: ProviderDocument = {
  name: "paid", check: "paid_api", state: "down", reason: "upstream_auth=ERROR_KEY_DOES_NOT_EXIST", billing: "per_solve", busy: 1, limit: 100, plan: null, spent_today_usd: 1.2, daily_budget_usd: 20, budget_left_usd: 18.8,
};
const OLD: ProviderDocument = { name: "old", check: "old_api", state: "removed", reason: null, billing: "per_solve", busy: 0, limit: 100, plan: null, spent_today_usd: 0.5, daily_budget_usd: null, budget_left_usd: null };
const HOURS: ProviderHour[] = [
  { name: "plan", minutes: 60, solved: 90, failed: 3, solvedPerMin: 1.5, failedPerMin: 0.05, p50S: 14.2, msDown: 0, msKnown: 3_600_000, limit: { mean: 7.46, min: 4, max: 10, plan: 10 } },
  { name: "paid", minutes: 60, solved: 12, failed: 0, solvedPerMin: 0.2, failedPerMin: 0, p50S: 4.25, msDown: 600_000, msKnown: 3_600_000 },
];
const docs = (ready: ReadyDocument, providers: ProviderDocument[]) => ({ ready, dependencies: { status: "ok" as const, checks: {}, providers }, health: {} });

describe("provider rows", () => {
  test("a row per provider in order: its state and reason, threads busy of the plan or spend today of the budget", () => {
    const m = statusModel(docs(READY, [PLAN, PAID, OLD]));
    assert.deepEqual(m.providers.map((p) => [p.name, p.state, p.reason, p.mark, p.load]), [
      ["plan", "up", undefined, "ok", "3/10 threads busy"],
      ["paid", "down", "upstream_auth=ERROR_KEY_DOES_NOT_EXIST", "warn", "$1.20 of $20.00 today, 1 in flight"],
      ["old", "removed", undefined, "ok", "$0.50 today, no budget, 0 in flight"],
    ]);
  });

  test("spend and budget below a cent are shown to the digit that holds them, not rounded to $0.00", () => {
    assert.deepEqual([usd(0), usd(1.2), usd(20), usd(0.0012), usd(0.0485), usd(0.00299), usd(12.3456)], ["$0.00", "$1.20", "$20.00", "$0.0012", "$0.0485", "$0.00299", "$12.3456"]);
    const small = { ...PAID, state: "up" as const, reason: null, spent_today_usd: 0.0012, daily_budget_usd: 0.002, budget_left_usd: 0.0008 };
    assert.equal(statusModel(docs(READY, [small])).providers[0]!.load, "$0.0012 of $0.002 today, 1 in flight");
  });

  test("a plan's row names its limit when a refusal holds it below the plan (docs/providers.md, Thread plan)", () => {
    const m = statusModel(docs(READY, [{ ...PLAN, busy: 6, limit: 6 }]));
    assert.equal(m.providers[0]!.load, "6/10 threads busy, limit 6");
    assert.deepEqual(providerJson({ ...m.providers[0]!, hour: HOURS[0] }), {
      name: "plan", check: "plan_api", state: "up", reason: null, billing: "plan", busy: 6, limit: 6, plan: 10, spent_today_usd: 0, daily_budget_usd: null, budget_left_usd: null,
      solved_per_min: 1.5, failed_per_min: 0.05, p50_solve_s: 14.2, down_s: 0, limit_mean: 7.46, limit_min: 4, limit_max: 10,
    });
  });

  test("a provider down that is why readiness fails is marked FAIL, and so is a lone provider down", () => {
    const none: ReadyDocument = { ...READY, status: "not_ready", state: "not_ready", warnings: [], issues: ["provider_down=plan:circuit_open", "provider_down=paid:upstream_auth=ERROR_KEY_DOES_NOT_EXIST"] };
    const m = statusModel(docs(none, [{ ...PLAN, state: "down", reason: "circuit_open" }, PAID]));
    assert.deepEqual(m.providers.map((p) => p.mark), ["fail", "fail"]);
    const lone = statusModel(docs({ ...READY, status: "not_ready", state: "not_ready", issues: ["circuit_open"], warnings: [] }, [{ ...PLAN, name: "captchaai", state: "down", reason: "circuit_open" }]));
    assert.deepEqual(lone.providers.map((p) => p.mark), ["fail"]);
  });

  test("with a provider down while another serves, the upstream row warns naming it instead of saying all calls are taken; the facts name the providers and their plans' threads", () => {
    const m = statusModel(docs(READY, [PLAN, PAID, OLD]));
    const row = m.rows.find((r) => r.name === "upstream")!;
    assert.deepEqual([row.value, row.mark], ["paid down, the others accepting calls", "warn"]);
    const facts = { upstreamHost: "ocr.captchaai.com", providers: ["plan", "paid"], threads: 10, simulator: false, nodeId: 0, peers: 0 };
    const html = renderHtml(m, 5, { facts });
    assert.match(html, /<dt>providers<\/dt> <dd>plan, paid<\/dd>/);
    assert.match(html, /<dt>plan threads<\/dt> <dd>10<\/dd>/);
    assert.doesNotMatch(html, /<dt>upstream<\/dt>/);
  });

  test("the page's table: each provider's state, load, rates per minute with the hour's counts, median solve and time down", () => {
    const html = renderHtml(statusModel(docs(READY, [PLAN, PAID, OLD]), { providers: HOURS }));
    const rows = [...html.matchAll(/<tr class="(\w+)"><td class="mark">\w+<\/td>((?:<td>[^<]*<\/td>)+)<\/tr>/g)]
      .map((m) => [m[1]!, ...[...m[2]!.matchAll(/<td>([^<]*)<\/td>/g)].map((c) => c[1]!)])
      .filter((r) => ["plan", "paid", "old"].includes(r[1]!));
    assert.deepEqual(rows, [
      ["ok", "plan", "up", "3/10 threads busy", "7.5 of 10 (4-10)", "1.5 (90 in 1h)", "0.05 (3 in 1h)", "14s", "never"],
      ["warn", "paid", "down: upstream_auth=ERROR_KEY_DOES_NOT_EXIST", "$1.20 of $20.00 today, 1 in flight", "-", "0.2 (12 in 1h)", "0 (0 in 1h)", "4.3s", "10m of 1h"],
      ["ok", "old", "removed", "$0.50 today, no budget, 0 in flight", "-", "-", "-", "-", "-"],
    ]);
    assert.match(html, /<h2>Providers<\/h2>/);
  });

  test("no providers listed (an older worker): no table, no lines", () => {
    const m = statusModel({ ready: READY_DOC, dependencies: { checks: {} }, health: {} });
    assert.deepEqual(m.providers, []);
    assert.ok(!renderHtml(m).includes('id="providers"'));
    assert.ok(!renderText(m, "u", false).includes("provider "));
  });

  test("renderText: a line per provider with its mark, state and load", () => {
    const text = renderText(statusModel(docs(READY, [PLAN, PAID])), "http://w/", false);
    assert.match(text, /^  ok    provider plan: up, 3\/10 threads busy$/m);
    assert.match(text, /^  WARN  provider paid: down \(upstream_auth=ERROR_KEY_DOES_NOT_EXIST\), \$1\.20 of \$20\.00 today, 1 in flight$/m);
  });

  test("providerJson: the figures as /health/dependencies spells them, and the hour's only when known", () => {
    const m = statusModel(docs(READY, [PLAN, PAID]), { providers: HOURS });
    assert.deepEqual(providerJson(m.providers[1]!), {
      name: "paid", check: "paid_api", state: "down", reason: "upstream_auth=ERROR_KEY_DOES_NOT_EXIST", billing: "per_solve", busy: 1, limit: 100, plan: null, spent_today_usd: 1.2, daily_budget_usd: 20, budget_left_usd: 18.8,
      solved_per_min: 0.2, failed_per_min: 0, p50_solve_s: 4.25, down_s: 600,
    });
    assert.equal(providerJson(statusModel(docs(READY, [PLAN])).providers[0]!).solved_per_min, undefined);
  });

  test("readStatusDocs reads the providers field by field: wrong types are unknown, text is made safe, the list is bounded", () => {
    const d = readStatusDocs({
      ready: { status: "ready" },
      dependencies: { checks: {}, providers: [PLAN, { name: "x\u001b[2J", state: "sideways", busy: "3", billing: "free", reason: 7 }, 42, ...Array.from({ length: 300 }, () => PLAN)] },
      health: {},
    });
    const listed = d.dependencies.providers!;
    assert.equal(listed.length, 100);
    assert.deepEqual(listed[0], { ...PLAN, reason: undefined, daily_budget_usd: undefined, budget_left_usd: undefined });
    assert.deepEqual([listed[1]!.name, listed[1]!.state, listed[1]!.busy, listed[1]!.billing, listed[1]!.reason], ["x?[2J", undefined, undefined, undefined, undefined]);
    const m = statusModel(d);
    assert.deepEqual([m.providers[1]!.state, m.providers[1]!.mark, m.providers[1]!.load], ["unknown", "warn", "?"]);
    assert.equal(m.providers.length, 99, "an entry that is not an object names no provider");
  });
});
