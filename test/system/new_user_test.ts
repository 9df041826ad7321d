/**
 * A newcomer's first run, end to end, on a fresh copy of this working tree (the files git tracks, as a
 * clone holds them, uncommitted changes included; no node_modules, no dist) in a temporary directory:
 * `npm ci --offline` from the npm cache, the README's quick-start commands in order, every command line
 * the demo's banner prints run by sh and answering what its banner line says, the status page in
 * headless Chromium at 1200x900 and 390x844, and a Ctrl-C to npm's process group that ends it quietly.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test, type TestContext } from "node:test";
import { parseDurationMs } from "../../src/config/duration.ts";
import { launchChromium, type Chromium } from "../_support/chromium_page.ts";
import { ROOT, waitForStart } from "../_support/cli.ts";
import { bannerCommands, capturedName, runLine, type LineResult } from "../_support/demo_banner.ts";
import { pollUntil } from "../_support/net.ts";
import { copyTrackedFiles, newcomerEnv, runNpm, startNpm, whichIn, type NpmRun } from "../_support/newcomer.ts";
import { requireOrSkip, requireProgram } from "../_support/programs.ts";
import { tempDir } from "../_support/temp_dirs.ts";

/** Where the README's quick start must begin (README, Quick start): a newcomer should not scroll for it. */
const QUICK_START_WITHIN_LINES = 40;

/** The quick start's commands: the first line of the README's first ```sh block, split at `&&`, and where it is. */
function quickStart(readme: string): { commands: string[]; line: number } {
  const lines = readme.split("\n");
  const fence = lines.findIndex((l) => /^```(?:sh|bash|shell)\s*$/.test(l));
  assert.ok(fence >= 0, "the README has a ```sh block");
  const first = lines[fence + 1]!.replace(/\s+#.*$/, "").trim();
  return { commands: first.split("&&").map((c) => c.trim()), line: fence + 2 };
}

/** The level of a worker log line (JSON or text format); undefined for a line that is no log line. */
function levelOf(line: string): string | undefined {
  try {
    const level = (JSON.parse(line) as { level?: unknown }).level;
    return typeof level === "string" ? level : undefined;
  } catch {
    return /^\S+ (DEBUG|INFO|WARN|ERROR)\s/.exec(line)?.[1]?.toLowerCase();
  }
}

/** What a banner line is checked against, besides exiting 0. */
interface LineCheck {
  line: string;
  result: LineResult;
  /** Polls /health/ready until it answers `status` (with an issue `issue` accepts), within what the heading promises. */
  readiness(status: 200 | 503, issue?: { says: string; accepts(issue: string): boolean }): Promise<void>;
  minBalanceUsd: number;
}

interface Expectation {
  /** What the banner promises the line does. */
  says: string;
  matches: RegExp;
  check(c: LineCheck): Promise<void> | void;
}

const json = (c: LineCheck) => {
  try {
    return JSON.parse(c.result.stdout) as Record<string, unknown>;
  } catch {
    assert.fail(`${c.line}\nanswered no JSON: ${c.result.stdout.slice(0, 500)}`);
  }
};

/** Every kind of command line the banner prints, and what it must answer; each must appear. */
const EXPECTATIONS: readonly Expectation[] = [
  {
    says: "posts an image task to the Task API and captures its id",
    matches: /^\w+=\$\(curl .*\/v1\/tasks"/,
    check: (c) => assert.match(c.result.captured ?? "", /^[\w-]+$/, `${c.line}\ncaptured no id; it answered ${c.result.stdout}`),
  },
  {
    says: "reads the task back, solved",
    matches: /^curl .*\/v1\/tasks\/\$\w+\?wait=\d+/,
    check: (c) => {
      const task = json(c);
      assert.equal(task.status, "solved", JSON.stringify(task));
      assert.equal(typeof task.solution, "string");
    },
  },
  {
    says: "runs the simulated account low (readiness 503 for low_balance), or restores it (200)",
    matches: /__sim\/balance /,
    check: async (c) => {
      const balance = Number((JSON.parse(/-d '([^']*)'/.exec(c.line)![1]!) as { balance: number }).balance);
      // The sample tasks go on spending: the balance read may be a few cents under the one set.
      const low = {
        says: `low_balance=$X, X <= ${balance}`,
        accepts: (issue: string) => {
          const usd = /^low_balance=\$(\d+\.\d\d)$/.exec(issue)?.[1];
          return usd !== undefined && Number(usd) <= balance;
        },
      };
      if (balance < c.minBalanceUsd) await c.readiness(503, low);
      else await c.readiness(200);
    },
  },
  { says: "makes the simulator fail every call (readiness 503)", matches: /-X POST \S+__sim\/faults /, check: (c) => c.readiness(503) },
  { says: "clears the simulator's faults (readiness 200)", matches: /-X DELETE \S+__sim\/faults$/, check: (c) => c.readiness(200) },
  {
    says: "posts an image to the 2captcha gateway's in.php and captures its id",
    matches: /^\w+=\$\(curl .*\/in\.php\?/,
    check: (c) => assert.match(c.result.captured ?? "", /^\d+$/, `${c.line}\ncaptured no id; it answered ${c.result.stdout}`),
  },
  {
    says: "reads the image's answer from the gateway's res.php",
    matches: /curl .*\/res\.php\?.*action=get/,
    check: (c) => {
      const answer = json(c);
      assert.equal(answer.status, 1, JSON.stringify(answer));
      assert.equal(typeof answer.request, "string");
    },
  },
  {
    says: "solves an image through the gateway with the published 2captcha-ts client",
    matches: /^node -e .*2captcha-ts/,
    check: (c) => assert.match(c.result.stdout, /data: '[^']+'/, `${c.line}\n${c.result.stdout}${c.result.stderr}`),
  },
];

/** The longest wait a heading promises ("within 5s"), and some slack for a loaded machine. */
function promisedMs(heading: string): number {
  const within = /\bwithin (\d+(?:\.\d+)?(?:ms|s|m|h))\b/.exec(heading)?.[1];
  return (within === undefined ? 60_000 : (parseDurationMs(within) ?? 60_000)) + 15_000;
}

/** The page's layout and headings at one viewport. */
interface PageFacts {
  scrollWidth: number;
  clientWidth: number;
  pastEdge: string[];
  h1: string;
  h2: string[];
  changes: string;
}

const PAGE_FACTS = `({
  scrollWidth: document.documentElement.scrollWidth,
  clientWidth: document.documentElement.clientWidth,
  pastEdge: [...document.querySelectorAll("body *")]
    .filter((e) => e.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5)
    .map((e) => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + ": " + (e.textContent ?? "").slice(0, 40)),
  h1: document.querySelector("h1")?.textContent ?? "",
  h2: [...document.querySelectorAll("h2")].map((h) => h.textContent),
  changes: document.querySelector("#changes")?.textContent ?? "",
})`;

test("a newcomer on a fresh copy: npm ci --offline, the README's quick start, every banner line run by sh, the status page in Chromium at 1200x900 and 390x844, a quiet Ctrl-C", { timeout: 300_000 }, async (t: TestContext) => {
  const env = newcomerEnv();
  if (!requireProgram(t, "git", "git") || !requireProgram(t, "curl", "curl")) return;
  const checkout = spawnSync("git", ["rev-parse", "--is-inside-work-tree"], { cwd: ROOT, encoding: "utf8" });
  if (!requireOrSkip(t, checkout.status === 0, `${ROOT} is not a git checkout (git ls-files names what a clone holds): ${checkout.stderr.trim()}`)) return;
  const npm = whichIn("npm", env);
  if (!requireOrSkip(t, npm !== undefined, "npm not found on PATH (outside this checkout): apt-get install -y npm")) return;
  const chromiumPath = requireProgram(t, "chromium", "chromium");
  if (!chromiumPath) return;
  const took: string[] = [];
  const timed = async <T>(what: string, run: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    try {
      return await run();
    } finally {
      took.push(`${what} ${((performance.now() - started) / 1000).toFixed(1)}s`);
    }
  };
  const browser: Promise<Chromium> = launchChromium(chromiumPath); // starts while npm ci runs
  browser.catch(() => undefined); // awaited below
  let worker: NpmRun | undefined;
  try {
    const dir = tempDir("cw-newcomer-");
    const files = copyTrackedFiles(dir);
    assert.ok(!existsSync(join(dir, "node_modules")) && !existsSync(join(dir, "dist")), "a fresh copy: no node_modules, no dist");
    const readme = readFileSync(join(dir, "README.md"), "utf8");
    const start = quickStart(readme);
    assert.ok(start.line <= QUICK_START_WITHIN_LINES, `the quick start is on README line ${start.line}, past line ${QUICK_START_WITHIN_LINES}`);
    assert.deepEqual(start.commands, ["npm ci", "npm start"], "the README's quick start, as this test runs it");
    assert.match(readme, /`npm start -- --listen 127\.0\.0\.1:\d+`/, "the README says how to give npm start another address");

    // npm ci, offline: the cache is filled by CI's own `npm ci` before `npm test` (.ci/run).
    const ci = await timed("npm ci --offline", () => runNpm(npm!, [...start.commands[0]!.split(" ").slice(1), "--offline"], dir, env));
    if (ci.code !== 0 && /ENOTCACHED/.test(ci.out)) {
      requireOrSkip(t, false, `npm ci --offline: a package is not in the npm cache (ENOTCACHED); run npm ci once online to fill it:\n${ci.out.slice(-1500)}`);
      return;
    }
    assert.equal(ci.code, 0, `npm ci --offline:\n${ci.out.slice(-3000)}`);
    const warnings = ci.out.split("\n").filter((l) => /^npm warn/.test(l));
    if (warnings.length) t.diagnostic(`npm ci warned ${warnings.length} lines, e.g. ${warnings[0]}`);

    // npm start on a port of the kernel's choosing (8080 may be taken), the README's form for another address.
    worker = startNpm(npm!, [...start.commands[1]!.split(" ").slice(1), "--", "--listen", "127.0.0.1:0"], dir, env);
    const w = worker;
    const { listen } = await timed("npm start to the start line", () => waitForStart(w.child, 60_000));
    const base = `http://${listen}`;
    await pollUntil("the banner", () => w.stdout().includes("Stop with Ctrl-C."), { timeoutMs: 20_000 });
    const banner = w.stdout();
    await pollUntil("ready", async () => (await fetch(`${base}/health/ready`)).status === 200, { timeoutMs: 20_000, intervalMs: 50 });
    const minBalanceUsd = ((await (await fetch(`${base}/health/ready`)).json()) as { thresholds: { min_balance: number } }).thresholds.min_balance;

    // Every command line, in the banner's order, each its own sh (a captured id carried as the terminal keeps it).
    const commands = bannerCommands(banner);
    const vars: Record<string, string> = {};
    const seen = new Set<Expectation>();
    /** Log lines from a line that took readiness away to the line that gave it back: warnings are expected there. */
    const faultWindows: [number, number][] = [];
    let faultFrom: number | undefined;
    const issuesSeen: string[] = [];
    for (const cmd of commands) {
      const expectation = EXPECTATIONS.find((e) => e.matches.test(cmd.line));
      assert.ok(expectation, `a banner command this test does not know what to expect of (add it to EXPECTATIONS):\n${cmd.heading}\n  ${cmd.line}`);
      seen.add(expectation);
      const logAt = w.lines.length;
      const result = await timed(expectation.says, async () => {
        const r = await runLine(cmd.line, { cwd: dir, env, vars });
        assert.equal(r.code, 0, `exit ${r.code}: ${cmd.line}\n${r.stderr}${r.stdout}`);
        await expectation.check({
          line: cmd.line,
          result: r,
          minBalanceUsd,
          readiness: async (status, issue) => {
            if (status === 503) faultFrom ??= logAt;
            await pollUntil(`${cmd.line}\n/health/ready answering ${status}${issue ? ` with an issue ${issue.says}` : ""} (${cmd.heading})`, async () => {
              const res = await fetch(`${base}/health/ready`);
              const body = (await res.json()) as { issues: string[] };
              if (res.status === 503) issuesSeen.push(...body.issues.filter((i) => !issuesSeen.includes(i)));
              return { status: res.status, issues: body.issues };
            }, { until: (r) => r.status === status && (issue === undefined || r.issues.some((i) => issue.accepts(i))), timeoutMs: promisedMs(cmd.heading), intervalMs: 100 });
            if (status === 200 && faultFrom !== undefined) {
              faultWindows.push([faultFrom, w.lines.length]);
              faultFrom = undefined;
            }
          },
        });
        return r;
      });
      const name = capturedName(cmd.line);
      if (name) vars[name] = result.captured!;
    }
    const missing = EXPECTATIONS.filter((e) => !seen.has(e)).map((e) => e.says);
    assert.deepEqual(missing, [], `the banner prints no line that ${missing.join("; ")}:\n${banner}`);
    assert.equal(faultFrom, undefined, "the banner's lines leave the worker ready");
    t.diagnostic(`${commands.length} banner command lines run`);

    // The status page, as a laptop and a phone show it.
    const chromium = await browser;
    for (const [width, height] of [[1200, 900], [390, 844]] as const) {
      const page = await chromium.open(`${base}/`, width, height);
      const got = await page.evaluate<PageFacts>(PAGE_FACTS);
      await page.close();
      assert.ok(got.scrollWidth <= got.clientWidth, `no horizontal overflow at ${width} px: ${got.scrollWidth} > ${got.clientWidth}: ${got.pastEdge.join(" | ")}`);
      assert.deepEqual(got.pastEdge, [], `nothing past the right edge at ${width} px`);
      assert.match(got.h1, /^captcha-worker \S+ READY$/);
      for (const h of [/^Dependencies$/, /^The last /, /^Readiness changes /]) assert.ok(got.h2.some((x) => h.test(x)), `a heading ${h} at ${width} px among ${got.h2.join(" | ")}`);
      if (issuesSeen.some((i) => i.startsWith("low_balance="))) assert.match(got.changes, /low_balance=\$\d/, "the changes list names the low balance");
    }

    // Ctrl-C: SIGINT to the foreground job's process group (npm, its sh, the worker).
    const stopAt = w.lines.length;
    const stopped = await timed("Ctrl-C to exit", async () => {
      process.kill(-w.child.pid!, "SIGINT");
      return w.exited;
    });
    worker = undefined;
    // npm re-raises the SIGINT it got (a shell shows 130); a failed script would print npm errors.
    assert.ok(stopped.signal === "SIGINT" || stopped.code === 0, `npm ended with ${JSON.stringify(stopped)}`);
    const last = w.lines.filter((l) => levelOf(l) !== undefined).at(-1) ?? "";
    assert.match(last, /"msg":"stopped"|\bINFO\s+stopped\b/, `the worker's last log line says it stopped: ${last}`);
    const loud = w.lines
      .map((l, i) => ({ l, i }))
      .filter(({ l, i }) => {
        const level = levelOf(l);
        const alarming = level === undefined ? /\b(warn|warning|error|err!)\b/i.test(l) : level === "warn" || level === "error";
        return alarming && !faultWindows.some(([from, to]) => i >= from && i < to);
      })
      .map(({ l, i }) => `${i >= stopAt ? "after Ctrl-C: " : ""}${l}`);
    assert.deepEqual(loud, [], "no warn or error line outside the faults the banner's lines set (a demo with no fault, and its Ctrl-C, say nothing alarming)");
    const duringFaults = faultWindows.reduce((n, [from, to]) => n + w.lines.slice(from, to).filter((l) => /^(warn|error)$/.test(levelOf(l) ?? "")).length, 0);
    t.diagnostic(`${files} files copied; ${w.lines.length} log lines, ${duringFaults} warn or error while the banner's faults held`);
  } finally {
    if (worker) {
      try {
        process.kill(-worker.child.pid!, "SIGKILL"); // the whole job: npm, its sh, the worker
      } catch {
        // already gone
      }
      await worker.exited;
    }
    await (await browser.catch(() => undefined))?.close();
    t.diagnostic(took.join(", "));
  }
});
