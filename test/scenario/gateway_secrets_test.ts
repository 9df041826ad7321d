// Neither the CaptchaAI key nor a client key leaves the worker through the gateway: every answer of
// both APIs (successes, refusals, failed tasks, upstream faults) and every log line are searched.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { CLIENT_KEY, gatewayHarness, PNG } from "../_support/gateway.ts";
import { advance, SIM_KEY, withHarness } from "../_support/harness.ts";

describe("gateway secrets", () => {
  test("no gateway answer, header or log line carries the CaptchaAI key or a client key, through solves, failures and upstream faults", () =>
    withHarness(async (h) => {
      const seen: string[] = [];
      const get = async (path: string, init?: RequestInit) => {
        const res = await fetch(h.base + path, init);
        seen.push(`${[...res.headers].join("\n")}\n${await res.text()}`);
      };
      const v2 = (m: string, body: unknown) => get(`/${m}`, { method: "POST", body: JSON.stringify(body) });
      const q = (p: string, o: Record<string, string>) => get(`${p}?${new URLSearchParams({ key: CLIENT_KEY, ...o })}`);
      for (let round = 0; round < 3; round++) {
        if (round === 1) h.sim.control.setUnsolvableRatio(1);
        if (round === 2) h.sim.control.setFault("all", { error: "ERROR_WRONG_USER_KEY" });
        await q("/in.php", { method: "base64", body: PNG });
        await v2("createTask", { clientKey: CLIENT_KEY, task: { type: "ImageToTextTask", body: PNG } });
        await advance(h.clock, 30_000, 1000);
        for (const id of ["1", "abc"]) {
          await q("/res.php", { action: "get", id });
          await q("/res.php", { action: "get2", id });
          await q("/res.php", { action: "reportbad", id });
          await v2("getTaskResult", { clientKey: CLIENT_KEY, taskId: id });
        }
        await q("/res.php", { action: "getbalance", json: "1" });
        await v2("getBalance", { clientKey: CLIENT_KEY });
        await q("/in.php", { method: "userrecaptcha", googlekey: "6Le-sitekey-abc", pageurl: "https://a.example/", json: "1" });
      }
      const ids = h.logs.join("\n").match(/"id":"(\d+)"/g) ?? [];
      for (const m of ids) {
        const id = m.slice(6, -1);
        await q("/res.php", { action: "get", id });
        await v2("getTaskResult", { clientKey: CLIENT_KEY, taskId: Number(id) });
      }
      const text = seen.join("\n") + h.logs.join("\n") + (await (await fetch(`${h.base}/metrics`)).text());
      for (const secret of [SIM_KEY, CLIENT_KEY, encodeURIComponent(CLIENT_KEY)]) assert.ok(!text.includes(secret), "a key leaked");
      assert.ok(seen.some((s) => s.includes("ERROR_CAPTCHA_UNSOLVABLE")), "failed tasks were read");
    }, gatewayHarness()));
});
