/**
 * docs/simulator.md says what the simulator does: its flags table lists every flag of
 * `simulate` in the order --help prints them, and its dialects table each dialect with the prices,
 * capacity code, thread cap, key code and missing methods of its row in src/sim/sim_dialects.ts.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { SIMULATE_FLAGS } from "../../../src/config/options.ts";
import { SIM_DIALECT_SPECS, SIM_DIALECTS } from "../../../src/sim/sim_dialects.ts";

const PAGE = readFileSync(fileURLToPath(new URL("../../../docs/simulator.md", import.meta.url)), "utf8");

/** The table rows between `<!-- NAME` and `<!-- end of NAME -->`, each as its cells (the header and rule left out). */
function rows(name: string): string[][] {
  const start = PAGE.indexOf(`<!-- ${name}`);
  const end = PAGE.indexOf(`<!-- end of ${name} -->`);
  assert.ok(start >= 0 && end > start, `docs/simulator.md marks the ${name} table`);
  const lines = PAGE.slice(start, end).split("\n").filter((l) => l.startsWith("|"));
  return lines.slice(2).map((l) => l.replace(/\\\|/g, "\u0000").split("|").slice(1, -1).map((c) => c.trim().replace(/\u0000/g, "|")));
}

describe("docs/simulator.md", () => {
  test("the flags table lists every flag of simulate, in --help's order", () => {
    assert.deepEqual(rows("simulator flags").map((r) => r[0]), SIMULATE_FLAGS.map((f) => `\`--${f.flag}\``));
  });

  test("the dialects table gives each dialect's prices, capacity code and cap, key code and the methods it does not serve", () => {
    const table = rows("simulator dialects");
    assert.deepEqual(table.map((r) => /^`([^`]+)`/.exec(r[0]!)?.[1]), [...SIM_DIALECTS]);
    for (const [i, name] of SIM_DIALECTS.entries()) {
      const spec = SIM_DIALECT_SPECS[name];
      const [, protocol, prices, capacity, key, notServed] = table[i]!;
      assert.match(protocol!, spec.protocol === "legacy" ? /in\.php/ : /createTask/, name);
      assert.ok(prices!.startsWith(`${spec.pricePer1000Usd.image} / ${spec.pricePer1000Usd.token}`), `${name}: ${prices}`);
      assert.ok(capacity!.startsWith(`\`${spec.capacityCode}\` (${spec.threads ?? "no cap"})`), `${name}: ${capacity}`);
      assert.ok(key!.includes(spec.keys.unknown) || key === "as `captchaai`", `${name}: ${key}`);
      for (const m of spec.notServed) assert.ok(notServed!.includes(`\`${m}\``), `${name}: ${m}`);
    }
  });
});
