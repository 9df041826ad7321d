import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { planProvidersReload, type RunningProvider } from "../../../src/app/providers_reload.ts";
import type { ProviderSpec } from "../../../src/config/providers.ts";

const spec = (name: string, more: Partial<ProviderSpec> = {}): ProviderSpec =>
  ({
    name, protocol: "legacy", dialect: "captchaai", url: new URL(`https://${name}.example/`), threads: 10, price: undefined, typePrices: {}, afterMs: 5000,
    dailyBudgetUsd: undefined, types: undefined, key: `${name}-key-0123456789abcdef0123`, keyOrigin: `key-file /etc/${name}.key`, keySource: "key-file",
    keyFile: `/etc/${name}.key`, line: 1, ...more,
  }) as ProviderSpec;
const running = (...specs: ProviderSpec[]): RunningProvider[] => specs.map((s) => ({ spec: s, removed: false }));

describe("planProvidersReload", () => {
  test("the same file changes nothing", () => {
    const plan = planProvidersReload(running(spec("a"), spec("b")), [spec("a"), spec("b")]);
    assert.deepEqual(plan, {
      kept: [{ spec: spec("a"), changed: [], atRestart: [], back: false }, { spec: spec("b"), changed: [], atRestart: [], back: false }],
      removed: [], added: [], reordered: false,
    });
  });

  test("each applied field is named as the file names it, never its value", () => {
    const paid = spec("b", { threads: undefined, price: 2.99, dailyBudgetUsd: 20 });
    const plan = planProvidersReload(running(spec("a"), paid), [
      spec("a", { threads: 12, afterMs: 0 }),
      spec("b", { threads: undefined, price: 3.5, typePrices: { turnstile: 1 }, dailyBudgetUsd: 30, types: ["image"], key: "another-key-0123456789abcdef01" }),
    ]);
    assert.deepEqual(plan.kept.map((k) => k.changed), [["threads", "after"], ["price", "price.TYPE", "daily-budget", "types", "key-file"]]);
    assert.ok(!JSON.stringify(plan.kept.map((k) => k.changed)).includes("another-key"));
  });

  test("a provider gone from the file is removed; one new to it is added only by a restart; a new order waits for one too", () => {
    const plan = planProvidersReload(running(spec("a"), spec("b"), spec("c")), [spec("c"), spec("new"), spec("a")]);
    assert.deepEqual(plan.kept.map((k) => k.spec.name), ["a", "c"], "in the running order");
    assert.deepEqual(plan.removed, ["b"]);
    assert.deepEqual(plan.added, ["new"]);
    assert.equal(plan.reordered, true);
  });

  test("a protocol, dialect or URL that changed waits for a restart; a removed provider listed again comes back; one still gone is not removed twice", () => {
    const was: RunningProvider[] = [{ spec: spec("a"), removed: false }, { spec: spec("b"), removed: true }, { spec: spec("c"), removed: true }];
    const plan = planProvidersReload(was, [spec("a", { dialect: "2captcha", url: new URL("https://elsewhere.example/") }), spec("b")]);
    assert.deepEqual(plan.kept.map((k) => [k.spec.name, k.atRestart, k.back]), [["a", ["dialect", "URL"], false], ["b", [], true]]);
    assert.deepEqual(plan.removed, []);
    assert.deepEqual(plan.added, []);
  });

  test("a types list and the same list again, or all types and a list, compare as what they allow", () => {
    const listed = spec("a", { types: ["image", "turnstile"] });
    assert.deepEqual(planProvidersReload(running(listed), [spec("a", { types: ["image", "turnstile"] })]).kept[0]!.changed, []);
    assert.deepEqual(planProvidersReload(running(listed), [spec("a")]).kept[0]!.changed, ["types"]);
    assert.deepEqual(planProvidersReload(running(spec("a", { types: [] })), [spec("a")]).kept[0]!.changed, ["types"]);
  });
});
