/**
 * The monitoring files: deploy/prometheus (alerting rules, their promtool unit tests, an example
 * scrape config) and deploy/grafana (the dashboard). promtool checks what it can; the rest is read
 * as text (no YAML parser: no dependencies). Metric names, label names and label values are checked
 * against what the built executable actually exposes on /metrics (live_scrape.ts), not against a
 * list kept here. Each alert's runbook_url must be a row of docs/troubleshooting.md.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { builtBinaryAvailable } from "../../_support/cli.ts";
import { requireOrSkip, requireProgram } from "../../_support/programs.ts";
import { BUILD_HINT, liveScrape, metricNames, unsupported } from "./live_scrape.ts";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const ALERTS = "deploy/prometheus/alerts.yml";
/** The page every alert's runbook_url points into, relative to the repository. */
const TROUBLESHOOTING = "docs/troubleshooting.md";
const ALERTS_TEST = "deploy/prometheus/alerts_test.yml";
const CONFIG = "deploy/prometheus/prometheus.yml";
const DASHBOARD = "deploy/grafana/captcha-worker.json";
/** The alerts the rules file must define (and the unit tests must cover). */
const ALERT_NAMES = [
  "CaptchaWorkerNotReady", "CaptchaWorkerBalanceLow", "CaptchaWorkerBalanceWarning", "CaptchaWorkerNoSolve",
  "CaptchaWorkerErrorRateHigh", "CaptchaWorkerCircuitOpen", "CaptchaWorkerDown",
  "CaptchaWorkerReadinessFlapping", "CaptchaWorkerProbationFailing", "CaptchaWorkerQueueWait", "CaptchaWorkerBacklog",
  "CaptchaWorkerSaturated", "CaptchaWorkerPeerForwardingFailing", "CaptchaWorkerCallbacksFailing", "CaptchaWorkerSecondInstanceRefused",
  "CaptchaWorkerProviderDown", "CaptchaWorkerProviderBudgetLow", "CaptchaWorkerAllOnFallback",
];

function read(rel: string): string {
  return readFileSync(join(ROOT, rel), "utf8");
}

function indentOf(line: string): number {
  return line.length - line.trimStart().length;
}

/** Whole-line YAML comments and blank lines out, so commented-out examples do not count. */
function uncommented(text: string): string {
  return text
    .split("\n")
    .filter((l) => l.trim() !== "" && !l.trim().startsWith("#"))
    .join("\n");
}

/**
 * The list items starting with `- <key>:` (e.g. `- alert:`), each as its lines: the item runs while
 * lines are indented deeper than its dash.
 */
function listItems(text: string, key: string): string[][] {
  const lines = uncommented(text).split("\n");
  const items: string[][] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (!new RegExp(`^\\s*- ${key}:`).test(line)) continue;
    const dash = indentOf(line);
    const item = [line];
    for (let j = i + 1; j < lines.length && indentOf(lines[j]!) > dash; j++) item.push(lines[j]!);
    items.push(item);
  }
  return items;
}

/**
 * The scalar value of `key:` inside an item's lines: plain or quoted on the line, or a block
 * scalar (`>-`, `|`, ...) on the deeper-indented lines below it, joined with spaces.
 */
function scalar(item: string[], key: string): string | undefined {
  const i = item.findIndex((l) => new RegExp(`^\\s*(- )?${key}:`).test(l));
  if (i < 0) return undefined;
  const line = item[i]!;
  const value = line.slice(line.indexOf(`${key}:`) + key.length + 1).trim();
  if (!/^[>|][+-]?$/.test(value)) return value.replace(/^(["'])(.*)\1$/, "$2");
  const block: string[] = [];
  for (let j = i + 1; j < item.length && indentOf(item[j]!) > indentOf(line); j++) block.push(item[j]!.trim());
  return block.join(" ");
}

/** Runs promtool from the repository root (so relative paths resolve as documented). */
function promtool(path: string, ...args: string[]): { status: number | null; out: string } {
  const r = spawnSync(path, args, { cwd: ROOT, encoding: "utf8" });
  if (r.error) throw r.error;
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

/** Fails with every name or label in `exprs` the built worker's live scrape does not have. */
async function assertScraped(where: string, exprs: { expr: string; legend?: string; what?: string }[]): Promise<void> {
  const scrape = await liveScrape();
  const problems = exprs.flatMap((e) => unsupported(e.expr, scrape, e.legend).map((p) => `${e.what ?? e.expr}: ${p}`));
  assert.deepEqual(problems, [], `${where} uses names or labels the worker does not expose`);
}

describe("deploy/prometheus", () => {
  test("promtool check rules: the alerting rules are valid, one per expected alert", (t) => {
    const path = requireProgram(t, "promtool", "prometheus");
    if (!path) return;
    const r = promtool(path, "check", "rules", "--lint=all", ALERTS);
    assert.equal(r.status, 0, r.out);
    assert.match(r.out, new RegExp(`SUCCESS: ${ALERT_NAMES.length} rules found`), r.out);
    assert.doesNotMatch(r.out, /WARNING|duplicate/i, r.out);
  });

  test("promtool test rules: the alerts fire and stay quiet as alerts_test.yml expects", (t) => {
    const path = requireProgram(t, "promtool", "prometheus");
    if (!path) return;
    const r = promtool(path, "test", "rules", ALERTS_TEST);
    assert.equal(r.status, 0, r.out);
    assert.match(r.out, /SUCCESS/, r.out);
  });

  test("promtool check config: the example scrape config and the rule files it loads are valid", (t) => {
    const path = requireProgram(t, "promtool", "prometheus");
    if (!path) return;
    const r = promtool(path, "check", "config", CONFIG);
    assert.equal(r.status, 0, r.out);
    assert.match(r.out, /SUCCESS: 1 rule files found/, r.out);
    assert.match(r.out, new RegExp(`SUCCESS: ${ALERT_NAMES.length} rules found`), r.out);

    const config = uncommented(read(CONFIG));
    assert.match(config, /^\s+scrape_interval: 15s$/m);
    assert.match(config, /^\s+- job_name: captcha-worker$/m);
    assert.match(config, /^\s+metrics_path: \/metrics$/m);
    // The same workers as HAProxy's pool (both backends list the same servers): none unwatched.
    const targets = [...config.matchAll(/^\s+- (\S+:\d+)$/gm)].map((m) => m[1]);
    const servers = [...uncommented(read("deploy/haproxy/haproxy.cfg")).matchAll(/^backend captcha_workers\n((?:[ \t].*\n?)*)/gm)]
      .flatMap((b) => [...b[1]!.matchAll(/^\s*server \S+ (\S+)/gm)].map((m) => m[1]));
    assert.equal(servers.length, 3);
    assert.deepEqual(targets, servers, "prometheus.yml scrapes every server haproxy.cfg sends work to");
    // The Kubernetes example is there, commented out.
    assert.match(read(CONFIG), /^\s*#\s+kubernetes_sd_configs:/m);
    assert.match(read(CONFIG), /__meta_kubernetes_pod_label_app_kubernetes_io_name\]\n\s*#\s+regex: captcha-worker/);
  });

  test("every alert has a severity label and summary and description annotations", () => {
    const alerts = listItems(read(ALERTS), "alert");
    assert.deepEqual(alerts.map((a) => scalar(a, "alert")), ALERT_NAMES);
    for (const a of alerts) {
      const name = scalar(a, "alert");
      assert.ok(scalar(a, "expr"), `${name}: expr`);
      assert.match(scalar(a, "for") ?? "", /^\d+m$/, `${name}: for`);
      assert.match(scalar(a, "severity") ?? "", /^(critical|warning|page)$/, `${name}: severity label`);
      assert.ok((scalar(a, "summary") ?? "").length > 20, `${name}: summary annotation`);
      assert.ok((scalar(a, "description") ?? "").length > 40, `${name}: description annotation`);
    }
  });

  test("alerts_test.yml covers every alert both firing and quiet", () => {
    const cases = listItems(read(ALERTS_TEST), "eval_time").map((c) => ({
      alertname: scalar(c, "alertname"),
      quiet: c.some((l) => /^\s*exp_alerts: \[\]$/.test(l)),
      fires: c.some((l) => /^\s*exp_alerts:$/.test(l)) && c.some((l) => /^\s*- exp_labels:$/.test(l)),
    }));
    assert.ok(cases.length >= 2 * ALERT_NAMES.length, `${cases.length} cases`);
    for (const c of cases) assert.ok(c.quiet !== c.fires, `${c.alertname}: a case expects either no alert or some`);
    for (const name of listItems(read(ALERTS), "alert").map((a) => scalar(a, "alert"))) {
      assert.ok(cases.some((c) => c.alertname === name && c.fires), `${name}: no case where it fires`);
      assert.ok(cases.some((c) => c.alertname === name && c.quiet), `${name}: no case with exp_alerts: []`);
    }
  });

  test("the scrape check catches a misspelt label, an unknown value and a grouping label no metric has", async (t) => {
    if (!requireOrSkip(t, builtBinaryAvailable(), BUILD_HINT)) return;
    const scrape = await liveScrape();
    assert.deepEqual(unsupported('sum by (type, outcome) (rate(captcha_worker_tasks_total{outcome="failed"}[5m]))', scrape), []);
    assert.equal(unsupported('captcha_worker_tasks_total{blame="worker"}', scrape).length, 1);
    assert.equal(unsupported('captcha_worker_callbacks_total{outcome=~"failed|lost"}', scrape).length, 1);
    assert.equal(unsupported("sum by (peer) (captcha_worker_peer_requests_total)", scrape).length, 1);
    assert.equal(unsupported("captcha_worker_queue_depth", scrape, "{{node}}").length, 1);
    assert.equal(unsupported("captcha_worker_no_such_total", scrape).length, 1);
  });

  test("every alert links its row of docs/troubleshooting.md (runbook_url docs/troubleshooting.md#ts-..., an id the page has) and its summary names it", () => {
    const page = readFileSync(join(ROOT, TROUBLESHOOTING), "utf8");
    const missing: string[] = [];
    for (const a of listItems(read(ALERTS), "alert")) {
      const name = scalar(a, "alert");
      const url = scalar(a, "runbook_url") ?? "";
      assert.ok((scalar(a, "summary") ?? "").includes(url), `${name}: the summary names ${url}`);
      // Not ready has no row of its own: it links the table, whose rows are the issues /health/ready lists.
      if (name === "CaptchaWorkerNotReady") {
        assert.equal(url, TROUBLESHOOTING);
        continue;
      }
      const anchor = url.startsWith(`${TROUBLESHOOTING}#`) ? url.slice(TROUBLESHOOTING.length + 1) : undefined;
      assert.ok(anchor, `${name}: runbook_url "${TROUBLESHOOTING}#<anchor>", got "${url}"`);
      assert.match(anchor, /^ts-[a-z_]+$/, `${name}: a Troubleshooting row's anchor`);
      if (!page.includes(`id="${anchor}"`)) missing.push(`${name}: id="${anchor}"`);
    }
    assert.deepEqual(missing, [], "runbook anchors docs/troubleshooting.md does not have");
  });

  test("alerts (exprs and summary queries) and their unit tests' series use only names, labels and label values the built worker exposes", async (t) => {
    if (!requireOrSkip(t, builtBinaryAvailable(), BUILD_HINT)) return;
    const alerts = listItems(read(ALERTS), "alert");
    const exprNames = alerts.flatMap((a) => metricNames(scalar(a, "expr") ?? ""));
    for (const a of alerts) {
      const expr = scalar(a, "expr") ?? "";
      assert.ok(metricNames(expr).length > 0 || /^up\{/.test(expr), `${scalar(a, "alert")}: no metric found in ${expr}`);
    }
    assert.ok(exprNames.includes("captcha_worker_threshold"), "the thresholds come from the worker");
    const exprs = alerts.map((a) => ({ what: scalar(a, "alert"), expr: scalar(a, "expr") ?? "" }));
    // The annotations' `query` templates: printf "captcha_worker_threshold{name=\"min_balance\",...}".
    const queries = [...uncommented(read(ALERTS)).matchAll(/printf "((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]!.replaceAll('\\"', '"'));
    assert.ok(queries.length >= 4, `${queries.length} summary queries`);
    await assertScraped(ALERTS, [...exprs, ...queries.filter((q) => metricNames(q).length > 0).map((expr) => ({ expr, what: "query" }))]);
    // A unit test on a misspelt series or label would pass its quiet cases for the wrong reason.
    const series = [...uncommented(read(ALERTS_TEST)).matchAll(/series: '([a-z_]+\{[^']*\})'/g)].map((m) => m[1]!);
    assert.ok(series.length > 0);
    await assertScraped(ALERTS_TEST, series.filter((n) => !n.startsWith("up{")).map((expr) => ({ expr })));
  });
});

interface Target {
  expr?: string;
  refId?: string;
  legendFormat?: string;
}
interface Panel {
  id?: number;
  type?: string;
  title?: string;
  gridPos?: { h: number; w: number; x: number; y: number };
  targets?: Target[];
  panels?: Panel[];
}

describe("deploy/grafana", () => {
  const dashboard = JSON.parse(read(DASHBOARD)) as {
    __inputs: { name: string; pluginId: string }[];
    schemaVersion: number;
    templating: { list: { name: string; query: unknown; definition?: string; multi: boolean; includeAll: boolean }[] };
    panels: Panel[];
  };
  const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
  const exprs = panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr ?? "", legend: t.legendFormat ?? "" })));

  test("the dashboard is importable: datasource input, instance variable, unique ids, a place for each panel", () => {
    assert.ok(dashboard.schemaVersion >= 36, `schemaVersion ${dashboard.schemaVersion}`);
    assert.deepEqual(dashboard.__inputs.map((i) => [i.name, i.pluginId]), [["DS_PROMETHEUS", "prometheus"]]);
    // Provisioning has no import step to fill ${DS_PROMETHEUS}: a datasource variable of that name does.
    const ds = dashboard.templating.list.find((v) => v.name === "DS_PROMETHEUS");
    assert.ok(ds && (ds as unknown as { type: string }).type === "datasource" && ds.query === "prometheus", "a DS_PROMETHEUS datasource variable");
    const instance = dashboard.templating.list.find((v) => v.name === "instance");
    assert.ok(instance, "an instance variable");
    assert.match(JSON.stringify(instance.query), /label_values\(captcha_worker_build_info, instance\)/);
    assert.ok(instance.multi && instance.includeAll);
    const ids = panels.map((p) => p.id);
    assert.ok(ids.every((id) => Number.isInteger(id)), "every panel has an id");
    assert.equal(new Set(ids).size, ids.length, `panel ids are unique: ${ids.join(",")}`);
    for (const p of panels) {
      assert.ok(p.gridPos && p.gridPos.w > 0 && p.gridPos.h > 0 && p.gridPos.x + p.gridPos.w <= 24, `${p.title}: gridPos`);
      assert.ok((p.targets ?? []).length > 0, `${p.title}: queries`);
    }
    for (const type of ["timeseries", "state-timeline", "stat"]) assert.ok(panels.some((p) => p.type === type), `a ${type} panel`);
    // The datasource is the import-time input everywhere, never a uid of one Grafana.
    assert.doesNotMatch(read(DASHBOARD), /"uid": "(?!\$\{DS_PROMETHEUS\}|-- Grafana --|captcha-worker")/);
  });

  test("every panel query is filtered by $instance and uses only names, labels and label values the built worker exposes", async (t) => {
    assert.ok(exprs.length >= 10, `${exprs.length} queries`);
    for (const { panel, expr } of exprs) {
      assert.match(expr, /instance=~"\$instance"/, `${panel}: ${expr}`);
      assert.ok(metricNames(expr).length > 0, `${panel}: no metric in ${expr}`);
    }
    const used = exprs.flatMap((e) => metricNames(e.expr));
    for (const name of [
      "captcha_worker_tasks_total", "captcha_worker_upstream_request_duration_seconds_bucket", "nodejs_eventloop_lag_max_seconds",
      // Issue 17: failures by outcome, circuit, dependencies, readiness changes, backlog, saturation.
      "captcha_worker_upstream_requests_total", "captcha_worker_circuit_open", "captcha_worker_check_status", "captcha_worker_readiness_state",
      "captcha_worker_readiness_changes_total", "captcha_worker_oldest_queued_seconds", "captcha_worker_queue_depth", "captcha_worker_saturation_ratio",
    ]) {
      assert.ok(used.includes(name), `the dashboard shows ${name}`);
    }
    assert.ok(exprs.some((e) => /sum by \(type, outcome\) \(rate\(captcha_worker_tasks_total\{outcome!="solved"/.test(e.expr)), "failures by type and outcome");
    if (!requireOrSkip(t, builtBinaryAvailable(), BUILD_HINT)) return;
    await assertScraped(DASHBOARD, exprs.map((x) => ({ what: x.panel, expr: x.expr, legend: x.legend })));
  });

  test("every panel query is valid PromQL (promtool check rules on them as recording rules)", (t) => {
    const path = requireProgram(t, "promtool", "prometheus");
    if (!path) return;
    const dir = mkdtempSync(join(tmpdir(), "dashboard-rules-"));
    try {
      // YAML is a superset of JSON: the rules file can be written as JSON.
      const rules = exprs.map((e, i) => ({ record: `dashboard:query_${i}`, expr: e.expr.replaceAll("$instance", ".*") }));
      writeFileSync(join(dir, "rules.yml"), JSON.stringify({ groups: [{ name: "dashboard", rules }] }));
      const r = promtool(path, "check", "rules", join(dir, "rules.yml"));
      assert.equal(r.status, 0, r.out);
      assert.match(r.out, new RegExp(`SUCCESS: ${exprs.length} rules found`), r.out);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
