import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { CONTENT_TYPE } from "../../src/metrics/registry.ts";
import { advance, eventually, startHarness, SIM_KEY } from "../_support/harness.ts";
import { promtoolFindings } from "../_support/promtool.ts";
import { pngOfSize } from "../_support/images.ts";

const IMAGE = { type: "image" as const, image: pngOfSize(150, 2).toString("base64") };
const SPEC_NAMES = [
  "captcha_worker_tasks_total", "captcha_worker_solve_duration_seconds", "captcha_worker_upstream_requests_total",
  "captcha_worker_upstream_request_duration_seconds", "captcha_worker_queue_depth", "captcha_worker_in_flight",
  "captcha_worker_balance_usd", "captcha_worker_balance_age_seconds", "captcha_worker_consecutive_failures",
  "captcha_worker_seconds_since_last_solve", "captcha_worker_error_rate", "captcha_worker_ready", "captcha_worker_live",
  "captcha_worker_check_status", "captcha_worker_threshold", "captcha_worker_circuit_open", "captcha_worker_build_info",
  "process_cpu_seconds_total", "process_resident_memory_bytes", "process_start_time_seconds", "process_open_fds",
  "nodejs_eventloop_lag_seconds", "nodejs_heap_size_used_bytes",
  "captcha_worker_provider_up", "captcha_worker_provider_tasks_total", "captcha_worker_provider_spend_usd_total",
  "captcha_worker_provider_budget_remaining_usd", "captcha_worker_provider_threads",
];

function value(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(series + " "));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe("/metrics", () => {
  test("exposes every docs/metrics.md name, passes promtool, and follows the worker's state", async (t) => {
    const h = await startHarness();
    try {
      const first = await fetch(`${h.base}/metrics`);
      assert.equal(first.status, 200);
      assert.equal(first.headers.get("content-type"), CONTENT_TYPE);
      const text0 = await first.text();
      for (const name of SPEC_NAMES) assert.match(text0, new RegExp(`^# TYPE ${name} `, "m"), name);
      assert.equal(promtoolFindings(t, text0) ?? "", "");
      assert.equal(value(text0, "captcha_worker_ready"), 1);
      assert.equal(value(text0, "captcha_worker_balance_usd"), 10);
      assert.equal(value(text0, 'captcha_worker_threshold{name="min_balance"}'), 1);
      assert.equal(value(text0, 'captcha_worker_check_status{check="captchaai_api"}'), 1);
      // Without a providers file the one provider is captchaai.
      assert.equal(value(text0, 'captcha_worker_provider_up{provider="captchaai"}'), 1);

      const tasks = [1, 2, 3].map(() => h.worker.pool.enqueue("image", IMAGE));
      await advance(h.clock, 5000);
      await eventually(() => tasks.every((x) => x.status === "solved"), "solved");
      h.sim.control.setBalance(0.3);
      await h.worker.checks.refresh("captchaai_api");
      const text = await (await fetch(`${h.base}/metrics`)).text();
      assert.equal(promtoolFindings(t, text) ?? "", "");
      assert.equal(value(text, 'captcha_worker_tasks_total{type="image",outcome="solved"}'), 3);
      assert.equal(value(text, 'captcha_worker_provider_tasks_total{provider="captchaai",type="image",outcome="solved"}'), 3);
      assert.equal(value(text, 'captcha_worker_solve_duration_seconds_count{type="image"}'), 3);
      assert.equal(value(text, 'captcha_worker_solve_duration_seconds_bucket{type="image",le="5"}'), 3);
      assert.equal(value(text, 'captcha_worker_upstream_requests_total{endpoint="in.php",outcome="ok"}'), 3);
      assert.equal(value(text, "captcha_worker_ready"), 0);
      assert.equal(value(text, "captcha_worker_balance_usd"), 0.3);
      assert.ok(!text.includes(SIM_KEY));
      assert.ok(!/[0-9a-f]{8}-[0-9a-f]{4}-/.test(text), "no task ids in labels");
    } finally {
      await h.close();
    }
  });

  test("counts failures by code and blame: the client's input apart from the worker's failures, unknown codes as other", async () => {
    const h = await startHarness();
    try {
      const scrape = async () => (await fetch(`${h.base}/metrics`)).text();
      const endOne = async (code: string) => {
        h.sim.control.setFault("in.php", { error: code });
        const task = h.worker.pool.enqueue("image", IMAGE);
        await advance(h.clock, 1000);
        await eventually(() => task.status === "failed", `failed with ${code}`);
        h.sim.control.clearFaults();
        return task;
      };
      assert.equal((await endOne("ERROR_WRONG_FILE_EXTENSION")).error?.blame, "client");
      await endOne("ERROR_SOMETHING_NEW");
      const text = await scrape();
      assert.equal(value(text, 'captcha_worker_task_failures_total{type="image",code="ERROR_WRONG_FILE_EXTENSION",blame="client"}'), 1);
      assert.equal(value(text, 'captcha_worker_task_failures_total{type="image",code="other",blame="worker"}'), 1);
      assert.equal(value(text, 'captcha_worker_tasks_total{type="image",outcome="failed"}'), 2, "both are failures in tasks_total");
      assert.ok(!text.includes("ERROR_SOMETHING_NEW"), "upstream free text never becomes a label value");
      assert.equal(value(text, "captcha_worker_consecutive_failures"), 1, "only the worker's failure counts toward readiness");
    } finally {
      await h.close();
    }
  });
});
