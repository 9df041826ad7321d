import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { registerProviderMetrics } from "../../../src/metrics/provider_metrics.ts";
import { Registry } from "../../../src/metrics/registry.ts";
import type { ProviderState } from "../../../src/solver/pool.ts";
import { makeTask } from "../../_support/tasks.ts";

const state = (name: string, over: Partial<ProviderState> = {}): ProviderState => ({
  name, busy: 0, limit: 4, plan: 4, circuit: "closed", capacityRefusals: 0, refusedCode: undefined, paused: undefined,
  spentTodayUsd: 0, budgetLeftUsd: undefined, dailyBudgetUsd: undefined, budgetSpent: false, removed: false, trial: false, trialSince: undefined, ...over,
});

/** A pool whose providers the test changes between scrapes, as a reload does. */
function rig() {
  const providers = new Map<string, ProviderState>([["plan", state("plan", { busy: 3, capacityRefusals: 2 })], ["paid", state("paid", { plan: undefined, limit: 50, dailyBudgetUsd: 1, budgetLeftUsd: 0.25 })]]);
  const pool = { get providers() { return [...providers.keys()]; }, provider: (n: string) => providers.get(n) };
  const r = new Registry();
  const hook = registerProviderMetrics(r, { pool, up: (n) => n === "plan" });
  return { r, providers, hook };
}

describe("provider metrics", () => {
  test("each provider's rank, billing, up, threads, refusals and budget as the pool says them at the scrape", () => {
    const { r } = rig();
    const text = r.render();
    for (const line of [
      'captcha_worker_provider_info{provider="plan",rank="1",billing="plan"} 1',
      'captcha_worker_provider_info{provider="paid",rank="2",billing="per_solve"} 1',
      'captcha_worker_provider_up{provider="plan"} 1',
      'captcha_worker_provider_up{provider="paid"} 0',
      'captcha_worker_provider_threads{provider="plan",state="busy"} 3',
      'captcha_worker_provider_threads{provider="plan",state="plan"} 4',
      'captcha_worker_capacity_refusals_total{provider="plan"} 2',
      'captcha_worker_provider_budget_usd{provider="paid"} 1',
      'captcha_worker_provider_budget_remaining_usd{provider="paid"} 0.25',
    ]) assert.ok(text.includes(line), `${line}\n${text}`);
    assert.doesNotMatch(text, /provider_threads\{provider="paid",state="plan"\}/, "a per-solve account has no plan");
  });

  test("a reload that turns the plan into a per-solve account and removes the other is what the next scrape says", () => {
    const { r, providers } = rig();
    providers.set("plan", state("plan", { plan: undefined }));
    providers.set("paid", state("paid", { removed: true }));
    const text = r.render();
    assert.ok(text.includes('captcha_worker_provider_info{provider="plan",rank="1",billing="per_solve"} 1'), text);
    assert.doesNotMatch(text, /provider_info\{provider="plan",rank="1",billing="plan"\}/, "no stale billing");
    assert.doesNotMatch(text, /provider_(info|up)\{provider="paid"/, "a removed provider is no outage and has no rank");
  });

  test("an ended task counts for the provider that took it, with what it cost", () => {
    const { r, hook } = rig();
    hook.taskEnded(makeTask("a", { status: "solved", provider: "paid", costUsd: 0.002 }));
    hook.taskEnded(makeTask("b", { status: "failed", provider: "plan" }));
    hook.taskEnded(makeTask("c", { status: "failed" }));
    const text = r.render();
    assert.ok(text.includes('captcha_worker_provider_tasks_total{provider="paid",type="image",outcome="solved"} 1'), text);
    assert.ok(text.includes('captcha_worker_provider_tasks_total{provider="plan",type="image",outcome="failed"} 1'), text);
    assert.ok(text.includes('captcha_worker_provider_spend_usd_total{provider="paid"} 0.002'), text);
    assert.doesNotMatch(text, /provider_tasks_total\{provider="undefined"/);
  });
});
