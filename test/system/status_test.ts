import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { runMain } from "../_support/cli.ts";
import { eventually, withHarness, type Harness } from "../_support/harness.ts";
import { requireProgram } from "../_support/programs.ts";


/** Zero balance upstream, then the background refresh reads it: readiness fails with low_balance. */
async function drainBalance(h: Harness) {
  h.sim.control.setBalance(0);
  await h.clock.advance(59_900);
  await eventually(() => h.worker.view.evaluate().issues.includes("low_balance=$0.00"), "low balance seen");
}

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
      assert.equal(m.rows, undefined, "the formatted rows are the text view's");
      assert.equal(m.figures.balance_usd, 10);
      assert.equal(m.figures.balance_age_s, 0);
      assert.equal(m.figures.queue_depth, 0);
      assert.equal(typeof m.uptime_s, "number");
      assert.equal(m.thresholds.min_balance, 1);
      assert.equal(m.state, "ready");
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

