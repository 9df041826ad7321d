// SIGHUP's re-read of the providers file, in process (docs/providers.md, Reloads): the file parsed as
// `run` parses it, two real simulators on one fake clock; worker.reload() is what SIGHUP calls.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Simulator } from "../../src/sim/simulator.ts";
import { advance, eventually } from "../_support/harness.ts";
import { PAID_KEY, PLAN_KEY, postImage, withProviders, type ProvidersRig } from "../_support/providers_rig.ts";

const KEYS = { "/keys/plan": PLAN_KEY, "/keys/paid": PAID_KEY };
/** A key nobody gave the logger: if any line held it, nothing would redact it. */
const PASTED = "pasted-key-0123456789abcdef012345";

function file(sims: { plan: Simulator; paid: Simulator }, o: { threads?: number; paid?: boolean; more?: string[] } = {}): string {
  return [
    "# the rig's providers",
    `plan legacy ${sims.plan.url.href} key-file=/keys/plan threads=${o.threads ?? 2}`,
    ...(o.paid === false ? [] : [`paid legacy ${sims.paid.url.href} key-file=/keys/paid price=2`]),
    ...(o.more ?? []),
  ].join("\n");
}

const reloadWith = (r: ProvidersRig, text: string) => {
  r.file.text = text;
  r.worker.reload();
};
const logged = (r: ProvidersRig, msg: string) => r.logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => typeof l.msg === "string" && l.msg.startsWith(msg));
const deps = async (r: ProvidersRig) => (await (await fetch(`${r.base}/health/dependencies`)).json()) as { checks: Record<string, unknown>; providers: { name: string; state: string }[] };
const noKeyLogged = (r: ProvidersRig) => {
  const text = r.logs.join("\n");
  for (const key of [PLAN_KEY, PAID_KEY, PASTED]) assert.ok(!text.includes(key), "no key in any log line");
};

describe("providers file reload", () => {
  test("a file that does not parse keeps the providers in use, and the log names the line and the field, never a value", () =>
    withProviders(async (r) => {
      reloadWith(r, file(r, { more: [`spare legacy ${r.paid.url.href} key-file=/keys/paid price=2 ${PASTED}`] }));
      const [error] = logged(r, "reload: the providers file cannot be used");
      assert.match(String(error!.error), /line 4\b/);
      assert.equal(error!.level, "error");
      reloadWith(r, file(r).replace("threads=2", `threads=${PASTED}`));
      assert.match(String(logged(r, "reload: the providers file cannot be used")[1]!.error), /line 2, field threads/);
      reloadWith(r, file(r).replace("/keys/paid", "/keys/missing"));
      assert.match(String(logged(r, "reload: the providers file cannot be used")[2]!.error), /line 3, field key-file/);
      assert.deepEqual(r.worker.pool.providers, ["plan", "paid"]);
      // The running set works as before: a burst overflows to the paid provider after its 5 s.
      await Promise.all(Array.from({ length: 3 }, () => postImage(r)));
      await advance(r.clock, 5000);
      await eventually(() => r.paid.counts().submitted === 1, "overflow as before");
      noKeyLogged(r);
    }, { file, keys: KEYS }));

  test("a provider removed while it holds a task takes no new one, polls and reports that one to the end, then loses its check; it is never a warning", () =>
    withProviders(async (r) => {
      const ids = await Promise.all(Array.from({ length: 3 }, () => postImage(r)));
      await advance(r.clock, 5000);
      await eventually(() => r.paid.counts().submitted === 1, "one overflowed");
      const atPaid = ids.find((id) => r.worker.pool.find(id)!.provider === "paid")!;
      reloadWith(r, file(r, { paid: false }));
      assert.equal(logged(r, "reload: provider removed")[0]!.holding, 1);
      assert.equal(r.worker.pool.provider("paid")!.removed, true);
      const ready = await fetch(`${r.base}/health/ready`);
      assert.equal(ready.status, 200);
      assert.deepEqual(((await ready.json()) as { warnings: string[] }).warnings, [], "removed is the operator's choice: no warning");
      const held = await deps(r);
      assert.deepEqual(held.providers.map((p) => [p.name, p.state]), [["plan", "up"], ["paid", "removed"]]);
      assert.ok("paid_api" in held.checks, "its check stays while it holds a task");
      assert.match(await (await fetch(`${r.base}/`)).text(), /<td>paid<\/td><td>removed<\/td>/);
      const metrics = await (await fetch(`${r.base}/metrics`)).text();
      assert.ok(!metrics.includes('captcha_worker_provider_up{provider="paid"}'), "no up series to alert on");

      const later = await postImage(r);
      await advance(r.clock, 3000);
      await eventually(() => r.worker.pool.find(atPaid)!.status === "solved", "its task solved where it was taken");
      assert.equal(r.worker.pool.find(atPaid)!.provider, "paid");
      await advance(r.clock, 10_000);
      assert.equal(r.paid.counts().submitted, 1, "no new task for the removed provider, whatever the wait");
      assert.equal(r.worker.pool.find(later)!.status, "queued");
      const report = await fetch(`${r.base}/v1/tasks/${atPaid}/report`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ correct: false }) });
      assert.equal(report.status, 200);
      assert.equal(r.paid.counts().requests["res.php:report"], 1, "the report went to the provider that solved it");
      await eventually(() => logged(r, "reload: a removed provider holds no more tasks").length === 1, "its check dropped");
      assert.ok(!("paid_api" in (await deps(r)).checks));

      reloadWith(r, file(r));
      assert.equal(r.worker.pool.provider("paid")!.removed, false);
      assert.ok(logged(r, "reload: a removed provider is listed again").length === 1);
      await eventually(() => typeof r.worker.checks.result("paid_api")?.value?.observedValue === "number", "its check back");
      await advance(r.clock, 10_000);
      await eventually(() => r.paid.counts().submitted === 2, "it takes work again");
      noKeyLogged(r);
    }, { file, keys: KEYS }));

  test("changed threads apply at once; a new provider, a new URL and a new order wait for a restart, each said in a warning", () =>
    withProviders(async (r) => {
      await Promise.all(Array.from({ length: 3 }, () => postImage(r)));
      await eventually(() => r.plan.counts().submitted === 2, "two threads");
      reloadWith(r, file(r, { threads: 3, more: [`spare legacy ${r.paid.url.href} key-file=/keys/paid price=1`] }));
      await eventually(() => r.plan.counts().submitted === 3, "the third thread takes the waiting task at once");
      assert.deepEqual(logged(r, "reload: provider updated").map((l) => [l.provider, l.fields]), [["plan", ["threads"]]]);
      assert.deepEqual(logged(r, "reload: a new provider needs a restart")[0]!.providers, ["spare"]);
      assert.deepEqual(r.worker.pool.providers, ["plan", "paid"]);
      assert.equal(r.worker.pool.provider("plan")!.plan, 3);

      const moved = file(r, { threads: 3 }).split("\n");
      reloadWith(r, [moved[0], moved[2], moved[1]!.replace(r.plan.url.href, "http://127.0.0.1:9/")].join("\n"));
      assert.equal(logged(r, "reload: the order of preference changes only with a restart").length, 1);
      assert.deepEqual(logged(r, "reload: a provider's protocol, dialect or URL changes only with a restart")[0]!.fields, ["URL"]);
      await advance(r.clock, 25_000);
      assert.ok(r.plan.counts().submitted >= 3, "the plan's URL in use stays");
      reloadWith(r, `other legacy ${r.paid.url.href} key-file=/keys/paid price=1`);
      assert.equal(logged(r, "reload: the providers file names none of the providers in use").length, 1);
      assert.equal(r.worker.pool.provider("plan")!.removed, false);
      noKeyLogged(r);
    }, { file, keys: KEYS }));

  test("a key fixed in its key file is used at once: the refused provider is up again, and neither key is logged", () =>
    withProviders(async (r) => {
      await eventually(() => r.worker.view.providerStates()[0]!.state === "down", "the plan refuses the key at start");
      r.file.keys["/keys/plan"] = PLAN_KEY;
      reloadWith(r, file(r));
      assert.deepEqual(logged(r, "reload: provider updated")[0]!.fields, ["key-file"]);
      await eventually(() => r.worker.view.providerStates()[0]!.state === "up", "up with the new key");
      const ids = await Promise.all(Array.from({ length: 2 }, () => postImage(r)));
      await eventually(() => r.plan.counts().submitted === 2, "the plan takes work with it");
      assert.ok(ids.every((id) => r.worker.pool.find(id)!.provider === "plan"));
      noKeyLogged(r);
    }, { file, keys: { ...KEYS, "/keys/plan": PASTED } }));
});
