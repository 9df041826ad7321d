import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { isWorkerError } from "../../../src/base/errors.ts";
import { createLogger } from "../../../src/base/log.ts";
import { ClientKeys, parseClientKeys } from "../../../src/gateway/client_keys.ts";
import { FakeClock } from "../../_support/fake_clock.ts";

const A = "key-alpha-0123456789";
const B = "key-bravo-0123456789";

function rig(text: string) {
  const clock = new FakeClock();
  const logs: string[] = [];
  const file = { text, mtime: 1 };
  const keys = new ClientKeys({ path: "/keys", clock, log: createLogger({ level: "debug", write: (l) => logs.push(l) }), readFile: () => file.text, mtimeMs: () => file.mtime });
  return { clock, logs, file, keys };
}

describe("parseClientKeys", () => {
  test("parseClientKeys reads NAME KEY [max_in_flight=N] lines, skipping comments and blank lines", () => {
    const parsed = parseClientKeys(`# clients\n\nalpha ${A}\n  bravo ${B} max_in_flight=3 # the scraper\n`);
    assert.deepEqual([...parsed], [{ name: "alpha", maxInFlight: undefined }, { name: "bravo", maxInFlight: 3 }]);
    assert.deepEqual(parsed.keys, [A, B]);
  });

  test("parseClientKeys refuses a bad line naming its number, never quoting the key", () => {
    for (const text of [`alpha`, `alpha short`, `al/pha ${A}`, `alpha ${A} max_in_flight=0`, `alpha ${A} extra`, `alpha ${A}\nalpha ${B}`, `alpha ${A}\nbravo ${A}`]) {
      assert.throws(() => parseClientKeys(text), (err: unknown) => isWorkerError(err, "ERR_CONFIG_INVALID") && /line \d/.test(err.message) && !err.message.includes(A), text);
    }
  });
});

describe("ClientKeys", () => {
  test("ClientKeys finds the client by its key and nothing by a wrong, empty or missing one", () => {
    const { keys } = rig(`alpha ${A}\nbravo ${B} max_in_flight=2`);
    assert.equal(keys.find(A)?.name, "alpha");
    assert.deepEqual(keys.find(B), { name: "bravo", maxInFlight: 2 });
    for (const k of [undefined, "", A + "x", A.slice(0, -1)]) assert.equal(keys.find(k), undefined);
  });

  test("ClientKeys re-reads the file when its modification time changes, at most once a second", async () => {
    const { keys, file, clock } = rig(`alpha ${A}`);
    file.text = `bravo ${B}`;
    file.mtime = 2;
    assert.equal(keys.find(B), undefined, "looked at less than a second ago");
    await clock.advance(1000);
    assert.equal(keys.find(B)?.name, "bravo");
    assert.equal(keys.find(A), undefined, "a key removed from the file is refused");
  });

  test("ClientKeys keeps the keys in use when a reload fails, and logs no key", () => {
    const { keys, file, logs } = rig(`alpha ${A}`);
    file.text = `alpha ${A}\nbroken`;
    assert.equal(keys.reload(), false);
    assert.equal(keys.find(A)?.name, "alpha");
    file.text = `alpha ${A}\nbravo ${B}`;
    assert.equal(keys.reload(), true);
    assert.equal(keys.find(B)?.name, "bravo");
    assert.ok(!logs.join("").includes(A) && !logs.join("").includes(B));
  });

  test("ClientKeys refuses to start on an unreadable file with ERR_CONFIG_INVALID", () => {
    assert.throws(
      () => new ClientKeys({ path: "/missing", clock: new FakeClock(), log: createLogger({ write: () => {} }) }),
      (err: unknown) => isWorkerError(err, "ERR_CONFIG_INVALID") && err.field === "--client-keys-file",
    );
  });
});
