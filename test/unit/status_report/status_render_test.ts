import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { statusModel } from "../../../src/status_report/status_model.ts";
import { READY_DOC } from "../../_support/ready_doc.ts";
import { renderText } from "../../../src/status_report/status_render.ts";
import { renderHtml } from "../../../src/status_report/status_page.ts";


describe("status render", () => {
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

  test("renderText: a header with the state, a row per rule and a line per check, marked ok, WARN or FAIL", () => {
    const m = statusModel({
      ready: READY_DOC,
      dependencies: { checks: { captchaai_api: { status: "degraded", response_ms: 12, stale: true, error: "boom" }, disk: { status: "down" } } },
      health: { status: "fail", releaseId: "9.9.9" },
    });
    const text = renderText(m, "http://w/", false);
    assert.match(text, /^captcha-worker 9\.9\.9 at http:\/\/w\/: NOT READY \(health fail, up \?\)$/m);
    assert.match(text, /^  why: low_balance=\$0\.42, circuit_open$/m);
    assert.match(text, /^  FAIL  balance /m);
    assert.match(text, /^  WARN  check captchaai_api: degraded \(12ms, stale, boom\)$/m);
    assert.match(text, /^  FAIL  check disk: down$/m);
  });

  test("renderHtml marks each check row by its status and refreshes itself", () => {
    const m = statusModel({ ready: READY_DOC, dependencies: { checks: { a: { status: "ok" }, b: { status: "degraded" }, c: { status: "down" } } }, health: {} });
    const html = renderHtml(m, 7);
    assert.match(html, /<meta http-equiv="refresh" content="7">/);
    assert.match(html, /<tr class="ok"><td class="mark">ok<\/td><td>a<\/td>/);
    assert.match(html, /<tr class="warn"><td class="mark">WARN<\/td><td>b<\/td>/);
    assert.match(html, /<tr class="fail"><td class="mark">FAIL<\/td><td>c<\/td>/);
    assert.match(html, /id="state">NOT READY</);
  });
});
