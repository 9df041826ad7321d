// The status page's provider rows and `status --json` against what really happened (docs/health.md, Status page
// page): a CaptchaAI-like thread plan first and a pay-per-solve provider behind it (budget $20), each
// a real simulator over real sockets on one fake clock (the rig of providers_test.ts).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { SOLVE_EDGES_S } from "../../src/status_report/provider_history.ts";
import { usd } from "../../src/status_report/provider_rows.ts";
import { runMain } from "../_support/cli.ts";
import { advance, eventually } from "../_support/harness.ts";
import { postImage, withProviders, type ProvidersRig as Rig } from "../_support/providers_rig.ts";

const post = postImage;

/** The page's provider rows: each row's cells after the mark, and the mark's class. */
async function providerRows(r: Rig): Promise<Map<string, { mark: string; cells: string[] }>> {
  const html = await (await fetch(`${r.base}/`)).text();
  const table = /<table id="providers"[\s\S]*?<\/table>/.exec(html)?.[0] ?? "";
  const rows = [...table.matchAll(/<tr class="(\w+)"><td class="mark">\w+<\/td>((?:<td>[^<]*<\/td>)+)<\/tr>/g)].map((m) => ({
    mark: m[1]!,
    cells: [...m[2]!.matchAll(/<td>([^<]*)<\/td>/g)].map((c) => c[1]!.replaceAll("&#36;", "$")),
  }));
  return new Map(rows.map((row) => [row.cells[0]!, row]));
}

/** The sum of a counter's series whose labels match. */
const counted = (text: string, name: string, labels: string) => text.split("\n").filter((l) => l.startsWith(`${name}{`) && l.includes(labels)).reduce((n, l) => n + Number(l.split(" ").at(-1)), 0);

/** The bucket of SOLVE_EDGES_S a time falls in, as its bounds. */
const bucket = (s: number) => {
  const i = SOLVE_EDGES_S.findIndex((e) => s <= e);
  return [i === 0 ? 0 : SOLVE_EDGES_S[i - 1]!, SOLVE_EDGES_S[i]!];
};

describe("providers on the status page", () => {
  test("a row per provider: its state, threads busy of the plan or spend of the budget, and the hour's solves agree with /metrics and the tasks' own times", () =>
    withProviders(async (r) => {
      const ids = await Promise.all(Array.from({ length: 6 }, () => post(r)));
      await eventually(() => r.plan.counts().submitted === 2, "the plan's two threads");
      const busy = await providerRows(r);
      assert.deepEqual([...busy.keys()], ["plan", "paid"], "in order of preference");
      assert.deepEqual(busy.get("plan")!.cells.slice(1, 3), ["up", "2/2 threads busy"]);
      assert.deepEqual(busy.get("paid")!.cells.slice(1, 3), ["up", "$0.00 of $20.00 today, 0 in flight"]);
      await advance(r.clock, 5000);
      await eventually(() => r.paid.counts().submitted === 4, "overflow after 5 s");
      await advance(r.clock, 25_000);
      await eventually(() => ids.every((id) => r.worker.pool.find(id)?.status === "solved"), "all solved");
      await advance(r.clock, 30_000); // a minute since the first task

      const rows = await providerRows(r);
      const metrics = await (await fetch(`${r.base}/metrics`)).text();
      for (const name of ["plan", "paid"]) {
        const [, state, , limit, solved, failed, p50] = rows.get(name)!.cells;
        assert.equal(state, "up");
        assert.equal(limit, name === "plan" ? "2 of 2" : "-", "a plan's limit over the hour (never refused: the whole plan); none for a per-solve provider");
        const solves = counted(metrics, "captcha_worker_provider_tasks_total", `provider="${name}",type="image",outcome="solved"`);
        assert.match(solved!, new RegExp(` \\(${solves} in 1m\\)$`), `${name}: the hour's solves are /metrics' count`);
        assert.match(failed!, / \(0 in 1m\)$/);
        // The median of the provider's own submit-to-solution times falls in the bucket the page's p50 is drawn from.
        const times = ids.map((id) => r.worker.pool.find(id)!).filter((t) => t.provider === name).map((t) => (t.endedAt! - t.submittedAt!) / 1000).sort((a, b) => a - b);
        const shown = Number(/^([\d.]+)s$/.exec(p50!)?.[1] ?? /^(\d+)s$/.exec(p50!)?.[1]);
        const [lo, hi] = bucket(times[Math.floor((times.length - 1) / 2)]!);
        assert.ok(shown >= lo! && shown <= hi!, `${name}: p50 ${p50} within (${lo}, ${hi}] of ${times.join(",")}`);
      }
      const paidSolves = counted(metrics, "captcha_worker_provider_tasks_total", 'provider="paid",type="image",outcome="solved"');
      assert.equal(rows.get("paid")!.cells[2], `${usd(0.002 * paidSolves)} of $20.00 today, 0 in flight`);
      assert.equal(rows.get("plan")!.cells[7], "never", "up all the time sampled");
    }, { paidBudget: 20 }));

  test("a provider refusing its key is a WARN row saying why as provider_down does, counted as time down, and status --json lists it too", () =>
    withProviders(async (r) => {
      r.paid.control.setFault("all", { error: "ERROR_KEY_DOES_NOT_EXIST" });
      await r.worker.checks.refresh("paid_api");
      await eventually(() => r.worker.view.providerStates()[1]!.state === "down", "paid down");
      await advance(r.clock, 60_000);
      const rows = await providerRows(r);
      assert.equal(rows.get("paid")!.mark, "warn");
      assert.equal(rows.get("paid")!.cells[1], "down: upstream_auth=ERROR_KEY_DOES_NOT_EXIST");
      assert.equal(rows.get("plan")!.mark, "ok");
      assert.match(rows.get("paid")!.cells[7]!, /^(5\ds|1m) of 1m/, "down from the first sample that saw it (every 5 s)");
      const warning = ((await (await fetch(`${r.base}/health/ready`)).json()) as { warnings: string[] }).warnings;
      assert.ok(warning.includes(`provider_down=paid:${rows.get("paid")!.cells[1]!.slice("down: ".length)}`), "the reason as provider_down says it");

      const out = await runMain(["status", "--url", r.base, "--json"]);
      assert.equal(out.code, 0, out.stderr);
      const json = JSON.parse(out.stdout) as { providers: Record<string, unknown>[] };
      assert.deepEqual(json.providers.map((p) => [p.name, p.state, p.reason, p.billing, p.busy, p.plan, p.daily_budget_usd]), [
        ["plan", "up", null, "plan", 0, 2, null],
        ["paid", "down", "upstream_auth=ERROR_KEY_DOES_NOT_EXIST", "per_solve", 0, null, 20],
      ]);
      const text = await runMain(["status", "--url", r.base]);
      assert.match(text.stdout, /^  WARN  provider paid: down \(upstream_auth=ERROR_KEY_DOES_NOT_EXIST\), \$0\.00 of \$20\.00 today, 0 in flight$/m);
      const deps = (await (await fetch(`${r.base}/health/dependencies`)).json()) as { providers: { name: string; check: string }[] };
      assert.deepEqual(deps.providers.map((p) => [p.name, p.check]), [["plan", "plan_api"], ["paid", "paid_api"]]);
    }, { paidBudget: 20 }));
});
