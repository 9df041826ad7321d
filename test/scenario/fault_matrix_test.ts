/**
 * Every simulator fault against a real worker, one table row each: what readiness, the dependency
 * check and the tasks show while the fault holds, that nothing is lost or submitted twice, and that
 * the worker recovers once the fault clears. The "Fault matrix" of docs/upstream.md is this table.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test, type TestContext } from "node:test";
import type { Fault, Selector } from "../../src/sim/faults.ts";
import type { Simulator } from "../../src/sim/simulator.ts";
import { advance, eventually, startHarness, type Harness } from "../_support/harness.ts";
import { json } from "../_support/http.ts";
import { pngOfSize } from "../_support/images.ts";

const IMAGE = { type: "image", image: pngOfSize(150, 2).toString("base64") };
/** As many tasks as threads: enough for five transport failures in a row to open the circuit. */
const TASKS = 5;
const FLAGS = { "task-timeout": "30s", "balance-ttl": "10s" };
/** While the fault holds, tasks pending: where readiness, dependencies and the first outcome are read. */
const MID_MS = 22_000;
/** Past the 30 s task timeout: the final outcome. */
const END_MS = 35_000;
/** After the fault clears: longer than the longest circuit cool-down and key re-check reached here. */
const RECOVER_MS = 65_000;
const HEALTH_PATHS = ["/health/live", "/health/ready", "/health/startup", "/health/dependencies", "/health", "/metrics", "/"];

type DepStatus = "ok" | "degraded" | "down";

interface Row {
  /** The fault, as the page's first column shows it. */
  name: string;
  /** Faults set on the simulator, per endpoint. */
  faults?: [Selector, Fault][];
  balance?: number;
  unsolvable?: number;
  /** The simulator accepts another key than the worker's. */
  wrongKey?: boolean;
  /** The fault is in place before the worker starts (its first balance check meets it). */
  atStartup?: boolean;
  /** Readiness issues at MID_MS, exactly (but for `maybe`). */
  issues: string[];
  /** Issues that may also show, depending on how many of the five tasks got out before the evidence. */
  maybe?: string[];
  /** /health/dependencies' captchaai_api status at MID_MS. */
  deps: DepStatus;
  /**
   * Each task's outcome at MID_MS and END_MS: solved, queued, submitted, `failed CODE`, `refused
   * STATUS CODE`. A list: the tasks posted before the evidence arrived get the first (at least one
   * does), the ones posted after it the second (the five are posted at once, so the split varies).
   */
  mid: Outcome;
  end?: Outcome;
  /** Submissions per task allowed (2: the one documented retry after ERROR_CAPTCHA_UNSOLVABLE). */
  submitsPerTask?: 1 | 2;
  /** Clearing the fault brings the worker back (not so for a key the upstream does not know). */
  recovers?: false;
}

type Outcome = string | [first: string, later: string];

const code = (c: string) => "`" + c + "`";

/** True when every observed outcome is allowed by `expected`, and a list's first one occurs. */
function matches(observed: readonly string[], expected: Outcome): boolean {
  if (typeof expected === "string") return observed.every((o) => o === expected);
  return observed.includes(expected[0]) && observed.every((o) => expected.includes(o));
}

const ROWS: Row[] = [
  { name: "none", issues: [], deps: "ok", mid: "solved" },
  { name: "`hang` on `in.php`", faults: [["in.php", { hang: true }]], issues: [], deps: "ok", mid: "failed SUBMIT_UNCERTAIN" },
  { name: "`hang` on `res.php:get`", faults: [["res.php:get", { hang: true }]], issues: ["circuit_open"], deps: "ok", mid: "submitted", end: "failed timeout" },
  // getbalance alone: the free res.php probe still answers, so the upstream is reachable (degraded).
  { name: "`hang` on `getbalance`", faults: [["res.php:getbalance", { hang: true }]], issues: [], deps: "degraded", mid: "solved" },
  { name: "`hang` on `getbalance` from startup", faults: [["res.php:getbalance", { hang: true }]], atStartup: true, issues: [], deps: "down", mid: "solved" },
  { name: "`latency_ms` 2000 on all (below the 5 s timeout)", faults: [["all", { latencyMs: 2000 }]], issues: [], deps: "ok", mid: "solved" },
  { name: "`status` 500 on all", faults: [["all", { status: 500 }]], issues: ["upstream_unreachable"], maybe: ["circuit_open"], deps: "degraded", mid: ["failed SUBMIT_UNCERTAIN", "refused 503 ERR_NOT_READY"] },
  { name: "`status` 500 on `res.php:get`", faults: [["res.php:get", { status: 500 }]], issues: ["circuit_open"], deps: "ok", mid: "submitted", end: "failed timeout" },
  { name: "`status` 503 on `in.php` (not delivered; 1 s late)", faults: [["in.php", { status: 503, latencyMs: 1000 }]], issues: ["circuit_open"], deps: "ok", mid: "queued", end: "failed timeout" },
  { name: "`status` 429 on `in.php`", faults: [["in.php", { status: 429 }]], issues: [], deps: "ok", mid: "queued", end: "failed timeout" },
  { name: "`html` on all", faults: [["all", { html: true }]], issues: ["upstream_unreachable"], maybe: ["circuit_open"], deps: "degraded", mid: ["failed SUBMIT_UNCERTAIN", "refused 503 ERR_NOT_READY"] },
  { name: "`garbage` on all", faults: [["all", { garbage: true }]], issues: ["upstream_unreachable"], maybe: ["circuit_open"], deps: "degraded", mid: ["failed SUBMIT_UNCERTAIN", "refused 503 ERR_NOT_READY"] },
  { name: "`drop` on all", faults: [["all", { drop: true }]], issues: ["upstream_unreachable"], maybe: ["circuit_open"], deps: "degraded", mid: ["failed SUBMIT_UNCERTAIN", "refused 503 ERR_NOT_READY"] },
  { name: "`error` ERROR_NO_SLOT_AVAILABLE on `in.php`", faults: [["in.php", { error: "ERROR_NO_SLOT_AVAILABLE" }]], issues: [], deps: "ok", mid: "queued", end: "failed timeout" },
  { name: "`error` ERROR_ZERO_BALANCE on `in.php` (no free threads)", faults: [["in.php", { error: "ERROR_ZERO_BALANCE" }]], issues: [], deps: "ok", mid: "queued", end: "failed timeout" },
  {
    // Answered 1 s late (as the 503 above), so all five tasks are taken and sent before the first
    // answer: an instant one would race the later POSTs (here 202 or 503, there the back-off pause).
    name: "`error` ERROR_WRONG_USER_KEY on all (1 s late)",
    faults: [["all", { error: "ERROR_WRONG_USER_KEY", latencyMs: 1000 }]],
    issues: ["upstream_auth=ERROR_WRONG_USER_KEY"],
    deps: "degraded",
    mid: "queued",
    end: "failed timeout",
  },
  { name: "`error` ERROR_WRONG_CAPTCHA_ID on `res.php:get`", faults: [["res.php:get", { error: "ERROR_WRONG_CAPTCHA_ID" }]], issues: [], deps: "ok", mid: "failed ERROR_WRONG_CAPTCHA_ID" },
  { name: "`error` ERROR_BAD_PARAMETERS on `res.php:get`", faults: [["res.php:get", { error: "ERROR_BAD_PARAMETERS" }]], issues: [], deps: "ok", mid: "failed ERROR_BAD_PARAMETERS" },
  {
    name: "`error` ERROR_CAPTCHA_UNSOLVABLE on `res.php:get`",
    faults: [["res.php:get", { error: "ERROR_CAPTCHA_UNSOLVABLE" }]],
    issues: [],
    deps: "ok",
    mid: "failed ERROR_CAPTCHA_UNSOLVABLE",
    submitsPerTask: 2,
  },
  { name: "balance 0", balance: 0, issues: ["low_balance=$0.00"], deps: "ok", mid: ["queued", "refused 503 ERR_NOT_READY"], end: ["failed timeout", "refused 503 ERR_NOT_READY"] },
  // ERROR_KEY_DOES_NOT_EXIST at first; the once-a-second re-check makes the 5 bad keys in a minute that ban the address.
  { name: "wrong key (the simulator knows another)", wrongKey: true, atStartup: true, issues: ["upstream_auth=IP_BANNED"], deps: "down", mid: "refused 503 ERR_NOT_READY", recovers: false },
  { name: "unsolvable ratio 1", unsolvable: 1, issues: [], deps: "ok", mid: "failed ERROR_CAPTCHA_UNSOLVABLE", submitsPerTask: 2 },
];

/** The row as a markdown table line: fault | readiness | dependencies | tasks. */
function markdownLine(row: Row): string {
  let readiness = row.issues.length === 0 ? "ready" : row.issues.map(code).join(", ");
  if (row.maybe) readiness += ` (${row.maybe.map(code).join(", ")} too when five submits failed first)`;
  const show = (o: string) => (o.includes(" ") ? o.slice(0, o.lastIndexOf(" ") + 1) + code(o.slice(o.lastIndexOf(" ") + 1)) : o);
  const say = (o: Outcome) => (typeof o === "string" ? show(o) : `${show(o[0])}; later ones ${show(o[1])}`);
  let tasks = row.end === undefined || JSON.stringify(row.end) === JSON.stringify(row.mid) ? say(row.mid) : `${say(row.mid)} at ${MID_MS / 1000} s, ${say(row.end)} at ${END_MS / 1000} s`;
  if (row.submitsPerTask === 2) tasks += " (submitted twice: the one retry)";
  return `| ${row.name} | ${readiness} | ${row.deps} | ${tasks} |`;
}

function applyFaults(sim: Simulator, row: Row): void {
  for (const [selector, fault] of row.faults ?? []) sim.control.setFault(selector, fault);
  if (row.balance !== undefined) sim.control.setBalance(row.balance);
  if (row.unsolvable !== undefined) sim.control.setUnsolvableRatio(row.unsolvable);
}

async function submit(h: Harness): Promise<{ status: number; id?: string; code?: string }> {
  const res = await fetch(h.base + "/v1/tasks", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(IMAGE) });
  const body = await json(res);
  return res.status === 202 ? { status: 202, id: body.id } : { status: res.status, code: body.code };
}

/** Each task's outcome as the API shows it, in the table's words; asserts nothing is lost on the way. */
async function outcomes(h: Harness, ids: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const id of ids) {
    const res = await fetch(`${h.base}/v1/tasks/${id}`);
    assert.equal(res.status, 200, `task ${id} answers GET`);
    const body = await json(res);
    assert.equal(body.id, id);
    assert.ok(["queued", "submitted", "solved", "failed"].includes(body.status), `task ${id}: ${body.status}`);
    if (body.status === "solved") assert.equal(typeof body.solution, "string");
    if (body.status === "failed") assert.equal(typeof body.error?.code, "string");
    out.push(body.status === "failed" ? `failed ${body.error.code}` : body.status);
  }
  return out;
}

/** Every health endpoint answers, never 500; liveness holds whatever the upstream does. */
async function assertHealthAnswers(h: Harness, when: string): Promise<void> {
  for (const path of HEALTH_PATHS) {
    const res = await fetch(h.base + path);
    await res.arrayBuffer();
    assert.notEqual(res.status, 500, `${when}: ${path}`);
    if (path === "/health/live") assert.equal(res.status, 200, `${when}: ${path}`);
  }
}

async function readiness(h: Harness): Promise<{ status: number; issues: string[] }> {
  const res = await fetch(h.base + "/health/ready");
  const body = await json(res);
  assert.equal(res.status, body.issues.length === 0 ? 200 : 503);
  return { status: res.status, issues: body.issues };
}

async function depsStatus(h: Harness): Promise<DepStatus> {
  const res = await fetch(h.base + "/health/dependencies");
  const body = await json(res);
  const status = body.checks.captchaai_api.status as DepStatus;
  assert.equal(res.status, status === "ok" ? 200 : 503);
  return status;
}

async function runRow(t: TestContext, row: Row): Promise<void> {
  const h = await startHarness({
    flags: FLAGS,
    noStartup: true,
    sim: row.wrongKey ? { keys: ["a-key-the-worker-does-not-have-0"] } : {},
    beforeWorker: row.atStartup ? (sim) => applyFaults(sim, row) : undefined,
  });
  try {
    // Startup ends with the first balance check, or with its 5 s timeout when that check hangs.
    if (row.atStartup && row.faults?.some(([, f]) => f.hang)) {
      await eventually(() => h.sim.counts().requests["res.php:getbalance"] === 1, "first check sent");
      await advance(h.clock, 5000);
    }
    await eventually(() => h.worker.view.phase === "running", "started");
    const t0 = h.clock.now();
    if (!row.atStartup) applyFaults(h.sim, row);

    const answers = await Promise.all(Array.from({ length: TASKS }, () => submit(h)));
    const ids = answers.flatMap((a) => (a.id ? [a.id] : []));
    const refused = answers.filter((a) => !a.id).map((a) => `refused ${a.status} ${a.code}`);

    await advance(h.clock, MID_MS - (h.clock.now() - t0));
    await assertHealthAnswers(h, "mid");
    const mid = { issues: (await readiness(h)).issues, deps: await depsStatus(h), tasks: [...refused, ...(await outcomes(h, ids))] };

    await advance(h.clock, END_MS - (h.clock.now() - t0));
    await assertHealthAnswers(h, "end");
    const end = [...refused, ...(await outcomes(h, ids))];

    // No double submission: the simulator took at most one task per accepted one (two after ERROR_CAPTCHA_UNSOLVABLE).
    const perTask = row.submitsPerTask ?? 1;
    const counts = h.sim.counts();
    assert.ok(counts.submitted <= ids.length * perTask, `simulator took ${counts.submitted} submissions for ${ids.length} tasks`);
    if (end.length > 0 && end.every((o) => o === "failed SUBMIT_UNCERTAIN")) {
      assert.equal(counts.requests["in.php"], ids.length, "an uncertain submit is never sent again");
    }
    assert.equal(counts.keyInQuery, 0);

    t.diagnostic(`${markdownLine(row)}  observed: issues=${JSON.stringify(mid.issues)} deps=${mid.deps} mid=${JSON.stringify([...new Set(mid.tasks)])} end=${JSON.stringify([...new Set(end)])} submitted=${counts.submitted} in.php=${counts.requests["in.php"] ?? 0}`);
    assert.deepEqual(mid.issues.filter((i) => !row.maybe?.includes(i)), row.issues, "readiness issues while the fault holds");
    assert.equal(mid.deps, row.deps, "captchaai_api while the fault holds");
    assert.equal(mid.tasks.length, TASKS);
    assert.ok(matches(mid.tasks, row.mid), `tasks while the fault holds: ${JSON.stringify(mid.tasks)}`);
    assert.ok(matches(end, row.end ?? row.mid), `tasks past their timeout: ${JSON.stringify(end)}`);

    if (row.recovers === false) return;
    h.sim.control.clearFaults();
    h.sim.control.setBalance(10);
    h.sim.control.setUnsolvableRatio(0);
    await advance(h.clock, RECOVER_MS, 1000);
    assert.deepEqual((await readiness(h)).issues, [], "ready again once the fault clears");
    assert.equal(await depsStatus(h), "ok", "captchaai_api ok again");
    const fresh = await submit(h);
    assert.equal(fresh.status, 202, "takes work again");
    await advance(h.clock, 10_000);
    assert.deepEqual(await outcomes(h, [fresh.id!]), ["solved"], "and solves it");
  } finally {
    await h.close();
  }
}

describe("fault matrix: every simulator fault, what the worker shows and does", () => {
  for (const row of ROWS) test(row.name.replaceAll("`", ""), (t) => runRow(t, row));

  test("the Fault matrix of docs/upstream.md is this table, row for row", (t) => {
    const page = readFileSync(new URL("../../docs/upstream.md", import.meta.url), "utf8");
    const section = /^## Fault matrix\n([\s\S]*?)(?=^## |(?![\s\S]))/m.exec(page)?.[1] ?? "";
    const lines = ["| fault | readiness | dependencies | tasks |", "|---|---|---|---|", ...ROWS.map(markdownLine)];
    for (const line of lines) t.diagnostic(line);
    const table = section.split("\n").filter((l) => l.startsWith("|"));
    assert.deepEqual(table, lines);
  });
});
