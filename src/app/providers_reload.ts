/**
 * SIGHUP's providers file (docs/providers.md, Reloads): what a re-read changes of the running set, and
 * applying it. A provider still listed gets its new threads, prices, after, daily budget, types and
 * key at once; one gone from the file is removed (no new task; the tasks it holds are polled and
 * reported to the end, then its check goes); one listed again takes tasks again. What the sealed
 * wiring fixes at start (a new provider's client, health, check and metrics; a protocol, dialect or
 * URL; the order of preference) needs a restart: a reload says so and leaves it. A file that cannot
 * be used keeps the running set. No line logged holds a key: only names of providers and fields.
 */
import type { Logger } from "../base/log.ts";
import type { SecretSet } from "../base/redact.ts";
import type { ProviderSpec, ProvidersReload } from "../config/providers.ts";
import type { CheckDefinition, HealthChecks } from "../health/checks.ts";
import type { LaneUpdate, SolverPool } from "../solver/pool.ts";

/** A provider of the running set: its line as in use, and whether a reload removed it. */
export interface RunningProvider {
  spec: ProviderSpec;
  removed: boolean;
}

/** The fields a reload applies, by their names in the file, and how each compares. */
const APPLIED: readonly [string, (a: ProviderSpec, b: ProviderSpec) => boolean][] = [
  ["threads", (a, b) => a.threads === b.threads],
  ["price", (a, b) => a.price === b.price],
  ["price.TYPE", (a, b) => sameRecord(a.typePrices, b.typePrices)],
  ["after", (a, b) => a.afterMs === b.afterMs],
  ["daily-budget", (a, b) => a.dailyBudgetUsd === b.dailyBudgetUsd],
  ["types", (a, b) => (a.types ?? []).join() === (b.types ?? []).join() && (a.types === undefined) === (b.types === undefined)],
  ["key-file", (a, b) => a.key === b.key && a.keyOrigin === b.keyOrigin],
];
/** The fields only a restart changes: the provider's client is made for them. */
const AT_RESTART: readonly [string, (a: ProviderSpec, b: ProviderSpec) => boolean][] = [
  ["PROTOCOL", (a, b) => a.protocol === b.protocol],
  ["dialect", (a, b) => a.dialect === b.dialect],
  ["URL", (a, b) => a.url.href === b.url.href],
];

function sameRecord(a: Readonly<Record<string, number | undefined>>, b: Readonly<Record<string, number | undefined>>): boolean {
  const entries = (r: Readonly<Record<string, number | undefined>>) => JSON.stringify(Object.entries(r).sort(([x], [y]) => (x < y ? -1 : 1)));
  return entries(a) === entries(b);
}

/** What a re-read file changes of the running set. */
export interface ReloadPlan {
  /** Listed and in use, in the running order: its line as re-read, the fields that change now, those that wait for a restart. */
  kept: { spec: ProviderSpec; changed: string[]; atRestart: string[]; back: boolean }[];
  /** In use and gone from the file: removed now. */
  removed: string[];
  /** In the file and not in use: a restart adds them. */
  added: string[];
  /** The file lists the kept providers in another order: a restart takes it. */
  reordered: boolean;
}

/** What `fresh` (the re-read file) changes of `running` (pure). */
export function planProvidersReload(running: readonly RunningProvider[], fresh: readonly ProviderSpec[]): ReloadPlan {
  const byName = new Map(fresh.map((s) => [s.name, s]));
  const inUse = new Set(running.map((r) => r.spec.name));
  const kept: ReloadPlan["kept"] = [];
  const removed: string[] = [];
  for (const r of running) {
    const spec = byName.get(r.spec.name);
    if (spec === undefined) {
      if (!r.removed) removed.push(r.spec.name);
      continue;
    }
    const changed = APPLIED.filter(([, same]) => !same(r.spec, spec)).map(([field]) => field);
    const atRestart = AT_RESTART.filter(([, same]) => !same(r.spec, spec)).map(([field]) => field);
    kept.push({ spec, changed, atRestart, back: r.removed });
  }
  const order = fresh.filter((s) => inUse.has(s.name)).map((s) => s.name);
  return { kept, removed, added: fresh.filter((s) => !inUse.has(s.name)).map((s) => s.name), reordered: order.join() !== kept.map((k) => k.spec.name).join() };
}

export interface ProvidersReloaderOptions {
  /** The providers the worker started with, in order. */
  specs: readonly ProviderSpec[];
  pool: Pick<SolverPool, "reconfigure" | "provider">;
  /** What the pool's lane of `spec`, at `index` in the order, is given (the wiring's own rule). */
  laneSettings: (spec: ProviderSpec, index: number) => LaneUpdate;
  /** The key the provider's client sends from now on. */
  setKey: (provider: string, key: string) => void;
  /** Every key read is added before anything is logged. */
  secrets: SecretSet;
  checks: Pick<HealthChecks, "add" | "remove" | "refresh">;
  checkOf: (provider: string) => string;
  /** Readiness is judged again (a removed provider no longer counts). */
  changed: () => void;
  log: Logger;
}

export interface ProvidersReloader {
  /** Applies a re-read of the providers file (or logs why it cannot be used, keeping the running set). */
  apply(reread: ProvidersReload): void;
  /** A task ended: a removed provider holding nothing more loses its check. */
  taskEnded(): void;
}

export function createProvidersReloader(o: ProvidersReloaderOptions): ProvidersReloader {
  const { log, pool } = o;
  const running: RunningProvider[] = o.specs.map((spec) => ({ spec, removed: false }));
  /** Checks of removed providers that held nothing more, to add back if the file lists them again. */
  const dropped = new Map<string, CheckDefinition>();
  const dropIdle = () => {
    for (const r of running) {
      if (!r.removed || dropped.has(r.spec.name) || (pool.provider(r.spec.name)?.busy ?? 0) > 0) continue;
      const def = o.checks.remove(o.checkOf(r.spec.name));
      if (def) dropped.set(r.spec.name, def);
      log.info("reload: a removed provider holds no more tasks; its check is gone", { provider: r.spec.name });
    }
  };
  return {
    apply(reread) {
      if (!reread.ok) {
        log.error("reload: the providers file cannot be used; the providers in use stay", { error: reread.error });
        return;
      }
      for (const spec of reread.providers) if (spec.key !== "") o.secrets.add(spec.key);
      const plan = planProvidersReload(running, reread.providers);
      if (plan.kept.length === 0) {
        log.error("reload: the providers file names none of the providers in use; they stay (a new provider needs a restart)", { added: plan.added });
        return;
      }
      if (plan.added.length > 0) log.warn("reload: a new provider needs a restart (systemctl restart); not added", { providers: plan.added });
      if (plan.reordered) log.warn("reload: the order of preference changes only with a restart; the running order stays", { order: running.map((r) => r.spec.name) });
      for (const k of plan.kept) {
        const i = running.findIndex((r) => r.spec.name === k.spec.name);
        const was = running[i]!;
        if (k.atRestart.length > 0) log.warn("reload: a provider's protocol, dialect or URL changes only with a restart; the one in use stays", { provider: k.spec.name, fields: k.atRestart });
        // The running client's protocol, dialect and URL stay; everything else is the file's now.
        const spec: ProviderSpec = { ...k.spec, protocol: was.spec.protocol, dialect: was.spec.dialect, url: was.spec.url } as ProviderSpec;
        running[i] = { spec, removed: false };
        if (k.changed.includes("key-file")) o.setKey(spec.name, spec.key);
        if (k.changed.length > 0 || k.back) pool.reconfigure(spec.name, { ...o.laneSettings(spec, i), ...(k.back ? { removed: false } : {}) });
        if (k.back) {
          const def = dropped.get(spec.name);
          dropped.delete(spec.name);
          if (def) void o.checks.add(def);
          log.info("reload: a removed provider is listed again; it takes new tasks", { provider: spec.name });
        }
        if (k.changed.length > 0) log.info("reload: provider updated", { provider: spec.name, fields: k.changed });
        if (k.changed.includes("key-file") && !k.back) void o.checks.refresh(o.checkOf(spec.name));
      }
      for (const name of plan.removed) {
        const r = running.find((x) => x.spec.name === name)!;
        r.removed = true;
        pool.reconfigure(name, { removed: true });
        log.info("reload: provider removed: it takes no new task, and polls and reports the tasks it holds to the end", { provider: name, holding: pool.provider(name)?.busy ?? 0 });
      }
      dropIdle();
      log.info("reload: providers file re-read", { providers: running.filter((r) => !r.removed).map((r) => r.spec.name), removed: running.filter((r) => r.removed).map((r) => r.spec.name) });
      o.changed();
    },
    taskEnded() {
      if (running.some((r) => r.removed && !dropped.has(r.spec.name))) dropIdle();
    },
  };
}
