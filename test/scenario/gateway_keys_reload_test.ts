// A SIGHUP reload of a large --client-keys-file runs beside the worker's requests 
// (docs/gateway.md): probes are answered while it runs, requests meanwhile use the keys in
// use, and the new keys take over when the file is whole. The case: 30,000 lines, during
// whose reload /health/live took 15.3 s. Counted, not timed (the timing is `npm run bench -- keys`).
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { describe, test } from "node:test";
import { CLIENT_KEY, gatewayHarness, keysFile } from "../_support/gateway.ts";
import { withHarness } from "../_support/harness.ts";

const LINES = 30_000;
const NEW_KEY = "client-key-newcomer-0123456789abcdef";
const many = (tag: string) => Array.from({ length: LINES }, (_, i) => `${tag}${i} ${tag}-key-${i}-0123456789abcdef`).join("\n") + "\n";

describe("gateway keys reload", () => {
  const file = keysFile(many("old"));
  test(`probes are answered while a SIGHUP reload of ${LINES.toLocaleString("en")} keys runs, and requests meanwhile use the keys in use`, () =>
    withHarness(async (h) => {
      const balance = async (key: string) => (await fetch(`${h.base}/res.php?${new URLSearchParams({ key, action: "getbalance" })}`)).text();
      assert.equal(await balance(NEW_KEY), "ERROR_KEY_DOES_NOT_EXIST");
      writeFileSync(file, `alpha ${CLIENT_KEY}\nnewcomer ${NEW_KEY}\n${many("new")}`);
      const loaded = () => h.logs.some((l) => l.includes("client keys loaded"));
      h.worker.reload();
      let probes = 0;
      const during: string[] = [];
      while (!loaded()) {
        const live = await fetch(`${h.base}/health/live`);
        assert.equal(live.status, 200);
        await live.arrayBuffer();
        if (!loaded()) probes++;
        const answer = await balance(NEW_KEY);
        if (!loaded()) during.push(answer); // answered before the swap: the keys in use
      }
      assert.ok(probes >= 1, "no probe was answered while the reload ran");
      assert.deepEqual(new Set(during), new Set(["ERROR_KEY_DOES_NOT_EXIST"]));
      assert.equal(await balance(NEW_KEY), "10");
      assert.equal(await balance(CLIENT_KEY), "10", "a key in both files works throughout");
      assert.equal(await balance("old-key-0-0123456789abcdef"), "ERROR_KEY_DOES_NOT_EXIST");
    }, { ...gatewayHarness(), flags: { ...gatewayHarness().flags, "client-keys-file": file } }));
});
