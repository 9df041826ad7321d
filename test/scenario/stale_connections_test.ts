/**
 * Keep-alive connections an upstream closed while idle, without a `Keep-Alive` hint: a worker on the
 * fake clock takes 100 image tasks about a second apart (with the default 5 s polls) from a
 * simulator whose idle timeout is 1 s on the same clock, once closing idle connections and once
 * resetting any request that arrives on a connection idle for over 1 s. No task may fail or be
 * submitted twice, nothing may be logged as a warning, and no upstream call may end transient. Idle
 * time passes on the fake clock only: the simulator closes or resets on it, so nothing sleeps.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { IdleTimeout } from "../../src/sim/idle_connections.ts";
import { mulberry32 } from "../../src/sim/prng.ts";
import { advance, withHarness } from "../_support/harness.ts";
import { pngOfSize } from "../_support/images.ts";

const IMAGE = JSON.stringify({ type: "image", image: pngOfSize(150, 2).toString("base64") });
const TASKS = 100;

async function post(base: string): Promise<string> {
  const res = await fetch(`${base}/v1/tasks`, { method: "POST", headers: { "content-type": "application/json" }, body: IMAGE });
  assert.equal(res.status, 202);
  return ((await res.json()) as { id: string }).id;
}

/** The sum of a counter's samples whose labels include `labels`. */
function metricSum(text: string, name: string, labels: string): number {
  let sum = 0;
  for (const line of text.split("\n")) if (line.startsWith(name + "{") && line.includes(labels)) sum += Number(line.split(" ").at(-1));
  return sum;
}

// The close takes 100 ms to reach the worker, as a FIN crossing a network would: a request sent meanwhile meets a closed connection.
for (const idleTimeout of [{ idleMs: 1000, onIdle: "close", closeLatencyMs: 100 }, { idleMs: 1000, onIdle: "reset" }] satisfies IdleTimeout[]) {
  describe(`an upstream that ${idleTimeout.onIdle === "close" ? "closes idle connections" : "resets requests on idle connections"} after 1 s, without a hint`, () => {
    test(`${TASKS} tasks about 1 s apart: none failed, none submitted twice, no warning, no transient call`, async (t) => {
      await withHarness(
        async (h) => {
          const random = mulberry32(24);
          const ids: string[] = [];
          for (let i = 0; i < TASKS; i++) {
            ids.push(await post(h.base));
            await advance(h.clock, 800 + Math.floor(random() * 600), 100); // 0.8 s to 1.4 s apart
          }
          const ended = () => h.worker.health.snapshot().solved + h.worker.health.snapshot().failed;
          for (let ms = 0; ms < 60_000 && ended() < TASKS; ms += 1000) await advance(h.clock, 1000, 100);
          const tasks = await Promise.all(ids.map(async (id) => (await (await fetch(`${h.base}/v1/tasks/${id}`)).json()) as { status: string; error?: { code: string } }));
          const failed = tasks.filter((t) => t.status !== "solved").map((t) => t.error?.code ?? t.status);
          const counts = h.sim.counts();
          const warnings = h.logs.filter((l) => /"level":"(warn|error)"/.test(l));
          const metrics = await (await fetch(`${h.base}/metrics`)).text();
          const transient = metricSum(metrics, "captcha_worker_upstream_requests_total", 'outcome="transient"');
          const report = { failed: failed.length, codes: [...new Set(failed)], submits: counts.requests["in.php"], accepted: counts.submitted, warnings: warnings.length, transient, ...counts };
          t.diagnostic(JSON.stringify(report));
          assert.deepEqual(failed, [], JSON.stringify(report));
          assert.equal(counts.requests["in.php"], TASKS, "each task submitted once");
          assert.equal(counts.submitted, TASKS);
          assert.deepEqual(warnings, []);
          assert.equal(transient, 0, "no upstream call ended transient");
          assert.equal(counts.staleDropped, 0, "no request was written on a connection the upstream had given up");
          if (idleTimeout.onIdle === "close") assert.ok(counts.idleClosed > 0, "the upstream did close idle connections");
        },
        { sim: { idleTimeout } },
      );
    });
  });
}
