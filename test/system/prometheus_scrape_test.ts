/** A real Prometheus (Debian package prometheus) scrapes a running worker every second; the series come back through its query API. */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { advance, eventually, startHarness } from "../_support/harness.ts";
import { freePort, pollUntil } from "../_support/net.ts";
import { requireProgram } from "../_support/programs.ts";
import { pngOfSize } from "../_support/images.ts";

/** Prometheus runs on the wall clock, not the harness's fake one, and scrapes once a second. */
const PROMETHEUS_PACE = { timeoutMs: 30_000, intervalMs: 200 };

test("Prometheus scrapes the worker and answers captcha_worker_ready and captcha_worker_tasks_total", async (t) => {
  const prometheus = requireProgram(t, "prometheus", "prometheus");
  if (!prometheus) return;
  const h = await startHarness();
  const dir = mkdtempSync(join(tmpdir(), "cw-prom-"));
  const port = await freePort();
  writeFileSync(
    join(dir, "prometheus.yml"),
    `global: { scrape_interval: 1s, evaluation_interval: 1s }\nscrape_configs:\n  - job_name: captcha-worker\n    static_configs: [{ targets: ["127.0.0.1:${new URL(h.base).port}"] }]\n`,
  );
  const server = spawn(prometheus, [`--config.file=${join(dir, "prometheus.yml")}`, `--storage.tsdb.path=${join(dir, "data")}`, `--web.listen-address=127.0.0.1:${port}`], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let log = "";
  server.stderr!.on("data", (c) => (log = (log + c).slice(-4000)));
  const query = async (q: string) => {
    const res = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(q)}`);
    const body = (await res.json()) as { status: string; data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
    return body.status === "success" && body.data.result.length > 0 ? body.data.result : undefined;
  };
  try {
    // A solved task first, so the counter has something to say.
    const res = await fetch(h.base + "/v1/tasks", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ type: "image", image: pngOfSize(150, 1).toString("base64") }) });
    const { id } = (await res.json()) as { id: string };
    await advance(h.clock, 5000);
    await eventually(() => h.worker.pool.find(id)?.status === "solved", "solved");

    const up = await pollUntil("the target up", () => query('up{job="captcha-worker"} == 1'), PROMETHEUS_PACE);
    assert.equal(up[0]!.value[1], "1");
    const ready = await pollUntil("captcha_worker_ready", () => query("captcha_worker_ready"), PROMETHEUS_PACE);
    assert.equal(ready[0]!.value[1], "1");
    assert.equal(ready[0]!.metric.job, "captcha-worker");
    const solved = await pollUntil("a solved image task", () => query('captcha_worker_tasks_total{type="image",outcome="solved"} == 1'), PROMETHEUS_PACE);
    assert.equal(solved[0]!.value[1], "1");
    const threshold = await query('captcha_worker_threshold{name="min_balance"}');
    assert.equal(threshold?.[0]!.value[1], "1");

    // Readiness falls, and Prometheus sees it fall.
    h.sim.control.setBalance(0);
    await h.clock.advance(59_900);
    await eventually(() => !h.worker.view.evaluate().ready, "not ready");
    await pollUntil("captcha_worker_ready 0", () => query("captcha_worker_ready == 0"), PROMETHEUS_PACE);
    const balance = await pollUntil("balance 0", () => query("captcha_worker_balance_usd == 0"), PROMETHEUS_PACE);
    assert.equal(balance[0]!.value[1], "0");
  } catch (err) {
    throw new Error(`${(err as Error).message}\nprometheus log tail:\n${log}`);
  } finally {
    if (server.exitCode === null && server.signalCode === null) {
      const exited = new Promise((r) => server.once("exit", r));
      server.kill("SIGTERM");
      await exited;
    }
    await h.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
