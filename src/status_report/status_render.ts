/** The status model as a compact table for a terminal (colour only when asked) and as the HTML status page. */
import { checkStatusForms } from "../health/check_status.ts";
import { duration, type Mark, type StatusModel } from "./status_model.ts";

const SYMBOL: Record<Mark, string> = { ok: "ok", warn: "WARN", fail: "FAIL" };
const COLOUR: Record<Mark, string> = { ok: "\x1b[32m", warn: "\x1b[33m", fail: "\x1b[31m" };
const RESET = "\x1b[0m";

export function renderText(m: StatusModel, target: string, colour: boolean): string {
  const paint = (mark: Mark, text: string) => (colour ? COLOUR[mark] + text + RESET : text);
  const state = m.state === "probation" ? paint("warn", "PROBATION") : m.ready ? paint("ok", "READY") : paint("fail", "NOT READY");
  const lines = [`captcha-worker ${m.version} at ${target}: ${state} (health ${m.overall}, up ${duration(m.uptimeS)})`];
  if (m.issues.length > 0) lines.push(`  why: ${m.issues.join(", ")}`);
  if (m.warnings.length > 0) lines.push(`  warnings: ${m.warnings.join(", ")}`);
  const rows = m.rows.map((r) => [r.name, r.value, r.threshold, r.mark] as const);
  const w0 = Math.max(...rows.map((r) => r[0].length));
  const w1 = Math.max(...rows.map((r) => r[1].length));
  const w2 = Math.max(...rows.map((r) => r[2].length));
  lines.push("");
  for (const [name, value, threshold, mark] of rows) {
    lines.push(`  ${paint(mark, SYMBOL[mark].padEnd(4))}  ${name.padEnd(w0)}  ${value.padEnd(w1)}  ${threshold.padEnd(w2)}`.trimEnd());
  }
  lines.push("");
  for (const c of m.checks) {
    const mark = checkStatusForms(c.status).mark;
    const detail = [c.responseMs === undefined ? undefined : `${c.responseMs}ms`, c.stale ? "stale" : undefined, c.checkedAt ? `checked ${c.checkedAt}` : undefined, c.error]
      .filter(Boolean)
      .join(", ");
    lines.push(`  ${paint(mark, SYMBOL[mark].padEnd(4))}  check ${c.name}: ${c.status}${detail ? ` (${detail})` : ""}`);
  }
  return lines.join("\n") + "\n";
}

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** A page that needs no script, no external asset, and refreshes itself every `refreshS` seconds. */
export function renderHtml(m: StatusModel, refreshS = 5): string {
  const state = m.state === "probation" ? "PROBATION" : m.ready ? "READY" : "NOT READY";
  const row = (mark: Mark, cells: string[]) => `<tr class="${mark}"><td class="mark">${SYMBOL[mark]}</td>${cells.map((c) => `<td>${escape(c)}</td>`).join("")}</tr>`;
  const checks = m.checks.map((c) =>
    row(checkStatusForms(c.status).mark, [
      c.name,
      c.status + (c.stale ? " (stale)" : ""),
      c.responseMs === undefined ? "" : `${c.responseMs} ms`,
      c.checkedAt ?? "",
      c.error ?? "",
    ]),
  );
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="${refreshS}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>captcha-worker: ${state}</title>
<style>
body{font:15px/1.4 system-ui,sans-serif;margin:2rem;color:#222}
h1{font-size:1.4rem} .state{padding:.1rem .5rem;border-radius:.3rem;color:#fff}
.state.ok{background:#1a7f37} .state.fail{background:#cf222e}
table{border-collapse:collapse;margin:1rem 0} td,th{padding:.25rem .75rem;border-bottom:1px solid #ddd;text-align:left}
.mark{font-weight:bold} tr.ok .mark{color:#1a7f37} tr.warn .mark{color:#9a6700} tr.fail .mark{color:#cf222e}
footer{color:#666;font-size:.85rem}
</style></head>
<body>
<h1>captcha-worker ${escape(m.version)} <span class="state ${m.ready ? "ok" : "fail"}" id="state">${state}</span></h1>
<p id="why">${m.issues.length ? `Why: ${escape(m.issues.join(", "))}` : "No readiness issues."} Health: ${escape(m.overall)}. Up ${escape(duration(m.uptimeS))}.</p>
<table id="rows"><tr><th></th><th>what</th><th>value</th><th>threshold</th></tr>
${m.rows.map((r) => row(r.mark, [r.name, r.value, r.threshold])).join("\n")}
</table>
<h2>Dependencies</h2>
<table id="checks"><tr><th></th><th>check</th><th>status</th><th>response</th><th>checked at</th><th>error</th></tr>
${checks.join("\n")}
</table>
<footer>Refreshes every ${refreshS} s. Machine-readable: <a href="/health/ready">/health/ready</a>, <a href="/health">/health</a>, <a href="/health/dependencies">/health/dependencies</a>, <a href="/metrics">/metrics</a>.</footer>
</body></html>
`;
}
