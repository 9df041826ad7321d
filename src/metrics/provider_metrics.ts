/**
 * Each provider's metrics (docs/providers.md; docs/metrics.md): whether it can take work, its tasks by
 * type and outcome, what it cost, its budget left today, its threads (a plan's adaptive limit:
 * docs/providers.md, Thread plan) and the submits it refused for want of threads. Provider names come from
 * the providers file (a closed set); one provider without a file is `captchaai`.
 */
import type { SolverPool } from "../solver/pool.ts";
import type { Task } from "../tasks/task.ts";
import type { Registry } from "./registry.ts";

export interface ProviderMetricsOptions {
  pool: Pick<SolverPool, "providers" | "provider">;
  /** Whether a provider can take work now (its own issues and reasons, none). */
  up: (provider: string) => boolean;
  /** A provider's last balance read (its NAME_api check's cache); undefined before the first. */
  balanceUsd?: (provider: string) => number | undefined;
}

/** Registers the families; the returned hook counts each ended task for its provider. */
export function registerProviderMetrics(registry: Registry, o: ProviderMetricsOptions): { taskEnded(task: Task): void } {
  const names = o.pool.providers;
  // The order of preference and the billing, for alerts that ask whether the fallback does the work.
  // Read at each scrape: a reload may reorder the providers or turn a plan into a per-solve account.
  registry.gauge("captcha_worker_provider_info", "1 per provider: its rank in the order of preference (1 is first) and its billing (plan: a thread plan; per_solve: a price per solve).", ["provider", "rank", "billing"], (set) => {
    o.pool.providers.forEach((provider, i) => {
      const p = o.pool.provider(provider);
      if (p && p.removed !== true) set({ provider, rank: String(i + 1), billing: p.plan === undefined ? "per_solve" : "plan" }, 1);
    });
  });
  registry.gauge("captcha_worker_provider_up", "1 while the provider can take new work (its key works, its circuit lets calls through, its budget is not spent); 0 while it is on trial after a fault (one task at a time); none for a provider a reload removed.", ["provider"], (set) => {
    // Removed by a reload: the operator's choice, no outage to alert on (docs/providers.md).
    for (const provider of names) if (o.pool.provider(provider)?.removed !== true) set({ provider }, o.up(provider) ? 1 : 0);
  });
  registry.gauge("captcha_worker_provider_balance_usd", "A provider's last known balance (its getbalance), once read; a pay-per-solve account's low balance shows here as well as in provider_down.", ["provider"], (set) => {
    for (const provider of names) {
      const usd = o.pool.provider(provider)?.removed === true ? undefined : o.balanceUsd?.(provider);
      if (usd !== undefined) set({ provider }, usd);
    }
  });
  const tasks = registry.counter("captcha_worker_provider_tasks_total", "Tasks that ended at a provider (the one that took them), by type and outcome (solved or failed).", ["provider", "type", "outcome"]);
  const spend = registry.counter("captcha_worker_provider_spend_usd_total", "Dollars the solves at a per-solve provider cost (its price per type), since start.", ["provider"]);
  for (const provider of names) spend.init({ provider });
  registry.gauge("captcha_worker_provider_budget_usd", "A provider's daily budget (per replica), for the providers that have one.", ["provider"], (set) => {
    for (const provider of names) {
      const budget = o.pool.provider(provider)?.dailyBudgetUsd;
      if (budget !== undefined) set({ provider }, budget);
    }
  });
  registry.gauge("captcha_worker_provider_budget_remaining_usd", "What is left of a provider's daily budget today (UTC), for the providers that have one.", ["provider"], (set) => {
    for (const provider of names) {
      const left = o.pool.provider(provider)?.budgetLeftUsd;
      if (left !== undefined) set({ provider }, left);
    }
  });
  registry.gauge("captcha_worker_provider_threads", "A provider's threads: busy (tasks it holds), limit (what this replica may hold now: a plan's adaptive limit), plan (a thread plan's threads).", ["provider", "state"], (set) => {
    for (const provider of names) {
      const p = o.pool.provider(provider);
      if (!p) continue;
      set({ provider, state: "busy" }, p.busy);
      set({ provider, state: "limit" }, p.limit);
      if (p.plan !== undefined) set({ provider, state: "plan" }, p.plan);
    }
  });
  registry.counterFn("captcha_worker_capacity_refusals_total", "Submits a thread plan refused for want of a free thread (ERROR_NO_SLOT_AVAILABLE, or CaptchaAI's ERROR_ZERO_BALANCE with money left); each was queued again, never failed.", (set) => {
    for (const provider of names) {
      const p = o.pool.provider(provider);
      if (p?.plan !== undefined) set({ provider }, p.capacityRefusals);
    }
  }, ["provider"]);
  return {
    taskEnded(task) {
      if (task.provider === undefined) return; // never left the queue: no provider's
      tasks.inc({ provider: task.provider, type: task.type, outcome: task.status === "solved" ? "solved" : "failed" });
      if (task.costUsd !== undefined) spend.inc({ provider: task.provider }, task.costUsd);
    },
  };
}
