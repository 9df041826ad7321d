/**
 * The status page with the longest texts it can be given (a check error of a 64-character upstream
 * code, cut issue strings, a long host) lays out at 1200x900 and at 390 px in headless Chromium with
 * nothing wider than the viewport: not the page, and not a table scrolled inside its box either.
 */
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import { formatIssue, type ReadinessIssue } from "../../src/health/readiness_issue.ts";
import { launchChromium } from "../_support/chromium_page.ts";
import { requireProgram } from "../_support/programs.ts";
import { FakeClock } from "../_support/fake_clock.ts";
import { READY_DOC } from "../_support/ready_doc.ts";
import { StatusHistory, MAX_ISSUE_CHARS } from "../../src/status_report/status_history.ts";
import { statusModel } from "../../src/status_report/status_model.ts";
import { renderHtml } from "../../src/status_report/status_page.ts";

test("the status page with its longest texts has nothing wider than the viewport at 1200 and 390 px", async (t) => {
  const chromiumPath = requireProgram(t, "chromium", "chromium");
  if (!chromiumPath) return;
  const code = `ERROR_${"X".repeat(58)}`; // the longest code the classifier keeps (64 characters)
  const longIssue: ReadinessIssue = { kind: "state_dir", reason: "E".repeat(MAX_ISSUE_CHARS) };
  const codeIssue: ReadinessIssue = { kind: "upstream_auth", code };
  const long = formatIssue(longIssue);
  const clock = new FakeClock(Date.UTC(2026, 0, 1, 6, 0, 0));
  const history = new StatusHistory({ clock });
  history.readiness({ state: "not_ready", issues: [longIssue, codeIssue] });
  await clock.advance(90_000);
  const ready = { ...READY_DOC, status: "not_ready" as const, state: "not_ready" as const, issues: [long, `upstream_auth=${code}`] };
  // The longest provider row: a 32-character name, down for the longest code, a per-solve provider's biggest figures.
  const provider = {
    name: "p".repeat(32), check: `${"p".repeat(32)}_api`, state: "down" as const, reason: `upstream_auth=${code}`, billing: "per_solve" as const,
    busy: 1000, limit: 1000, plan: null, spent_today_usd: 999_999.99, daily_budget_usd: 1_000_000, budget_left_usd: 0.01,
  };
  const dependencies = {
    status: "down" as const,
    checks: { captchaai_api: { status: "down" as const, response_ms: null, checked_at: "2026-01-01T06:01:30.000Z", stale: true, error: `getbalance failed: ${code}` } },
    providers: [provider, { ...provider, name: "q".repeat(32), state: "removed" as const, reason: null }],
  };
  const hours = [{ name: provider.name, minutes: 60, solved: 123_456, failed: 123_456, solvedPerMin: 2057.6, failedPerMin: 2057.6, p50S: 599.9, msDown: 3_599_000, msKnown: 3_600_000, limit: { mean: 999.9, min: 1, max: 1000, plan: 1000 } }];
  const html = renderHtml(statusModel({ ready, dependencies, health: {} }, { tasks: history.view().totals, providers: hours }), 5, {
    history: history.view(),
    changes: [{ at: clock.now(), from: "ready", to: "not_ready", issues: [longIssue, codeIssue] }],
    facts: { upstreamHost: `${"a".repeat(63)}.example.com:443`, threads: 5, simulator: false, nodeId: 1023, peers: 12 },
  });
  const server = createServer((_req, res) => void res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(html));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const browser = await launchChromium(chromiumPath);
  try {
    for (const [width, height] of [[1200, 900], [390, 844]] as const) {
      const page = await browser.open(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`, width, height);
      const got = await page.evaluate<{ scrollWidth: number; clientWidth: number; wide: string[] }>(`({
        scrollWidth: document.documentElement.scrollWidth,
        clientWidth: document.documentElement.clientWidth,
        wide: [
          ...[...document.querySelectorAll("body *")]
            .filter((e) => e.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5 || (e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX !== "visible"))
            .map((e) => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + ": " + (e.textContent ?? "").slice(0, 40)),
          // Text that overflows its box leaves the box's own rect alone: measure the text itself.
          ...(() => {
            const out = [];
            const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
            for (let n = walk.nextNode(); n; n = walk.nextNode()) {
              const r = document.createRange();
              r.selectNodeContents(n);
              if (r.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5) out.push("text in " + n.parentElement.tagName.toLowerCase() + ": " + n.textContent.slice(0, 40));
            }
            return out;
          })(),
        ],
      })`);
      await page.close();
      assert.ok(got.scrollWidth <= got.clientWidth, `no horizontal overflow at ${width} px: ${got.scrollWidth} > ${got.clientWidth}: ${got.wide.join(" | ")}`);
      assert.deepEqual(got.wide, [], `nothing reaches past the right edge at ${width} px (a table scrolled in its box included)`);
    }
  } finally {
    await browser.close();
    await new Promise((r) => server.close(r));
  }
});
