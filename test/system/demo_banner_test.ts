/**
 * `run --demo` (what `npm start` runs) as a new user meets it: the banner's URLs are the bound
 * address, its Task API commands post a task and read it back as printed (run by real curl through
 * sh when curl is installed, else replayed with fetch), and the terminal shows sample tasks solved.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { describe, test } from "node:test";
import { DEMO_KEY } from "../../src/app/demo.ts";
import { ROOT, waitForStart } from "../_support/cli.ts";
import { pollUntil } from "../_support/net.ts";
import { requireProgram, which } from "../_support/programs.ts";
import { tempDir } from "../_support/temp_dirs.ts";
import { spawnWorker, type WorkerChild } from "../_support/worker_child.ts";

const CURL = which("curl");

interface Demo {
  w: WorkerChild;
  listen: string;
  upstream: string;
  banner: string;
}

async function startDemo(args: string[]): Promise<Demo> {
  const w = spawnWorker(["run", "--demo", ...args], {});
  let stdout = "";
  w.child.stdout!.on("data", (c: Buffer) => void (stdout += c.toString()));
  const { listen, lines } = await waitForStart(w.child);
  const upstream = (JSON.parse(lines.at(-1)!) as { upstream: string }).upstream;
  await pollUntil("the banner", () => stdout.includes("Stop with Ctrl-C."));
  return { w, listen, upstream, banner: stdout };
}

/** The two Task API lines of the banner: the POST that sets $id, and the read. */
function taskLines(banner: string): [string, string] {
  const lines = banner.split("\n").map((l) => l.trim());
  const post = lines.findIndex((l) => l.startsWith("id=$(curl "));
  assert.ok(post >= 0, banner);
  assert.match(lines[post + 1]!, /^curl .*\/v1\/tasks\/\$id\?wait=30"$/);
  // Quoted: zsh (a common login shell) globs an unquoted [::1] and stops with "no matches found".
  assert.match(lines[post]!, /^id=\$\(curl -s "http:\/\/[^"\s]+\/v1\/tasks" /);
  return [lines[post]!, lines[post + 1]!];
}

/** The task as the printed read answers it: the two lines run by sh and curl, or replayed. */
async function runTaskLines([post, read]: [string, string], cwd?: string): Promise<Record<string, unknown>> {
  if (CURL) {
    const r = spawnSync("sh", ["-c", `${post}\n${read}`], { encoding: "utf8", timeout: 60_000, cwd });
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout) as Record<string, unknown>;
  }
  // No curl here: the same requests, read from the printed lines.
  const headers = (line: string) =>
    Object.fromEntries(
      [...line.matchAll(/-H (?:'([^']*)'|"([^"]*)")/g)].map((m) => {
        const h = (m[1] ?? m[2]!)
          .replace(/\$\(cat '([^']*)'\)/, (_, file: string) => readFileSync(file, "utf8").trim())
          .replace(/\$\(awk '[^']*' '([^']*)'\)/, (_, file: string) => readFileSync(file, "utf8").split("\n").map((l) => l.trim().split(/\s+/)).find((f) => f.length >= 2 && !f[0]!.startsWith("#"))![1]!);
        return [h.slice(0, h.indexOf(":")), h.slice(h.indexOf(":") + 1).trim()];
      }),
    );
  const postUrl = /curl -s "(http:\/\/[^"]+)"/.exec(post)![1]!;
  const body = /-d '([^']*)'/.exec(post)![1]!;
  const created = (await (await fetch(postUrl, { method: "POST", headers: headers(post), body })).json()) as { id: string };
  const readUrl = /"(http:[^"]*)"/.exec(read)![1]!.replace("$id", created.id);
  return (await (await fetch(readUrl, { headers: headers(read) })).json()) as Record<string, unknown>;
}

/** The indented command lines under the banner line that starts with `heading`. */
function commandsUnder(banner: string, heading: string): string[] {
  const lines = banner.split("\n");
  const at = lines.findIndex((l) => l.startsWith(heading));
  assert.ok(at >= 0, `no "${heading}" in\n${banner}`);
  const out: string[] = [];
  for (const line of lines.slice(at + 1)) {
    if (!line.startsWith("  ")) break;
    out.push(line.trim());
  }
  return out;
}

/** Runs printed lines as one sh script (in `cwd`), the way a pasted block runs; its stdout. */
function sh(lines: string[], cwd = ROOT): string {
  const r = spawnSync("sh", ["-c", lines.join("\n")], { encoding: "utf8", timeout: 60_000, cwd, env: { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH ?? "/usr/bin:/bin"}` } });
  assert.equal(r.status, 0, `${lines.join("\n")}\n${r.stderr}`);
  return r.stdout;
}

/** Polls /health/ready until its status is `status` (and `issue` among its issues, if given). */
async function readyBecomes(d: Demo, status: number, issue?: string): Promise<void> {
  await pollUntil(`/health/ready ${status}${issue ? ` with ${issue}` : ""}`, async () => {
    const r = await fetch(`http://${d.listen}/health/ready`);
    const body = (await r.json()) as { issues: string[] };
    return r.status === status && (issue === undefined || body.issues.includes(issue));
  }, { timeoutMs: 30_000, intervalMs: 100 });
}

async function stop(d: Demo): Promise<void> {
  d.w.child.kill("SIGINT");
  assert.equal(await d.w.exited, 0);
}

describe("the demo's banner", () => {
  test("names the bound address in every URL, and its printed commands post a task and read back its solution", async () => {
    const d = await startDemo(["--listen", "127.0.0.1:0"]);
    try {
      const urls = [...d.banner.matchAll(/https?:\/\/([^/\s"']+)/g)].map((m) => m[1]!);
      assert.ok(urls.length >= 8, d.banner);
      const simulator = d.upstream.replace(/^simulator /, "");
      for (const host of urls) assert.ok(host === d.listen || host === simulator, `${host} is neither ${d.listen} nor the simulator`);
      assert.match(d.banner, new RegExp(`status page +http://${d.listen}/\\n`));
      assert.match(d.banner, /npm start -- --listen 127\.0\.0\.1:9090/);
      assert.match(d.banner, /demo client key demo-[0-9a-f]{24}/);

      const status = await fetch(`http://${d.listen}/`);
      assert.equal(status.status, 200);
      assert.match(status.headers.get("content-type") ?? "", /text\/html/);

      const task = await runTaskLines(taskLines(d.banner));
      assert.equal(task.status, "solved", JSON.stringify(task));
      assert.equal(task.type, "image");
      assert.equal(typeof task.solution, "string");

      // After `ready` the terminal shows the demo at work: one info line per task that ended.
      const solved = await pollUntil("a task solved line", () => d.w.lines.find((l) => l.includes('"msg":"task solved"')), { timeoutMs: 20_000 });
      const rec = JSON.parse(solved) as Record<string, unknown>;
      assert.equal(rec.level, "info");
      assert.equal(typeof rec.id, "string");
      assert.ok(d.w.lines.findIndex((l) => l.includes('"msg":"ready"')) < d.w.lines.indexOf(solved));
    } finally {
      await stop(d);
    }
    assert.ok(!d.w.lines.join("\n").includes(DEMO_KEY), "the simulator's key is never logged");
  });

  test("every other command it prints runs as printed: the gateway pair (its id captured), the 2captcha-ts snippet, the balance run low and restored, a fault and its end", async (t) => {
    if (!requireProgram(t, "curl", "curl")) return;
    const d = await startDemo(["--listen", "127.0.0.1:0"]);
    try {
      assert.doesNotMatch(d.banner, /<[^>\n]*>/, "no placeholder to fill in");
      const gateway = commandsUnder(d.banner, "2captcha gateway, demo client key ");
      assert.equal(gateway.length, 2, d.banner);
      const answer = JSON.parse(sh(gateway)) as { status: number; request: string };
      assert.equal(answer.status, 1, JSON.stringify(answer));
      assert.equal(typeof answer.request, "string");

      const client = commandsUnder(d.banner, "The same through the published 2captcha-ts client");
      assert.equal(client.length, 1, d.banner);
      assert.match(sh(client), /data: '[^']+'/, "solved through the gateway, from this repository's directory");

      const [low, restore, ...more] = commandsUnder(d.banner, "Run the simulated account low, then restore it");
      assert.equal(more.length, 0);
      sh([low!]);
      await readyBecomes(d, 503, "low_balance=$0.50");
      sh([restore!]);
      await readyBecomes(d, 200);

      const [fault, clear] = commandsUnder(d.banner, "Make the simulator answer HTTP 500 to every call");
      sh([fault!]);
      await readyBecomes(d, 503);
      sh([clear!]);
      await readyBecomes(d, 200);
    } finally {
      await stop(d);
    }
  });

  test("on every interface with --api-token-file: URLs reach the bound port through loopback, and the printed commands carry the token from its file", async () => {
    const dir = tempDir("cw-demo-token-");
    const tokenFile = join(dir, "token");
    const token = "demo-test-token-0123456789abcdef";
    writeFileSync(tokenFile, token + "\n");
    const d = await startDemo(["--listen", "0.0.0.0:0", "--api-token-file", tokenFile]);
    try {
      const port = d.listen.split(":").at(-1)!;
      assert.match(d.banner, new RegExp(`listens on 0\\.0\\.0\\.0:${port} \\(every interface\\)`));
      assert.match(d.banner, new RegExp(`status page +http://127\\.0\\.0\\.1:${port}/\\n`));
      assert.ok(!d.banner.includes(token), "the banner names the token's file, not the token");
      assert.equal((await fetch(`http://127.0.0.1:${port}/v1/tasks/nope`)).status, 401, "the token is needed");
      const task = await runTaskLines(taskLines(d.banner));
      assert.equal(task.status, "solved", JSON.stringify(task));
    } finally {
      await stop(d);
    }
  });

  test("with --client-keys-file the printed commands read the first client key from the file (never printed) and run as printed", async () => {
    const dir = tempDir("cw-demo-clients-");
    const clients = join(dir, "clients");
    const key = "shop-client-key-0123456789abcdef";
    writeFileSync(clients, `# NAME KEY\n\nshop ${key} max_in_flight=5\nother other-key-0123456789abcdef\n`);
    const d = await startDemo(["--listen", "127.0.0.1:0", "--client-keys-file", clients]);
    try {
      assert.ok(!d.banner.includes(key), "the banner names the file, not the key");
      assert.ok(!d.banner.includes("demo client key"), "the file names the clients: no demo key");
      const task = await runTaskLines(taskLines(d.banner), tempDir("cw-demo-elsewhere-"));
      assert.equal(task.status, "solved", JSON.stringify(task));
    } finally {
      await stop(d);
    }
  });

  test("a relative --api-token-file is printed as an absolute path, so the commands work pasted in another directory", async () => {
    const dir = tempDir("cw-demo-token-");
    const tokenFile = join(dir, "token");
    writeFileSync(tokenFile, "demo-test-token-0123456789abcdef\n");
    const d = await startDemo(["--listen", "127.0.0.1:0", "--api-token-file", relative(ROOT, tokenFile)]);
    try {
      assert.ok(d.banner.includes(`$(cat '${tokenFile}')`), d.banner);
      const task = await runTaskLines(taskLines(d.banner), tempDir("cw-demo-elsewhere-"));
      assert.equal(task.status, "solved", JSON.stringify(task));
    } finally {
      await stop(d);
    }
  });

  test("--demo-overflow: a 2-thread plan and a per-solve simulator behind it; the banner says how, and tasks overflow to it after 5 s, each line naming its provider", async () => {
    const d = await startDemo(["--listen", "127.0.0.1:0", "--demo-overflow"]);
    try {
      assert.match(d.banner, /Overflow: the simulated CaptchaAI plan has 2 threads and a sample task arrives every 1s; a task that waits 5s for them goes to the per-solve 2captcha simulator \(\$1 per 1000 images, \$2\.99 per 1000 tokens, daily budget \$1\.00\)/);
      assert.match(d.banner, /2captcha simulator http:\/\/127\.0\.0\.1:\d+\/__sim\/counts/);
      const deps = (await (await fetch(`http://${d.listen}/health/dependencies`)).json()) as { checks: Record<string, unknown> };
      assert.deepEqual(Object.keys(deps.checks).sort(), ["2captcha_api", "captchaai_api"]);
      const solvedBy = (provider: string) => d.w.lines.some((l) => l.includes('"msg":"task solved"') && l.includes(`"provider":"${provider}"`));
      await pollUntil("solves on the plan and on the overflow", () => solvedBy("captchaai") && solvedBy("2captcha"), { timeoutMs: 40_000 });
      const metrics = await (await fetch(`http://${d.listen}/metrics`)).text();
      assert.match(metrics, /^captcha_worker_provider_threads\{provider="captchaai",state="plan"\} 2$/m);
      assert.match(metrics, /^captcha_worker_provider_budget_usd\{provider="2captcha"\} 1$/m);
      const spent = Number(/^captcha_worker_provider_spend_usd_total\{provider="2captcha"\} (\S+)$/m.exec(metrics)?.[1]);
      assert.ok(spent > 0 && spent <= 1, `spent ${spent}`);
      assert.equal((await fetch(`http://${d.listen}/health/ready`)).status, 200);
    } finally {
      await stop(d);
    }
    assert.ok(!d.w.lines.join("\n").includes(DEMO_KEY), "the simulators' key is never logged");
  });

  test("--demo-overflow: its printed commands run as printed; the plan run low is a failover to watch (a provider down line, readiness 200), not an outage", async (t) => {
    if (!requireProgram(t, "curl", "curl")) return;
    const d = await startDemo(["--listen", "127.0.0.1:0", "--demo-overflow"]);
    try {
      assert.doesNotMatch(d.banner, /<[^>\n]*>/, "no placeholder to fill in");
      assert.match(d.banner, /Another address: npm start -- --demo-overflow --listen 127\.0\.0\.1:9090 \(the executable: captcha-worker run --demo --demo-overflow --listen/);
      // The plan's threads are busy: a gateway task waits 5 s for them, then goes to 2captcha. The read asks until it is in.
      const answer = JSON.parse(sh(commandsUnder(d.banner, "2captcha gateway, demo client key "))) as { status: number; request: string };
      assert.equal(answer.status, 1, JSON.stringify(answer));

      const warnings = async () => {
        const r = await fetch(`http://${d.listen}/health/ready`);
        return { status: r.status, warnings: ((await r.json()) as { warnings: string[] }).warnings };
      };
      const logged = (msg: string) => d.w.lines.some((l) => l.includes(`"msg":"${msg}"`) && l.includes('"provider":"captchaai"'));
      const [low, restore] = commandsUnder(d.banner, "Run the plan's simulated account low, then restore it");
      sh([low!]);
      await pollUntil("the plan down", async () => (await warnings()).warnings.includes("provider_down=captchaai:low_balance=$0.50"), { timeoutMs: 30_000, intervalMs: 100 });
      assert.equal((await warnings()).status, 200, "2captcha takes the work: still ready");
      await pollUntil("a provider down line", () => logged("provider down"), { timeoutMs: 5000 });
      sh([restore!]);
      await pollUntil("the plan back", async () => (await warnings()).warnings.length === 0, { timeoutMs: 30_000, intervalMs: 100 });
      await pollUntil("a provider up line", () => logged("provider up"), { timeoutMs: 5000 });
    } finally {
      await stop(d);
    }
  });
});
