// Another client's task and an unknown id get the same answer, byte for byte apart from the id, on
// every API: a client scanning time-ordered ids learns nothing of other clients' tasks.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { CLIENT_KEY, gatewayHarness, OTHER_KEY, PNG } from "../_support/gateway.ts";
import { withHarness, type Harness } from "../_support/harness.ts";

/** An answer as text, the id in it (and its length in content-length) replaced, so two answers compare but for their ids. */
async function answer(res: Response, id: string): Promise<string> {
  const headers = [...res.headers].filter(([k]) => k !== "date" && k !== "content-length" && k !== "keep-alive").map(([k, v]) => `${k}: ${v}`).join("\n");
  return `${res.status}\n${headers}\n${(await res.text()).replaceAll(id, "<id>")}`;
}

async function every(h: Harness, id: string): Promise<string[]> {
  const auth = { authorization: `Bearer ${OTHER_KEY}` };
  const json = { "content-type": "application/json" };
  return [
    await answer(await fetch(`${h.base}/v1/tasks/${id}`, { headers: auth }), id),
    await answer(await fetch(`${h.base}/v1/tasks/${id}/report`, { method: "POST", headers: { ...auth, ...json }, body: '{"correct":false}' }), id),
    await answer(await fetch(`${h.base}/res.php?key=${OTHER_KEY}&action=get&id=${id}`), id),
    await answer(await fetch(`${h.base}/res.php?key=${OTHER_KEY}&action=get&id=${id}&json=1`), id),
    await answer(await fetch(`${h.base}/res.php?key=${OTHER_KEY}&action=reportbad&id=${id}`), id),
    await answer(await fetch(`${h.base}/getTaskResult`, { method: "POST", headers: json, body: JSON.stringify({ clientKey: OTHER_KEY, taskId: Number(id) }) }), id),
    await answer(await fetch(`${h.base}/reportIncorrect`, { method: "POST", headers: json, body: JSON.stringify({ clientKey: OTHER_KEY, taskId: Number(id) }) }), id),
  ];
}

describe("no id oracle", () => {
  test("another client's task and an unknown id read the same on /v1/tasks, res.php and getTaskResult, reports too", () =>
    withHarness(async (h) => {
      const created = await fetch(`${h.base}/v1/tasks`, { method: "POST", headers: { authorization: `Bearer ${CLIENT_KEY}`, "content-type": "application/json" }, body: JSON.stringify({ type: "image", image: PNG }) });
      assert.equal(created.status, 202);
      const theirs = ((await created.json()) as { id: string }).id;
      const unknown = String(Number(theirs) + 1024); // the same node, a moment later: never issued
      assert.equal(unknown.length, theirs.length);
      const a = await every(h, theirs);
      const b = await every(h, unknown);
      assert.deepEqual(a, b);
      assert.match(a[0]!, /^404\n/);
    }, gatewayHarness()));
});
