/**
 * The CaptchaAI key never leaves the process (docs/configuration.md): every command, every endpoint, task
 * successes and failures, upstream faults, and an upstream that echoes the key back in its
 * answers; then everything printed, logged and answered is searched for the key, raw, URL-encoded
 * and base64-encoded, and for a distinctive part of it.
 */
import { testProcess } from "../_support/process_stats.ts";
import assert from "node:assert/strict";
import { once } from "node:events";
import { test } from "node:test";
import { parseConfig } from "../../src/config/parse_config.ts";
import { createLogger } from "../../src/base/log.ts";
import type { Fault, Selector } from "../../src/sim/faults.ts";
import { startSimulator } from "../../src/sim/simulator.ts";
import { startWorker, type Worker } from "../../src/app/start.ts";
import { collectOutput, runMain, spawnCli, waitForStart } from "../_support/cli.ts";
import { FakeClock } from "../_support/fake_clock.ts";
import { advance, eventually } from "../_support/harness.ts";
import { startScriptedUpstream } from "../_support/scripted_upstream.ts";
import { pngOfSize } from "../_support/images.ts";

/** `/`, `+` and `=` make the URL-encoded form differ from the raw one. */
const KEY = "sk-DISTINCTIVE/01234567+abcd=XYZ";
const NEEDLES: Record<string, string> = {
  raw: KEY,
  "url-encoded": encodeURIComponent(KEY),
  "form-encoded": new URLSearchParams({ k: KEY }).toString().slice(2),
  base64: Buffer.from(KEY).toString("base64"),
  base64url: Buffer.from(KEY).toString("base64url"),
  "distinctive part": "DISTINCTIVE",
};
const IMAGE = { type: "image", image: pngOfSize(150, 2).toString("base64") };
const FLAGS = { listen: "127.0.0.1:0", "task-timeout": "30s", "balance-ttl": "10s" };
const TRANSPORT_FAULTS: Fault[] = [{ html: true }, { garbage: true }, { status: 500 }, { drop: true }, { hang: true }];

/** Everything that left a process: where it was seen, and the text. */
type Corpus = { where: string; text: string }[];

function leaks(corpus: Corpus): string[] {
  const found: string[] = [];
  for (const { where, text } of corpus) {
    for (const [form, needle] of Object.entries(NEEDLES)) if (text.includes(needle)) found.push(`${form} key in ${where}`);
  }
  return found;
}

/** Fetches, and puts the status line, every header and the body into the corpus. */
function recorder(corpus: Corpus) {
  return async (base: string, path: string, init: RequestInit = {}): Promise<{ status: number; body: string }> => {
    const res = await fetch(base + path, init);
    const body = await res.text();
    const headers = [...res.headers].map(([k, v]) => `${k}: ${v}`).join("\n");
    corpus.push({ where: `${init.method ?? "GET"} ${path} (${res.status})`, text: `${res.status} ${res.statusText}\n${headers}\n\n${body}` });
    return { status: res.status, body };
  };
}

const postJson = (body: unknown, path = "/v1/tasks") =>
  [path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) }] as const;

async function startKeyedWorker(upstreamUrl: URL, clock: FakeClock, logs: string[]): Promise<Worker> {
  // As run does: the logger knows the key and redacts it from every finished line.
  const log = createLogger({ level: "debug", write: (l) => logs.push(l), secrets: [KEY] });
  const { config } = parseConfig(FLAGS, {});
  const worker = await startWorker({ process: testProcess, config, upstreamUrl, apiKey: KEY, clock, log, random: () => 0.5 });
  await eventually(() => worker.view.phase === "running", "startup");
  return worker;
}

test("the CaptchaAI key appears in no output, log line, response body or header, and no URL", async () => {
  const corpus: Corpus = [];
  const call = recorder(corpus);
  const clock = new FakeClock();
  const logs: string[] = [];

  // 1. A worker on the simulator: every endpoint, tasks solved and failed, every upstream fault.
  const sim = await startSimulator({ host: "127.0.0.1", port: 0 }, { keys: [KEY], clock, seed: 5, solveTimeMs: { image: 4000, token: 12_000 } });
  const worker = await startKeyedWorker(sim.url, clock, logs);
  const base = `http://127.0.0.1:${worker.address.port}`;
  const fault = (selector: Selector, f: Fault) => {
    sim.control.clearFaults();
    sim.control.setFault(selector, f);
  };
  const submitAndRun = async (ms: number): Promise<{ id: string; status: string; code: string | undefined }> => {
    const posted = await call(base, ...postJson(IMAGE));
    assert.equal(posted.status, 202, posted.body);
    const id = (JSON.parse(posted.body) as { id: string }).id;
    await advance(clock, ms);
    const task = JSON.parse((await call(base, `/v1/tasks/${id}`)).body) as { id: string; status: string; error?: { code: string } };
    return { id, status: task.status, code: task.error?.code };
  };
  try {
    for (const path of ["/", "/health", "/health/live", "/health/ready", "/health/startup", "/health/dependencies", "/metrics"]) {
      assert.equal((await call(base, path)).status, 200, path);
      await call(base, path, { method: "HEAD" });
    }
    await call(base, "/nope");
    await call(base, "/health/live", { method: "POST" });

    const solved = await submitAndRun(6000);
    assert.equal(solved.status, "solved");
    assert.equal((await call(base, ...postJson({ correct: true }, `/v1/tasks/${solved.id}/report`))).status, 200);
    await call(base, `/v1/tasks/${solved.id}?wait=1`);
    await call(base, ...postJson({ type: "image" }));
    await call(base, ...postJson({ type: "image", image: IMAGE.image, colour: "red" }));
    await call(base, "/v1/tasks", { method: "POST", headers: { "content-type": "application/json" }, body: "{not json" });
    await call(base, "/v1/tasks", { method: "POST", headers: { "content-type": "text/plain" }, body: "hello" });
    await call(base, "/v1/tasks/does-not-exist");
    await call(base, "/v1/tasks?wait=999", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(IMAGE) });

    fault("res.php:get", { error: "ERROR_BAD_PARAMETERS" });
    const failed = await submitAndRun(6000);
    assert.deepEqual([failed.status, failed.code], ["failed", "ERROR_BAD_PARAMETERS"]);
    assert.equal((await call(base, ...postJson({ correct: false }, `/v1/tasks/${failed.id}/report`))).status, 409);

    for (const f of TRANSPORT_FAULTS) {
      fault("in.php", f);
      const t = await submitAndRun(6000);
      assert.deepEqual([t.status, t.code], ["failed", "SUBMIT_UNCERTAIN"], JSON.stringify(f));
    }
    for (const f of [...TRANSPORT_FAULTS.filter((x) => !x.hang), { error: "ERROR_WRONG_USER_KEY" }, { error: "ERROR_KEY_DOES_NOT_EXIST" }]) {
      fault("res.php:getbalance", f);
      await worker.checks.refresh("captchaai_api");
      assert.ok(worker.checks.result("captchaai_api")!.error, JSON.stringify(f));
      for (const path of ["/health/dependencies", "/health", "/health/ready", "/", "/metrics"]) await call(base, path);
    }
    // Back to health: the key re-checks and circuit trials after the faults log their own lines.
    sim.control.clearFaults();
    await advance(clock, 70_000, 1000);
    assert.equal(sim.counts().keyInQuery, 0, "the key never in a URL");
    assert.equal(sim.counts().submitted, 2, "the solved and the failed task; the faulted submits never reached it");

    // 2. The CLI in-process: every command, against this worker where one is needed.
    const env = { CAPTCHAAI_API_KEY: KEY };
    const cli: [number, string[], Record<string, string>, Record<string, string>?][] = [
      [0, ["config"], env],
      [0, ["config", "--log-level", "debug", "--log-format", "text"], env],
      [0, ["config"], { CAPTCHAAI_API_KEY_FILE: "/run/key" }, { "/run/key": KEY + "\n" }],
      [0, ["config", "--api-key-file", "/run/key"], {}, { "/run/key": KEY }],
      [78, ["config"], { CAPTCHAAI_API_KEY: `${KEY} ${KEY}` }],
      [78, ["config", "--threads", "many"], env],
      [78, ["run", "--threads", "0"], env],
      // The providers file: keys read from key-files, listed redacted; a key pasted anywhere in a bad line is never quoted.
      [0, ["config", "--providers-file", "/p"], {}, { "/p": "cai legacy https://ocr.captchaai.com key-file=/run/key threads=2\n", "/run/key": KEY }],
      [78, ["config", "--providers-file", "/p"], {}, { "/p": `cai legacy https://ocr.captchaai.com/?key=${KEY} key-file=/run/key threads=2\n`, "/run/key": KEY }],
      [78, ["run", "--providers-file", "/p"], {}, { "/p": `cai legacy https://ocr.captchaai.com key-file=/run/key threads=2 ${KEY}\n`, "/run/key": KEY }],
      [78, ["run", "--providers-file", "/p"], {}, { "/p": `${KEY} legacy https://ocr.captchaai.com key-file=/run/key threads=${KEY}\n`, "/run/key": KEY }],
      [78, ["config", "--providers-file", "/p"], {}, { "/p": "cai legacy https://ocr.captchaai.com key-file=/run/key threads=2\n", "/run/key": `${KEY} ${KEY}` }],
      [2, ["run", "--no-such-flag"], env],
      [0, ["--help"], env],
      [0, ["--version"], env],
      [0, ["help"], env],
      [0, ["probe", "live", "--url", base], env],
      [0, ["probe", "ready", "--url", base], env],
      [0, ["probe", "deps", "--url", base], env],
      [0, ["status", "--url", base], env],
      [0, ["status", "--url", base, "--json"], env],
    ];
    for (const [exit, argv, e, files] of cli) {
      const r = await runMain(argv, e, files);
      corpus.push({ where: `captcha-worker ${argv.join(" ")} (exit ${r.code})`, text: r.stdout + r.stderr });
      assert.equal(r.code, exit, `${argv.join(" ")}: ${r.stdout}${r.stderr}`);
    }
    assert.match(corpus.find((c) => c.where.startsWith("captcha-worker config (exit 0)"))!.text, /\[REDACTED: 32 characters\]/);
    assert.ok(corpus.some((c) => c.where === "captcha-worker config (exit 78)"), "a malformed key is refused");
  } finally {
    await worker.close();
    await sim.close();
  }

  // 3. An upstream that echoes the key back: in error codes, HTML pages, unparseable bodies.
  const echo = await startScriptedUpstream();
  let mode = "ok";
  echo.answer((req, res) => {
    const form = new URLSearchParams(req.body);
    const json = (status: number, request: string) => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ status, request }));
    const where = req.url.startsWith("/in.php") ? "in" : form.get("action") === "getbalance" ? "balance" : "get";
    const key = form.get("key") ?? "";
    // Only the endpoint the mode names misbehaves; the others answer as the protocol does.
    if (!mode.startsWith(`${where}-`)) return json(1, where === "in" ? "4242" : where === "balance" ? "5.5" : "solution");
    if (mode.endsWith("-code")) return json(0, `ERROR_${key}`);
    if (mode.endsWith("-body")) return json(0, req.body);
    if (mode.endsWith("-html")) return void res.writeHead(502, { "content-type": "text/html" }).end(`<html><body>bad gateway for ${req.body} (${key})</body></html>`);
    if (mode.endsWith("-text")) return void res.writeHead(200, { "content-type": "text/plain" }).end(`unexpected: key ${key} in ${req.body}`);
    return void res.writeHead(500).end(`internal error for ${key}`);
  });
  const echoLogs: string[] = [];
  const echoClock = new FakeClock();
  const echoWorker = await startKeyedWorker(echo.url, echoClock, echoLogs);
  const echoBase = `http://127.0.0.1:${echoWorker.address.port}`;
  try {
    const outcomes: Record<string, string> = {};
    for (const m of ["in-code", "in-body", "in-html", "in-text", "in-500", "get-code", "get-body"]) {
      mode = m;
      const posted = await call(echoBase, ...postJson(IMAGE));
      assert.equal(posted.status, 202, `${m}: ${posted.body}`);
      await advance(echoClock, 6000);
      const task = JSON.parse((await call(echoBase, `/v1/tasks/${(JSON.parse(posted.body) as { id: string }).id}`)).body) as { status: string; error?: { code: string } };
      outcomes[m] = `${task.status} ${task.error?.code ?? ""}`.trim();
      await advance(echoClock, 6000); // past a circuit cool-down, should this one have opened it
    }
    // An unknown code is the task's error.code as the upstream sent it, so it too is redacted.
    const expected: Record<string, RegExp> = {
      "in-code": /^failed ERROR_\[REDACTED\]$/,
      "in-body": /^failed key=\[REDACTED\]&/,
      "in-html": /^failed SUBMIT_UNCERTAIN$/,
      "in-text": /^failed SUBMIT_UNCERTAIN$/,
      "in-500": /^failed SUBMIT_UNCERTAIN$/,
      "get-code": /^failed ERROR_\[REDACTED\]$/,
      "get-body": /^failed key=\[REDACTED\]&/,
    };
    for (const [m, re] of Object.entries(expected)) assert.match(outcomes[m]!, re, m);
    for (const m of ["balance-code", "balance-body", "balance-html", "balance-text", "balance-500"]) {
      mode = m;
      await echoWorker.checks.refresh("captchaai_api");
      assert.ok(echoWorker.checks.result("captchaai_api")!.error, m);
      for (const path of ["/health/dependencies", "/health", "/health/ready", "/", "/metrics"]) await call(echoBase, path);
    }
    // The echoes really carried the key: the worker's own redaction is what kept it out.
    assert.ok(echo.requests.every((r) => r.body.includes(NEEDLES["form-encoded"]!)), "the key travels in every POST body");
    assert.ok(echo.requests.every((r) => !r.url.includes("DISTINCTIVE") && !r.url.includes(NEEDLES["url-encoded"]!)), "never in a URL");
    assert.ok(echoLogs.some((l) => l.includes("[REDACTED]")), "the logger had a key to redact");
  } finally {
    await echoWorker.close();
    await echo.close();
  }
  corpus.push(...logs.map((l) => ({ where: "worker log", text: l })), ...echoLogs.map((l) => ({ where: "echo worker log", text: l })));

  // 4. Real processes: `run` at debug level solving and failing a task, then SIGTERM; a bad flag.
  const liveSim = await startSimulator({ host: "127.0.0.1", port: 0 }, { keys: [KEY], seed: 6, solveTimeMs: { image: 20, token: 20 } });
  const child = spawnCli(
    ["run", "--listen", "127.0.0.1:0", "--upstream", liveSim.url.href, "--log-level", "debug", "--first-poll", "0s", "--poll-interval", "20ms"],
    { CAPTCHAAI_API_KEY: KEY },
  );
  const out = collectOutput(child);
  const exited = once(child, "exit") as Promise<[number | null, string | null]>;
  const badFlag = spawnCli(["run", "--no-such-flag"], { CAPTCHAAI_API_KEY: KEY });
  const badOut = collectOutput(badFlag);
  const badExit = once(badFlag, "exit") as Promise<[number | null, string | null]>;
  try {
    const { listen } = await waitForStart(child);
    const childBase = `http://${listen}`;
    // A real process on the real clock: poll (bounded) until its first balance check has ended.
    for (let i = 0; i < 500 && (await fetch(childBase + "/health/ready")).status !== 200; i++) await new Promise((r) => setTimeout(r, 10));
    const solvedRun = JSON.parse((await call(childBase, ...postJson(IMAGE, "/v1/tasks?wait=20"))).body) as { status: string };
    assert.equal(solvedRun.status, "solved");
    liveSim.control.setFault("in.php", { html: true });
    const failedRun = JSON.parse((await call(childBase, ...postJson(IMAGE, "/v1/tasks?wait=20"))).body) as { status: string; error?: { code: string } };
    assert.equal(failedRun.error?.code, "SUBMIT_UNCERTAIN");
    liveSim.control.clearFaults();
    for (const path of ["/", "/health", "/health/ready", "/health/dependencies", "/metrics"]) await call(childBase, path);
    for (const argv of [["probe", "live", "--url", childBase], ["status", "--url", childBase]]) {
      const r = await runMain(argv, { CAPTCHAAI_API_KEY: KEY });
      assert.equal(r.code, 0, r.stderr);
      corpus.push({ where: `captcha-worker ${argv.join(" ")} (exit ${r.code})`, text: r.stdout + r.stderr });
    }
    child.kill("SIGTERM");
    assert.deepEqual(await exited, [0, null], "SIGTERM: a clean stop");
    assert.deepEqual(await badExit, [2, null], "an unknown flag is a usage error");
    assert.match(out.text(), /"level":"debug"/, "debug lines were written");
    corpus.push({ where: "run --log-level debug (stdout+stderr)", text: out.text() }, { where: "run --no-such-flag (stdout+stderr)", text: badOut.text() });
    assert.equal(liveSim.counts().keyInQuery, 0, "the key never in a URL");
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    if (badFlag.exitCode === null && badFlag.signalCode === null) badFlag.kill("SIGKILL");
    await liveSim.close();
  }

  assert.ok(corpus.length > 100, `searched ${corpus.length} outputs`);
  assert.deepEqual(leaks(corpus), []);
  for (const [form, needle] of Object.entries(NEEDLES)) {
    assert.ok(leaks([{ where: "self-test", text: `x${needle}x` }]).includes(`${form} key in self-test`), `the search finds the ${form} key`);
  }
});
