import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { isWorkerError } from "../../../src/base/errors.ts";
import { createLogger } from "../../../src/base/log.ts";
import { ClientKeys, LINES_PER_TURN, parseClientKeys } from "../../../src/gateway/client_keys.ts";
import { FakeClock } from "../../_support/fake_clock.ts";

const A = "key-alpha-0123456789";
const B = "key-bravo-0123456789";

function rig(text: string) {
  const clock = new FakeClock();
  const logs: string[] = [];
  const file = { text, mtime: 1 };
  const keys = new ClientKeys({ path: "/keys", clock, log: createLogger({ level: "debug", write: (l) => logs.push(l) }), readFile: () => file.text, identify: () => file.mtime });
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
    await keys.settled();
    assert.equal(keys.find(B)?.name, "bravo");
    assert.equal(keys.find(A), undefined, "a key removed from the file is refused");
  });

  test("ClientKeys keeps the keys in use when a reload fails, says why, and logs no key", async () => {
    const { keys, file, logs } = rig(`alpha ${A}`);
    file.text = `alpha ${A}\nbroken`;
    assert.equal(await keys.reload(), false);
    assert.equal(keys.find(A)?.name, "alpha");
    assert.match(logs.at(-1)!, /not reloaded.*--client-keys-file line 2/, "says why");
    file.text = `alpha ${A}\nbravo ${B}`;
    assert.equal(await keys.reload(), true);
    assert.equal(keys.find(B)?.name, "bravo");
    assert.ok(!logs.join("").includes(A) && !logs.join("").includes(B));
  });

  test("ClientKeys never looks at the file from a request: a timer checks the modification time", async () => {
    const clock = new FakeClock();
    let inFind = false;
    let lookedFromFind = 0;
    const file = { text: `alpha ${A}`, mtime: 1 };
    const look = <T>(v: T) => {
      if (inFind) lookedFromFind++;
      return v;
    };
    const keys = new ClientKeys({ path: "/keys", clock, log: createLogger({ write: () => {} }), readFile: () => look(file.text), identify: () => look(file.mtime) });
    file.text = `bravo ${B}`;
    file.mtime = 2;
    await clock.advance(1000);
    await keys.settled();
    inFind = true;
    const found = [keys.find(A), keys.find(B)];
    inFind = false;
    assert.equal(lookedFromFind, 0);
    assert.deepEqual(found.map((c) => c?.name), [undefined, "bravo"], "the timer's reload took the new file");
    keys.stop();
    assert.equal(clock.pendingCount, 0, "stop() ends the checks");
  });

  test("ClientKeys re-parses a broken file once, not at every check, and again when it changes", async () => {
    const clock = new FakeClock();
    const logs: string[] = [];
    const file = { text: `alpha ${A}`, mtime: 1 };
    const keys = new ClientKeys({ path: "/keys", clock, log: createLogger({ write: (l) => logs.push(l) }), readFile: () => file.text, identify: () => file.mtime });
    file.text = "broken";
    file.mtime = 2;
    for (let i = 0; i < 5; i++) await clock.advance(1000);
    await keys.settled();
    assert.equal(logs.filter((l) => l.includes("not reloaded")).length, 1);
    assert.equal(keys.find(A)?.name, "alpha");
    file.text = `bravo ${B}`;
    file.mtime = 3;
    await clock.advance(1000);
    await keys.settled();
    assert.equal(keys.find(B)?.name, "bravo");
  });

  test("ClientKeys answers with the keys in use while a reload runs, and swaps them whole at its end", async () => {
    const many = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i} ${prefix}-key-${i}-0123456789`).join("\n");
    const { keys, file } = rig(`alpha ${A}\n${many("old", 3 * LINES_PER_TURN)}`);
    file.text = `bravo ${B}\n${many("new", 3 * LINES_PER_TURN)}`;
    file.mtime = 2;
    const reloaded = keys.reload();
    const during: (string | undefined)[] = [];
    let finished = false;
    void reloaded.then(() => (finished = true));
    while (!finished) {
      during.push(`${keys.find(A)?.name}/${keys.find(B)?.name}/${keys.size}`);
      await new Promise((r) => setImmediate(r));
    }
    assert.ok(during.length >= 6, `requests answered during the reload: ${during.length}`);
    assert.deepEqual(new Set(during.slice(0, -1)), new Set([`alpha/undefined/${3 * LINES_PER_TURN + 1}`]), "only the old keys until the new ones are whole");
    assert.equal(await reloaded, true);
    assert.deepEqual([keys.find(A)?.name, keys.find(B)?.name, keys.find(`new-key-${3 * LINES_PER_TURN - 1}-0123456789`)?.name], [undefined, "bravo", `new${3 * LINES_PER_TURN - 1}`]);
  });

  test("ClientKeys loads and reloads 100,000 keys, the reload yielding to the event loop every LINES_PER_TURN lines", async () => {
    const N = 100_000;
    const lines = (tag: string) => Array.from({ length: N }, (_, i) => `${tag}${i} ${tag}-${i.toString(16).padStart(6, "0")}-0123456789abcdef max_in_flight=5`).join("\n");
    const { keys, file } = rig(lines("a"));
    assert.equal(keys.size, N);
    for (const i of [0, N / 2, N - 1]) assert.equal(keys.find(`a-${i.toString(16).padStart(6, "0")}-0123456789abcdef`)?.name, `a${i}`);
    file.text = lines("b");
    let turns = 0;
    let done = false;
    const spin = () => {
      if (done) return;
      turns++;
      setImmediate(spin);
    };
    setImmediate(spin);
    const ok = await keys.reload();
    done = true;
    assert.equal(ok, true);
    assert.ok(turns >= N / LINES_PER_TURN, `event-loop turns during the reload: ${turns}`);
    assert.equal(keys.size, N);
    assert.equal(keys.find(`a-000000-0123456789abcdef`), undefined);
    for (const i of [0, N / 2, N - 1]) assert.deepEqual(keys.find(`b-${i.toString(16).padStart(6, "0")}-0123456789abcdef`), { name: `b${i}`, maxInFlight: 5 });
  });

  test("ClientKeys refuses to start on an unreadable file with ERR_CONFIG_INVALID", () => {
    assert.throws(
      () => new ClientKeys({ path: "/missing", clock: new FakeClock(), log: createLogger({ write: () => {} }) }),
      (err: unknown) => isWorkerError(err, "ERR_CONFIG_INVALID") && err.field === "--client-keys-file",
    );
  });
});
