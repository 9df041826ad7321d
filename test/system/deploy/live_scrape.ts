/**
 * One scrape of the real built executable, set up so every family the monitoring files use has
 * samples to check names and labels against: --demo --demo-overflow (two simulated providers, a
 * plan and a per-solve one with a budget, each with solves; the gateway with its callbacks),
 * --state-dir, a first solve of the demo's sample traffic, a task a provider fails (bytes that are
 * no image: a failed outcome at a provider), and --peers with a live peer (a scripted node:http server), a dead one and a
 * forwarded request with a wrong token (peer_requests_total's three outcomes). Shared by the
 * Prometheus, Grafana and Compose checks; PromQL is read by regular expressions (what the
 * queries here use: selectors, `by`/`on`/`ignoring`/`without` lists, legend `{{label}}`s).
 */
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { BUILT_BIN, spawnCli, waitForStart } from "../../_support/cli.ts";
import { pollUntil } from "../../_support/net.ts";
import { tempDir } from "../../_support/temp_dirs.ts";

export const BUILD_HINT = "dist/captcha-worker is not built: npm run build (npm test builds it first)";
/** Labels Prometheus adds at scrape time (and `le` of histogram buckets, which the scrape has). */
const TARGET_LABELS = new Set(["instance", "job"]);
/** Metric names the worker's own series use. */
export const METRIC_NAME = /\b(captcha_worker_[a-z_]+|nodejs_[a-z_]+|process_[a-z_]+)\b/g;

export interface Scrape {
  /** Every sample name, and every family name from `# TYPE` (with _bucket/_sum/_count for histograms). */
  names: Set<string>;
  /** The label sets of each sample name. */
  series: Map<string, Record<string, string>[]>;
  text: string;
}

let cached: Promise<Scrape> | undefined;

/** Starts the built worker once per test file, sets it up, scrapes /metrics, stops it. */
export function liveScrape(): Promise<Scrape> {
  cached ??= scrapeOnce();
  return cached;
}

async function scrapeOnce(): Promise<Scrape> {
  const dir = tempDir("cw-scrape-");
  const peer = createServer((_req, res) => void res.writeHead(200, { "content-type": "application/json" }).end("{}"));
  await new Promise<void>((r) => peer.listen(0, "127.0.0.1", r));
  const dead = createServer();
  await new Promise<void>((r) => dead.listen(0, "127.0.0.1", r));
  const deadPort = (dead.address() as AddressInfo).port;
  await new Promise((r) => dead.close(r));
  writeFileSync(join(dir, "peer-token"), "p".repeat(32));
  const peers = `0=http://127.0.0.1:1,1=http://127.0.0.1:${(peer.address() as AddressInfo).port},2=http://127.0.0.1:${deadPort}`;
  let child: ChildProcess | undefined;
  try {
    child = spawnCli(
      ["run", "--demo", "--demo-overflow", "--listen", "127.0.0.1:0", "--state-dir", join(dir, "state"), "--node-id", "0", "--peers", peers, "--peer-token-file", join(dir, "peer-token")],
      {},
      BUILT_BIN,
    );
    const base = `http://${(await waitForStart(child)).listen}`;
    await pollUntil("ready", async () => (await fetch(base + "/health/ready")).status === 200, { timeoutMs: 20_000, intervalMs: 25 });
    // Ids 1025 and 1026 are node 1's and node 2's (the low 10 bits): one forwarded, one owner_unavailable.
    assert.equal((await fetch(base + "/v1/tasks/1025")).status, 200);
    await (await fetch(base + "/v1/tasks/1026")).text(); // past the id's deadline: answered as failed, owner_unavailable
    const refused = await fetch(base + "/v1/tasks/1024", { headers: { "x-captcha-worker-forwarded": "1", "x-captcha-worker-peer-token": "wrong" } });
    assert.ok(refused.status >= 400 && refused.status < 500, `refused: ${refused.status}`);
    // Bytes that are no image: the simulator refuses them (ERROR_WRONG_FILE_EXTENSION), a failure at a provider.
    const notImage = await fetch(base + "/v1/tasks", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ type: "image", image: Buffer.alloc(150, 0x41).toString("base64") }) });
    assert.equal(notImage.status, 202, await notImage.clone().text());
    await notImage.body?.cancel();
    // The demo's sample traffic: a solve gives the solve-time histogram its series.
    const text = await pollUntil("a solve in /metrics", async () => {
      const res = await fetch(base + "/metrics");
      assert.equal(res.status, 200);
      const body = await res.text();
      // A solve on each provider: the overflow's comes once a task has waited 5 s for the plan.
      const both = /^captcha_worker_provider_tasks_total\{provider="captchaai",/m.test(body) && /^captcha_worker_provider_tasks_total\{provider="2captcha",/m.test(body);
      const failed = /^captcha_worker_provider_tasks_total\{[^}]*outcome="failed"/m.test(body);
      return /^captcha_worker_solve_duration_seconds_bucket\{/m.test(body) && both && failed ? body : undefined;
    }, { timeoutMs: 40_000, intervalMs: 100 });
    return parse(text);
  } finally {
    if (child && child.exitCode === null) {
      child.kill("SIGTERM");
      await once(child, "exit");
    }
    peer.closeAllConnections();
    await new Promise((r) => peer.close(r));
  }
}

function parse(text: string): Scrape {
  const names = new Set<string>();
  const series = new Map<string, Record<string, string>[]>();
  for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    names.add(name!);
    if (type === "histogram" || type === "summary") for (const s of ["_bucket", "_sum", "_count"]) names.add(name + s);
  }
  for (const [, name, labels] of text.matchAll(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? \S+$/gm)) {
    names.add(name!);
    const set = Object.fromEntries([...(labels ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1]!, m[2]!]));
    series.set(name!, [...(series.get(name!) ?? []), set]);
  }
  return { names, series, text };
}

/** Metric names in `text`. */
export function metricNames(text: string): string[] {
  return [...new Set(text.match(METRIC_NAME) ?? [])];
}

/**
 * What in `expr` the scrape does not bear out: unknown metric names; label matchers naming a label
 * the metric lacks, or (for `=` and a `=~` list of plain words) a value no series has; grouping and
 * `legend` labels that no metric of the expression has. Grafana variables (`$x`) are not values.
 */
export function unsupported(expr: string, scrape: Scrape, legend = ""): string[] {
  const problems: string[] = [];
  const labelsOf = (name: string) => new Set((scrape.series.get(name) ?? []).flatMap((s) => Object.keys(s)));
  const used = new Set<string>(TARGET_LABELS);
  for (const m of expr.matchAll(/\b((?:captcha_worker|nodejs|process)_[a-z_]+)(?:\{([^}]*)\})?/g)) {
    const name = m[1]!;
    if (!scrape.names.has(name)) {
      problems.push(`${name}: not exposed`);
      continue;
    }
    const labels = labelsOf(name);
    labels.forEach((l) => used.add(l));
    for (const [, label, op, value] of (m[2] ?? "").matchAll(/(\w+)\s*(=~|!~|!=|=)\s*"([^"]*)"/g)) {
      if (TARGET_LABELS.has(label!)) continue;
      if (!labels.has(label!)) {
        problems.push(`${name}{${label}}: no such label (${labels.size ? [...labels].join(", ") : "no samples"})`);
        continue;
      }
      if (value!.includes("$") || op!.startsWith("!")) continue;
      const values = new Set((scrape.series.get(name) ?? []).map((s) => s[label!]));
      const wanted = op === "=" ? [value!] : /^[\w|]+$/.test(value!) ? value!.split("|") : [];
      for (const v of wanted) if (!values.has(v)) problems.push(`${name}{${label}="${v}"}: no such value (${[...values].join(", ")})`);
      if (op === "=~" && wanted.length === 0 && ![...values].some((v) => new RegExp(`^(?:${value})$`).test(v!))) problems.push(`${name}{${label}=~"${value}"}: matches nothing`);
    }
  }
  for (const [, list] of expr.matchAll(/\b(?:by|without|on|ignoring)\s*\(([^)]*)\)/g)) {
    for (const label of list!.split(",").map((l) => l.trim()).filter(Boolean)) if (!used.has(label)) problems.push(`grouping label ${label}: on no metric of the query`);
  }
  for (const [, label] of legend.matchAll(/\{\{\s*(\w+)\s*\}\}/g)) if (!used.has(label!)) problems.push(`legend label ${label}: on no metric of the query`);
  return problems;
}
