// GET /v1/types on a running worker and `captcha-worker types`: the catalogue, as clients and people read it.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { withHarness } from "../_support/harness.ts";
import { describeTypes } from "../../src/tasks/task_types_doc.ts";
import { runMain } from "../_support/cli.ts";

describe("task types", () => {
  test("GET /v1/types lists every type with its fields and names (no token needed; it names no task)", () =>
    withHarness(async (h) => {
      const res = await fetch(`${h.base}/v1/types`);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("content-type"), "application/json");
      const body = (await res.json()) as { types: { type: string; fields: Record<string, { required: boolean }> }[] };
      assert.deepEqual(body, JSON.parse(JSON.stringify({ types: describeTypes() })));
      const geetest = body.types.find((t) => t.type === "geetest")!;
      assert.deepEqual(Object.entries(geetest.fields).filter(([, f]) => f.required).map(([n]) => n), ["gt", "challenge", "pageurl"]);
      assert.equal((await fetch(`${h.base}/v1/types`, { method: "HEAD" })).status, 200);
    }, { apiToken: "operator-token-0123456789" }));

  test("`captcha-worker types` prints each type and its fields; --json prints what the route answers", async () => {
    const text = await runMain(["types"]);
    assert.equal(text.code, 0);
    assert.match(text.stdout, /^cloudflare_challenge \(token\): .*\n  \* pageurl .*\n(?:.*\n)*?  \* proxy /m);
    const json = await runMain(["types", "--json"]);
    assert.equal(json.code, 0);
    assert.deepEqual(JSON.parse(json.stdout), JSON.parse(JSON.stringify({ types: describeTypes() })));
  });
});
