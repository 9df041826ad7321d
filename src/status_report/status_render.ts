/** The status model as a compact table for a terminal (colour only when asked); the HTML page is status_page.ts. */
import { checkStatusForms } from "../health/check_status.ts";
import { duration, MARK_SYMBOL, type Mark, type StatusModel } from "./status_model.ts";

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
    lines.push(`  ${paint(mark, MARK_SYMBOL[mark].padEnd(4))}  ${name.padEnd(w0)}  ${value.padEnd(w1)}  ${threshold.padEnd(w2)}`.trimEnd());
  }
  if (m.providers.length > 0) lines.push("");
  for (const p of m.providers) {
    const state = p.state === "down" && p.reason !== undefined ? `down (${p.reason})` : p.state;
    lines.push(`  ${paint(p.mark, MARK_SYMBOL[p.mark].padEnd(4))}  provider ${p.name}: ${state}, ${p.load}`);
  }
  lines.push("");
  for (const c of m.checks) {
    const mark = checkStatusForms(c.status).mark;
    const detail = [c.responseMs === undefined ? undefined : `${c.responseMs}ms`, c.stale ? "stale" : undefined, c.checkedAt ? `checked ${c.checkedAt}` : undefined, c.error]
      .filter(Boolean)
      .join(", ");
    lines.push(`  ${paint(mark, MARK_SYMBOL[mark].padEnd(4))}  check ${c.name}: ${c.status}${detail ? ` (${detail})` : ""}`);
  }
  return lines.join("\n") + "\n";
}
