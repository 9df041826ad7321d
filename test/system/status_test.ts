import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { statusModel, duration } from "../../src/status_report/status_model.ts";
import { renderHtml, renderText } from "../../src/status_report/status_render.ts";
import { runMain } from "../_support/cli.ts";
import { eventually, withHarness, type Harness } from "../_support/harness.ts";
import { requireProgram } from "../_support/programs.ts";


/** Zero balance upstream, then the background refresh reads it: readiness fails with low_balance. */
async function drainBalance(h: Harness) {
  h.sim.control.setBalance(0);
  await h.clock.advance(59_900);
  await eventually(() => h.worker.view.evaluate().issues.includes("low_balance=$0.00"), "low balance seen");
}

const READY_DOC = {
  status: "not_ready",
  issues: ["low_balance=$0.42", "circuit_open"],
  stats: { solved: 90, failed: 10, success_rate: 0.9, error_rate: 0.1, balance: 0.42, balance_age_s: 75, queue_depth: 3, in_flight: 2, window_s: 300, window_outcomes: 40, window_failed: 4 },
  thresholds: { max_consecutive_failures: 10, max_seconds_without_solve: 600, min_balance: 1, max_error_rate: 0.5, queue_max: 1000 },
};

describe("status model", () => {
  test("marks come from the worker's own issues; thresholds are shown beside the values", () => {
    const m = statusModel({ ready: READY_DOC, dependencies: { checks: { captchaai_api: { status: "degraded", response_ms: 12, stale: true, error: "boom" } } }, health: { status: "fail", releaseId: "9.9.9" } });
    assert.equal(m.ready, false);
    assert.equal(m.version, "9.9.9");
    const row = (name: string) => m.rows.find((r) => r.name.startsWith(name))!;
    assert.deepEqual(row("balance"), { name: "balance", value: "$0.42 (1m15s old)", threshold: ">= $1.00", mark: "fail" });
    assert.equal(row("error rate").mark, "ok");
    assert.equal(row("error rate").value, "10% of 40 (4 failed)");
    assert.equal(row("error rate").name, "error rate (5m)");
    assert.equal(row("upstream").value, "circuit_open");
    assert.equal(row("upstream").mark, "fail");
    assert.equal(row("queue").mark, "ok");
    assert.deepEqual(m.checks, [{ name: "captchaai_api", status: "degraded", responseMs: 12, checkedAt: undefined, stale: true, error: "boom" }]);
  });

  test("a balance under three times the minimum is a warning before it is a failure", () => {
    const m = statusModel({ ready: { ...READY_DOC, issues: [], stats: { ...READY_DOC.stats, balance: 2.5 } }, dependencies: {}, health: {} });
    assert.equal(m.rows.find((r) => r.name === "balance")!.mark, "warn");
  });

  test("documents of the wrong shape give question marks, never a throw", () => {
    for (const junk of [null, 42, "x", [], { stats: "no", thresholds: [1] }]) {
      const m = statusModel({ ready: junk, dependencies: junk, health: junk });
      assert.equal(m.ready, false);
      assert.ok(renderText(m, "http://x/", false).includes("NOT READY"));
      assert.ok(renderHtml(m).includes("NOT READY"));
    }
  });

  test("durations read like people write them", () => {
    assert.deepEqual([0, 3, 75, 600, 3600, 3725].map(duration), ["0s", "3s", "1m15s", "10m", "1h", "1h2m5s"]);
  });

  test("the page escapes everything it quotes", () => {
    const m = statusModel({ ready: READY_DOC, dependencies: { checks: { "a<b": { status: "down", error: `<script>alert("x")</script>` } } }, health: {} });
    const html = renderHtml(m);
    assert.ok(!html.includes("<script>"));
    assert.ok(html.includes("&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62;"));
    assert.ok(html.includes("a&#60;b"));
  });

  test("colour only when asked", () => {
    const m = statusModel({ ready: READY_DOC, dependencies: {}, health: {} });
    assert.ok(renderText(m, "u", true).includes("\x1b[31m"));
    assert.ok(!renderText(m, "u", false).includes("\x1b["));
  });
});

describe("captcha-worker status", () => {
  test("reads a live worker: exit 0 and the table when ready, 1 with the reason when not", () =>
    withHarness(async (h) => {
      const ok = await runMain(["status", "--url", h.base]);
      assert.equal(ok.code, 0, ok.stderr);
      assert.match(ok.stdout, /: READY \(health pass, up /);
      assert.match(ok.stdout, /ok\s+balance\s+\$10\.00 \(0s old\)\s+>= \$1\.00/);
      assert.match(ok.stdout, /ok\s+check captchaai_api: ok/);
      await drainBalance(h);
      const bad = await runMain(["status", "--url", h.base]);
      assert.equal(bad.code, 1);
      assert.match(bad.stdout, /NOT READY/);
      assert.match(bad.stdout, /why: low_balance=\$0\.00/);
      assert.match(bad.stdout, /FAIL\s+balance\s+\$0\.00/);
    }));

  test("--json gives the model for scripts", () =>
    withHarness(async (h) => {
      const r = await runMain(["status", "--url", h.base, "--json"]);
      assert.equal(r.code, 0);
      const m = JSON.parse(r.stdout);
      assert.equal(m.ready, true);
      assert.equal(m.url, h.base + "/");
      assert.equal(m.rows.find((x: { name: string }) => x.name === "balance").value, "$10.00 (0s old)");
    }));

  test("an unreachable worker is exit 2, naming the address", async () => {
    const r = await runMain(["status", "--url", "http://127.0.0.1:9/", "--timeout", "500ms"]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /http:\/\/127\.0\.0\.1:9\/ unreachable: ECONNREFUSED/);
  });

  test("a bad --timeout is exit 78 naming the flag", async () => {
    const r = await runMain(["status", "--timeout", "forever"]);
    assert.equal(r.code, 78);
    assert.match(r.stderr, /--timeout/);
  });
});

describe("status page", () => {
  test("GET / is a self-refreshing HTML page with the state and the thresholds; HEAD too", () =>
    withHarness(async (h) => {
      const res = await fetch(h.base + "/");
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("content-type"), "text/html; charset=utf-8");
      assert.equal(res.headers.get("cache-control"), "no-store");
      const html = await res.text();
      assert.match(html, /<meta http-equiv="refresh" content="5">/);
      assert.match(html, /id="state">READY</);
      assert.match(html, /<td>balance<\/td><td>\$10\.00 \(0s old\)<\/td><td>&#62;= \$1\.00<\/td>/);
      assert.ok(!/<script|src=|href="http/.test(html), "no scripts, no external assets");
      const head = await fetch(h.base + "/", { method: "HEAD" });
      assert.equal(head.status, 200);
      assert.equal(await head.text(), "");
      await drainBalance(h);
      assert.match(await (await fetch(h.base + "/")).text(), /id="state">NOT READY<[\s\S]*Why: low_balance=\$0\.00/);
    }));

  test("renders in a real headless Chromium: the DOM shows readiness and balance, and a screenshot is taken", (t) => {
    const chromium = requireProgram(t, "chromium", "chromium");
    if (!chromium) return;
    return withHarness(async (h) => {
      await drainBalance(h);
      const dir = mkdtempSync(join(tmpdir(), "cw-chromium-"));
      try {
        const flags = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", `--user-data-dir=${join(dir, "profile")}`];
        // Chromium must not block this process's event loop: the worker answering it lives here.
        const run = (extra: string[]) =>
          new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
            import("node:child_process").then(({ execFile }) =>
              execFile(chromium, [...flags, ...extra, h.base + "/"], { timeout: 60_000, maxBuffer: 8 << 20 }, (err, stdout, stderr) =>
                resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
              ),
            );
          });
        const dom = await run(["--dump-dom"]);
        assert.equal(dom.code, 0, dom.stderr.slice(-2000));
        assert.match(dom.stdout, /<span class="state fail" id="state">NOT READY<\/span>/);
        assert.match(dom.stdout, /Why: low_balance=\$0\.00/);
        assert.match(dom.stdout, /<td>balance<\/td><td>\$0\.00 \(0s old\)<\/td><td>&gt;= \$1\.00<\/td>/);
        const shot = join(dir, "status.png");
        const s = await run([`--screenshot=${shot}`, "--window-size=1000,800"]);
        assert.equal(s.code, 0, s.stderr.slice(-2000));
        const png = readFileSync(shot);
        assert.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47], "a PNG");
        assert.equal(png.readUInt32BE(16), 1000, "as wide as the window");
        assert.ok(png.length > 10_000, `a page was drawn (${png.length} bytes)`);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});

