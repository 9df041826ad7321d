import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { formatIssue } from "../../src/health/readiness_issue.ts";
import { runMain, waitForStart } from "../_support/cli.ts";
import { launchChromium } from "../_support/chromium_page.ts";
import { advance, eventually, withHarness, type Harness } from "../_support/harness.ts";
import { pollUntil } from "../_support/net.ts";
import { requireProgram } from "../_support/programs.ts";
import { kill9, spawnWorker } from "../_support/worker_child.ts";
import { pngOfSize } from "../_support/images.ts";

const IMAGE = { type: "image" as const, image: pngOfSize(150, 2).toString("base64") };

/** The sum of a counter's series whose labels match `labels`. */
function counterSum(metrics: string, name: string, labels: RegExp): number {
  return metrics.split("\n").filter((l) => l.startsWith(name + "{") && labels.test(l)).reduce((n, l) => n + Number(l.split(" ").at(-1)), 0);
}


/** Zero balance upstream, then the background refresh reads it: readiness fails with low_balance. */
async function drainBalance(h: Harness) {
  h.sim.control.setBalance(0);
  await h.clock.advance(59_900);
  await eventually(() => h.worker.view.evaluate().issues.map(formatIssue).includes("low_balance=$0.00"), "low balance seen");
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
      // The checks in the same spelling as the rest and as /health/dependencies: snake case.
      const [check] = m.checks;
      assert.deepEqual(Object.keys(check).sort(), ["checked_at", "name", "response_ms", "stale", "status"]);
      assert.equal(check.name, "captchaai_api");
      assert.equal(typeof check.response_ms, "number");
    }));

  test("an unreachable worker is exit 2, naming the address", async () => {
    const r = await runMain(["status", "--url", "http://127.0.0.1:9/", "--timeout", "500ms"]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /http:\/\/127\.0\.0\.1:9\/ unreachable: ECONNREFUSED/);
  });

  test("a server that is not a worker is exit 2 (JSON without a readiness status, or not JSON), never a table of question marks", async () => {
    const { createServer } = await import("node:http");
    let body = "";
    const server = createServer((_req, res) => void res.writeHead(200, { "content-type": "application/json" }).end(body));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
    try {
      for (const answer of ['{"status":"UP"}', "null", "[]", "{}", '"ready"', "<html>hi</html>"]) {
        body = answer;
        for (const json of [[], ["--json"]]) {
          const r = await runMain(["status", "--url", url, ...json]);
          assert.equal(r.code, 2, `${answer} ${json}: ${r.stdout}${r.stderr}`);
          assert.equal(r.stdout, "");
          assert.match(r.stderr, /\/health\/ready answered 200 .*; is this a captcha-worker\?/);
        }
      }
      body = '{"status":"ready"}'; // an older worker's bare document is still a worker
      assert.equal((await runMain(["status", "--url", url])).code, 0);
    } finally {
      await new Promise((r) => server.close(r));
    }
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
      assert.match(await (await fetch(h.base + "/")).text(), /id="state">NOT READY<[\s\S]*<h2>Why not ready<\/h2><ul><li><code>low_balance=\$0\.00<\/code>/);
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
        assert.match(dom.stdout, /<li><code>low_balance=\$0\.00<\/code>/);
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

  test("the tasks row counts the failures /metrics counts (client errors too), says how many were the worker's, and shows no rate before a task", () =>
    withHarness(async (h) => {
      const first = await (await fetch(h.base + "/")).text();
      assert.match(first, /<td>tasks since start<\/td><td>none yet<\/td>/);
      assert.equal(first.match(/100% (success|solved)/), null);
      h.sim.control.setFault("in.php", { error: "ERROR_BAD_PARAMETERS" }); // the client's input: not the worker's fault
      const bad = [1, 2, 3].map(() => h.worker.pool.enqueue("image", IMAGE));
      await eventually(() => bad.every((t) => t.status === "failed"), "the bad tasks failed");
      h.sim.control.clearFaults();
      const good = h.worker.pool.enqueue("image", IMAGE);
      await advance(h.clock, 5000);
      await eventually(() => good.status === "solved", "solved");
      const metrics = await (await fetch(h.base + "/metrics")).text();
      assert.equal(counterSum(metrics, "captcha_worker_tasks_total", /outcome="(?!solved)/), 3);
      const ready = (await (await fetch(h.base + "/health/ready")).json()) as { stats: { failed: number } };
      assert.equal(ready.stats.failed, 0, "readiness counts only failures charged to the worker: why the old row said 0");
      const page = await (await fetch(h.base + "/")).text();
      assert.match(page, /<td>tasks since start<\/td><td>1 solved, 3 failed \(0 charged to the worker\), 25% solved<\/td>/);
      assert.match(page, /<title>\d\d:\d\d UTC: 1 solved, 3 failed<\/title>/, "the minute's bars");
    }));

  test("on a fake clock, a fault and its recovery show on the page: a not-ready stretch with its reason, the changes, the facts", () =>
    withHarness(async (h) => {
      await drainBalance(h);
      await advance(h.clock, 2 * 60_000, 5000);
      h.sim.control.setBalance(10);
      await h.worker.checks.refresh("captchaai_api");
      await eventually(() => h.worker.notifier.last.state === "ready", "ready again");
      await advance(h.clock, 60_000, 5000);
      const page = await (await fetch(h.base + "/")).text();
      assert.match(page, /<g class="stretch not_ready"><title>[^<]*not ready for 2m\d*s?: low_balance=\$0\.00<\/title>/);
      assert.match(page, /<ol id="stretches"><li class="not_ready">[^<]*not ready \(2m\d*s? outside ready\): low_balance=\$0\.00<\/li>/);
      assert.match(page, /<ol id="changes"><li><time [^>]*>[^<]*<\/time> not_ready → <b>ready<\/b><\/li><li><time [^>]*>[^<]*<\/time> ready → <b>not_ready<\/b>: <code>low_balance=\$0\.00<\/code><\/li>/);
      assert.match(page, new RegExp(`<dt>upstream</dt> <dd>${h.sim.url.host.replaceAll(".", "\\.")}</dd>`));
      assert.match(page, /<dt>simulator<\/dt> <dd>no<\/dd>[\s\S]*<dt>threads<\/dt> <dd>5<\/dd>/);
      assert.match(page, /<circle class="balance" [^>]*><title>\d\d:\d\d UTC: balance \$0\.00<\/title>/);
      assert.ok(!page.includes("harness-key"), "never the key");
    }));

  test("a real worker on the built-in simulator: a fault on the simulator becomes a stretch with its reason; readable in Chromium at 1200x900 and at 390 px", async (t) => {
    const chromiumPath = requireProgram(t, "chromium", "chromium");
    if (!chromiumPath) return;
    const w = spawnWorker(["run", "--demo", "--listen", "127.0.0.1:0", "--balance-ttl", "1s", "--threads", "3"], {});
    const started = waitForStart(w.child); // listening from the spawn: the start line may come while Chromium starts
    started.catch(() => undefined); // awaited below; not unhandled if Chromium fails first
    let stdout = "";
    w.child.stdout!.on("data", (c: Buffer) => (stdout += c));
    const browser = await launchChromium(chromiumPath);
    const shots = mkdtempSync(join(tmpdir(), "cw-status-shots-"));
    try {
      const base = `http://${(await started).listen}`;
      const sim = await pollUntil("the banner's simulator URL", () => /(http:\/\/127\.0\.0\.1:\d+\/)__sim\//.exec(stdout)?.[1], { timeoutMs: 20_000, intervalMs: 25 });
      const post = (path: string, body: unknown) => fetch(sim + path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
      const metrics = async () => (await fetch(base + "/metrics")).text();
      await pollUntil("ready", async () => (await fetch(base + "/health/ready")).status === 200, { timeoutMs: 20_000, intervalMs: 25 });
      await pollUntil("a demo task solved", async () => counterSum(await metrics(), "captcha_worker_tasks_total", /outcome="solved"/) >= 1, { timeoutMs: 30_000, intervalMs: 100 });
      // A client-input failure (counted by /metrics, not charged to the worker), then a real fault: money runs low.
      assert.equal((await post("__sim/faults", { endpoint: "in.php", error: "ERROR_BAD_PARAMETERS" })).status, 200);
      await pollUntil("a failed task", async () => counterSum(await metrics(), "captcha_worker_tasks_total", /outcome="failed"/) >= 1, { timeoutMs: 30_000, intervalMs: 100 });
      await fetch(sim + "__sim/faults", { method: "DELETE" });
      assert.equal((await post("__sim/balance", { balance: 0.49 })).status, 200);
      await pollUntil("not ready for low balance", async () => {
        const r = await fetch(base + "/health/ready");
        return r.status === 503 && ((await r.json()) as { issues: string[] }).issues.includes("low_balance=$0.49");
      }, { timeoutMs: 30_000, intervalMs: 100 });
      await post("__sim/balance", { balance: 10 });
      await pollUntil("ready again", async () => (await fetch(base + "/health/ready")).status === 200, { timeoutMs: 30_000, intervalMs: 100 });

      const simHost = new URL(sim).host;
      for (const [width, height] of [[1200, 900], [390, 844]] as const) {
        const page = await browser.open(base + "/", width, height);
        const got = await page.evaluate<{ html: string; scrollWidth: number; clientWidth: number; svgs: { id: string; width: number }[] }>(`({
          html: document.documentElement.outerHTML,
          scrollWidth: document.documentElement.scrollWidth,
          clientWidth: document.documentElement.clientWidth,
          svgs: [...document.querySelectorAll("svg.chart")].map((s) => ({ id: s.id, width: s.getBoundingClientRect().width })),
        })`);
        const png = await page.screenshot();
        writeFileSync(join(shots, `status-${width}.png`), png);
        writeFileSync(join(shots, `status-${width}-full.png`), await page.screenshot(true)); // the whole page, to look at
        await page.close();
        t.diagnostic(`screenshot ${join(shots, `status-${width}.png`)}`);
        assert.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47], "a PNG");
        assert.equal(png.readUInt32BE(16), width, "as wide as the viewport");
        assert.ok(got.scrollWidth <= got.clientWidth, `no horizontal overflow at ${width} px: ${got.scrollWidth} > ${got.clientWidth}`);
        assert.deepEqual(got.svgs.map((s) => s.id), ["timeline", "tasks-chart", "balance-chart", "load-chart"]);
        for (const s of got.svgs) assert.ok(s.width > 250 && s.width <= got.clientWidth, `${s.id} scales to the page: ${s.width} px at ${width}`);
        const html = got.html;
        assert.match(html, /<g class="stretch not_ready"><title>[^<]*not ready for [^:]*: [^<]*low_balance=\$0\.49[^<]*<\/title>/);
        assert.match(html, /<ol id="stretches">[\s\S]*?<li class="not_ready">[^<]*low_balance=\$0\.49<\/li>/);
        assert.doesNotMatch(html, /<ol[^>]* reversed/, "both lists count from 1, newest first");
        // In proportion: a spell of seconds is a sliver beside the green of the minutes it fell in, never the whole of them.
        const band = (state: string) => [...html.matchAll(new RegExp(`<g class="stretch ${state}"><title>[^<]*</title><rect x="[\\d.]+" y="8" width="([\\d.]+)"`, "g"))].reduce((n, m) => n + Number(m[1]), 0);
        assert.ok(band("ready") > 2 * band("not_ready"), `green ${band("ready")} against red ${band("not_ready")}`);
        assert.match(html, /<svg id="tasks-chart"[\s\S]*<rect class="solved"[\s\S]*<\/svg>/);
        assert.match(html, /<svg id="tasks-chart"[\s\S]*<rect class="failed"[\s\S]*<\/svg>/);
        assert.match(html, /ready → <b>not_ready<\/b>: <code>low_balance=\$0\.49<\/code>/);
        assert.match(html, /not_ready → <b>ready<\/b>/);
        assert.match(html, new RegExp(`<dt>upstream</dt> <dd>${simHost.replaceAll(".", "\\.")}</dd>`));
        assert.match(html, /<dt>simulator<\/dt> <dd>yes \(built-in, --demo\)<\/dd>/);
        assert.match(html, /<dt>threads<\/dt> <dd>3<\/dd>/);
        assert.match(html, /<td>tasks since start<\/td><td>\d+ solved, [1-9]\d* failed \(0 charged to the worker\)/);
        assert.ok(!/<script/.test(html), "the page has no script");
      }
    } finally {
      await browser.close();
      await kill9(w);
      if (process.env.CW_KEEP_SCREENSHOTS) t.diagnostic(`kept ${shots}`);
      else rmSync(shots, { recursive: true, force: true });
    }
  });
});
