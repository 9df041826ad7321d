import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { BAD_KEYS_TO_BAN, SimAccess } from "../../../src/sim/sim_access.ts";
import { FakeClock } from "../../_support/fake_clock.ts";

const KEY = "0123456789abcdef0123456789abcdef";

describe("SimAccess", () => {
  test("a key not 32 characters is malformed, a well-formed one it does not know unknown; the fifth bad key bans the address", () => {
    const access = new SimAccess(new FakeClock(), [KEY]);
    assert.equal(access.check("a", KEY), undefined);
    assert.equal(access.check("a", "short"), "malformed");
    for (let i = 1; i < BAD_KEYS_TO_BAN - 1; i++) assert.equal(access.check("a", "f".repeat(32)), "unknown");
    assert.equal(access.check("a", "f".repeat(32)), "unknown");
    assert.equal(access.check("a", KEY), "banned", "even with a good key");
    assert.equal(access.check("b", KEY), undefined, "another address");
  });

  test("bans: false (a service that documents no ban) refuses bad keys and never bans", () => {
    const access = new SimAccess(new FakeClock(), [KEY], { bans: false });
    for (let i = 0; i < BAD_KEYS_TO_BAN * 2; i++) assert.equal(access.check("a", "short"), "malformed");
    assert.equal(access.check("a", KEY), undefined);
    assert.deepEqual(access.banned(), {});
  });
});
