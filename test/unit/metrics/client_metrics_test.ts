import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ClientMetrics } from "../../../src/metrics/client_metrics.ts";
import { Registry } from "../../../src/metrics/registry.ts";
import { makeTask } from "../../_support/tasks.ts";

const line = (text: string, series: string) => text.split("\n").find((l) => l.startsWith(series + " "));

describe("ClientMetrics", () => {
  test("counts accepts, refusals and outcomes per client; the in-flight gauge lists every configured name, read at scrape time", () => {
    const r = new Registry();
    let names = ["alpha", "bravo"];
    const open: Record<string, number> = { alpha: 2 };
    const m = new ClientMetrics(r, { names: () => names, openOf: (n) => open[n] ?? 0 });
    m.accepted("alpha");
    m.accepted("alpha");
    m.refused("bravo");
    m.ended(makeTask("1", { status: "solved", params: { type: "image", image: "", client: "alpha" } }));
    m.ended(makeTask("2", { status: "failed" })); // the operator's task: no client, not counted
    let text = r.render();
    assert.equal(line(text, 'captcha_worker_client_tasks_total{client="alpha"}'), 'captcha_worker_client_tasks_total{client="alpha"} 2');
    assert.equal(line(text, 'captcha_worker_client_refusals_total{client="bravo"}'), 'captcha_worker_client_refusals_total{client="bravo"} 1');
    assert.equal(line(text, 'captcha_worker_client_task_outcomes_total{client="alpha",status="solved"}'), 'captcha_worker_client_task_outcomes_total{client="alpha",status="solved"} 1');
    assert.ok(!text.includes('status="failed"'), "a task without a client is no client's outcome");
    assert.equal(line(text, 'captcha_worker_client_in_flight{client="alpha"}'), 'captcha_worker_client_in_flight{client="alpha"} 2');
    assert.equal(line(text, 'captcha_worker_client_in_flight{client="bravo"}'), 'captcha_worker_client_in_flight{client="bravo"} 0');
    names = ["charlie"]; // the keys file re-read
    text = r.render();
    assert.ok(line(text, 'captcha_worker_client_in_flight{client="charlie"}'));
    assert.equal(line(text, 'captcha_worker_client_in_flight{client="alpha"}'), undefined);
  });

  test("a task the journal could not record is the client's refusal, not also its outcome: it was withdrawn and the client never had its id", () => {
    const r = new Registry();
    const m = new ClientMetrics(r, { names: () => ["alpha"], openOf: () => 0 });
    const withdrawn = makeTask("1", { status: "failed", params: { type: "image", image: "", client: "alpha" }, error: { code: "journal", message: "withdrawn"} });
    m.refused("alpha"); // what the gateway and /v1/tasks count when accept throws ERR_STATE_DIR
    m.ended(withdrawn); // the pool's end hook sees the withdrawn task too
    const text = r.render();
    assert.equal(line(text, 'captcha_worker_client_refusals_total{client="alpha"}'), 'captcha_worker_client_refusals_total{client="alpha"} 1');
    assert.ok(!text.includes("captcha_worker_client_task_outcomes_total{"), "no outcome for a task never given to the client");
  });
});
