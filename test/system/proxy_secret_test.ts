/**
 * A task's proxy password is a secret as the CaptchaAI key is (docs/task-api.md: Proxies): real `run`
 * processes take proxied tasks of several types through /v1/tasks, in.php and createTask, meet an
 * upstream that echoes the password back in every spelling the key spellings test uses (error
 * codes, an HTML page, solutions, the user agent beside them) and one that refuses the proxy
 * (ERROR_BAD_PROXY at submit, ERROR_PROXY_CONNECTION_FAILED at a poll), refuse malformed proxies,
 * and are read through every API, the status page, the health documents, /v1/types and /metrics;
 * then everything answered, logged and printed is searched for the password. The journal keeps it
 * (a queued task is submitted after a restart through the same proxy) only while the task may
 * still need it: once the task has ended, the next start's compaction leaves no trace of it.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import type { ChildProcess } from "node:child_process";
import { startSimulator } from "../../src/sim/simulator.ts";
import { collectOutput, spawnCli, waitForStart } from "../_support/cli.ts";
import { PNG_B64 } from "../_support/images.ts";
import { findSecret, keySpellings } from "../_support/key_spellings.ts";
import { startScriptedUpstream } from "../_support/scripted_upstream.ts";
import { tempDir } from "../_support/temp_dirs.ts";

const CLIENT_KEY = "proxy-secret-client-0123456789abc";
const SIM_KEY = "proxy-secret-upstream-key-012345";
/** Two passwords: letters and digits, and one with the characters form encoding treats apart (and a colon). */
const PASSWORDS = ["PXSECRET0123456789abcdefZ", "PXSECRET!pw'(all):~five*-._"];
const LOGIN = "scraper7";
const HOST = "10.20.30.40";
const PORT = 3128;
const PAGE = "https://example.com/login";
const UA = "Mozilla/5.0 (X11; Linux x86_64) ProxySecretTest/1.0";
const bearer = { authorization: `Bearer ${CLIENT_KEY}` };

type Api = "native" | "legacy" | "v2";
type Json = Record<string, unknown>;

/** A proxied task of a few types, as each API sends it; `password` in each API's own place. */
const TYPES: { native: Json; legacy: Record<string, string>; v2: Json; proxytype?: string }[] = [
  { native: { type: "turnstile", sitekey: "0x4AAAAAAAC3DHQFLr1GavRN", pageurl: PAGE }, legacy: { method: "turnstile", sitekey: "0x4AAAAAAAC3DHQFLr1GavRN", pageurl: PAGE }, v2: { type: "TurnstileTask", websiteKey: "0x4AAAAAAAC3DHQFLr1GavRN", websiteURL: PAGE } },
  { native: { type: "recaptcha_v2", sitekey: "6Le-wvkSAAAAAPBMRTvw0Q4Muexq9bi0DJwx_mJ-", pageurl: PAGE, useragent: UA }, legacy: { method: "userrecaptcha", googlekey: "6Le-wvkSAAAAAPBMRTvw0Q4Muexq9bi0DJwx_mJ-", pageurl: PAGE, userAgent: UA }, v2: { type: "RecaptchaV2Task", websiteKey: "6Le-wvkSAAAAAPBMRTvw0Q4Muexq9bi0DJwx_mJ-", websiteURL: PAGE, userAgent: UA } },
  { native: { type: "captchafox", sitekey: "sk-captchafox-0123", pageurl: PAGE, useragent: UA }, legacy: { method: "captchafox", sitekey: "sk-captchafox-0123", pageurl: PAGE, userAgent: UA }, v2: { type: "CaptchaFoxTask", websiteKey: "sk-captchafox-0123", websiteURL: PAGE, userAgent: UA } },
  { native: { type: "geetest", gt: "81388ea1fc187e0c335c0a8907ff2625", challenge: "12345678abc90123d45678ef90123a456b", pageurl: PAGE }, legacy: { method: "geetest", gt: "81388ea1fc187e0c335c0a8907ff2625", challenge: "12345678abc90123d45678ef90123a456b", pageurl: PAGE }, v2: { type: "GeeTestTask", gt: "81388ea1fc187e0c335c0a8907ff2625", challenge: "12345678abc90123d45678ef90123a456b", websiteURL: PAGE } },
  { native: { type: "cloudflare_challenge", pageurl: PAGE }, legacy: { method: "cloudflare_challenge", pageurl: PAGE }, v2: { type: "AntiCloudflareTask", websiteURL: PAGE }, proxytype: "HTTPS" },
];

/** The request that posts task `i` through `api` with `password`'s proxy (`port` to make it malformed). */
function posting(api: Api, i: number, password: string, port: number | string = PORT): [string, RequestInit] {
  const t = TYPES[i % TYPES.length]!;
  const proxytype = t.proxytype ?? "HTTP";
  const proxy = `${LOGIN}:${password}@${HOST}:${port}`;
  if (api === "native") return ["/v1/tasks", { method: "POST", headers: { "content-type": "application/json", ...bearer }, body: JSON.stringify({ ...t.native, proxy, proxytype }) }];
  if (api === "legacy") return ["/in.php", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ key: CLIENT_KEY, json: "1", ...t.legacy, proxy, proxytype }).toString() }];
  const task = { ...t.v2, proxyType: proxytype.toLowerCase(), proxyAddress: HOST, proxyPort: port, proxyLogin: LOGIN, proxyPassword: password };
  return ["/createTask", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ clientKey: CLIENT_KEY, task }) }];
}

/** The task id an API answered a submit with; undefined for a refusal. */
function idOf(api: Api, body: string): string | undefined {
  const b = JSON.parse(body) as Json;
  const id = api === "native" ? b.id : api === "legacy" ? (b.status === 1 ? b.request : undefined) : b.errorId === 0 ? b.taskId : undefined;
  return id === undefined ? undefined : String(id);
}

/** Everything a process answered or printed: where, and the text. */
type Corpus = { where: string; text: string }[];

function recorder(base: () => string, corpus: Corpus) {
  return async (path: string, init: RequestInit = {}): Promise<{ status: number; text: string }> => {
    const res = await fetch(base() + path, init);
    const text = await res.text();
    corpus.push({ where: `${init.method ?? "GET"} ${path} (${res.status})`, text: `${[...res.headers].map(([k, v]) => `${k}: ${v}`).join("\n")}\n\n${text}` });
    return { status: res.status, text };
  };
}

function leaks(corpus: Corpus, password: string): string[] {
  return corpus.flatMap(({ where, text }) => findSecret(text, password).map((f) => `${f} in ${where}`));
}

async function stopped(child: ChildProcess, exited: Promise<unknown>): Promise<void> {
  child.kill("SIGTERM");
  assert.deepEqual(await exited, [0, null], "SIGTERM: a clean stop");
}

function workerArgs(upstream: URL, dir: string, extra: string[] = []): string[] {
  writeFileSync(join(dir, "clients"), `alpha ${CLIENT_KEY}\n`);
  return [
    "run", "--listen", "127.0.0.1:0", "--upstream", upstream.href, "--log-level", "debug", "--client-keys-file", join(dir, "clients"), "--state-dir", join(dir, "state"),
    "--first-poll", "0s", "--poll-interval", "20ms", "--task-timeout", "30s", "--max-consecutive-failures", "1000", "--max-error-rate", "1", ...extra,
  ];
}

describe("proxy passwords never leave the worker", () => {
  for (const password of PASSWORDS) {
    test(`echoed by the upstream in every spelling, refused and failing, read through every API: ${password.slice(0, 12)}...`, async () => {
      const echoes = Object.entries(keySpellings(password));
      for (const [name, s] of echoes) assert.notDeepEqual(findSecret(`x ${s} y`, password), [], `the search finds ${name}`);
      const all = echoes.map(([, s]) => s).join(" | ");
      const upstream = await startScriptedUpstream();
      /** The password of each upstream id's task, as the upstream knows it from the submit. */
      const proxyOf = new Map<string, string>();
      let submits = 0;
      let polls = 0;
      upstream.answer((req, res) => {
        const form = new URLSearchParams(req.body);
        const json = (body: Json) => void res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body));
        if (req.url.startsWith("/in.php")) {
          const n = submits++;
          const pw = /:(.*)@/.exec(form.get("proxy") ?? "")?.[1] ?? "";
          const spelled = Object.values(keySpellings(pw));
          if (n < spelled.length) return json({ status: 0, request: `ERROR_${spelled[n]}` }); // an unknown code: the task's error.code
          if (n === spelled.length) return void res.writeHead(200, { "content-type": "text/html" }).end(`<html><body>${Object.values(keySpellings(pw)).join(" ")}</body></html>`);
          if (n === spelled.length + 1) return json({ status: 0, request: "ERROR_BAD_PROXY" });
          if (n === spelled.length + 2) return json({ status: 0, request: "ERROR_PROXY_CONNECTION_FAILED" });
          proxyOf.set(`id${n}`, pw);
          return json({ status: 1, request: `id${n}` });
        }
        const action = form.get("action");
        if (action === "getbalance") return json({ status: 1, request: "100" });
        if (action === "get") {
          const pw = proxyOf.get(form.get("id") ?? "") ?? "";
          const spelled = Object.values(keySpellings(pw)).join(" | ");
          // Each poll answers another way: a failing proxy quoted, a solution quoting it, the user agent quoting it.
          switch (polls++ % 3) {
            case 0: return json({ status: 0, request: `ERROR_PROXY_CONNECTION_FAILED ${spelled}` });
            case 1: return json({ status: 1, request: `0.token-${spelled}` });
            default: return json({ status: 1, request: "0.token-plain", user_agent: `${UA} ${spelled}` });
          }
        }
        return json({ status: 1, request: "OK_REPORT_RECORDED" });
      });
      const dir = tempDir("cw-proxy-secret-");
      const child = spawnCli(workerArgs(upstream.url, dir), { CAPTCHAAI_API_KEY: SIM_KEY });
      const out = collectOutput(child);
      const exited = once(child, "exit") as Promise<[number | null, string | null]>;
      const corpus: Corpus = [];
      let base = "";
      const call = recorder(() => base, corpus);
      try {
        base = `http://${(await waitForStart(child)).listen}`;
        for (let i = 0; i < 200 && (await fetch(base + "/health/ready")).status !== 200; i++) await new Promise((r) => setTimeout(r, 20));
        const apis: Api[] = ["native", "legacy", "v2"];
        const ended: { api: Api; id: string; status: string; code: string }[] = [];
        for (let i = 0; i < echoes.length + 3 + 9; i++) {
          const api = apis[i % 3]!;
          const posted = await call(...posting(api, i, password));
          const id = idOf(api, posted.text);
          assert.ok(id, `${api} ${i}: ${posted.text}`);
          const task = JSON.parse((await call(`/v1/tasks/${id}?wait=20`, { headers: bearer })).text) as { status: string; error?: { code: string } };
          ended.push({ api, id, status: task.status, code: task.error?.code ?? "" });
          // And through the API it came by.
          if (api === "legacy") {
            for (const json of ["1", "0"]) await call(`/res.php?key=${CLIENT_KEY}&action=get&id=${id}&json=${json}`);
            await call(`/res.php?key=${CLIENT_KEY}&action=get2&id=${id}&json=1`);
          } else if (api === "v2") {
            await call("/getTaskResult", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ clientKey: CLIENT_KEY, taskId: Number(id) }) });
          }
        }
        assert.ok(ended.filter((t) => t.code.includes("[REDACTED]")).length >= echoes.length, JSON.stringify(ended));
        assert.ok(ended.some((t) => t.code === "ERROR_BAD_PROXY") && ended.some((t) => t.code === "ERROR_PROXY_CONNECTION_FAILED"), JSON.stringify(ended));
        assert.ok(ended.filter((t) => t.status === "solved").length >= 4, JSON.stringify(ended));
        // Refusals of proxies carrying the password: a bad port, a bad type, on every API; a body that is no JSON.
        for (const api of apis) {
          const bad = await call(...posting(api, 1, password, 70_000));
          assert.equal(idOf(api, bad.text), undefined, bad.text);
          const [path, init] = posting(api, 0, password);
          await call(path, { ...init, body: String(init.body).replace(/HTTP|http/, "FTP") });
          await call(path, { ...init, body: String(init.body).slice(0, -3) });
        }
        await call("/v1/tasks", { method: "POST", headers: { "content-type": "application/json", ...bearer }, body: JSON.stringify({ type: "image", image: PNG_B64, proxy: `${LOGIN}:${password}@${HOST}:${PORT}`, proxytype: "HTTP" }) });
        for (const path of ["/", "/?format=json", "/health", "/health/ready", "/health/dependencies", "/health/history", "/metrics", "/v1/types"]) await call(path);
        await stopped(child, exited);
        corpus.push({ where: "run --log-level debug (stdout+stderr)", text: out.text() });
        // The password did go where it belongs: upstream, in the in.php form's proxy.
        const form = new URLSearchParams({ p: `${LOGIN}:${password}@${HOST}:${PORT}` }).toString().slice(2);
        assert.ok(upstream.requests.filter((r) => r.url.startsWith("/in.php")).every((r) => r.body.includes(`proxy=${form}&`) || r.body.endsWith(`proxy=${form}`)), "the proxy travels to in.php whole");
        assert.ok(corpus.length > 100, `searched ${corpus.length} outputs`);
        assert.deepEqual(leaks(corpus, password), []);
        assert.match(out.text(), /\[REDACTED\]/, "the redactor had something to do");
      } finally {
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
        await upstream.close();
      }
    });
  }

  test("the journal keeps a queued task's proxy, so it is submitted through it after a restart, and drops it once the task has ended", async () => {
    const password = PASSWORDS[1]!;
    // The simulator in this process on the real clock: 1.5 s solves, so the first task holds the one thread across the restart.
    const sim = await startSimulator({ host: "127.0.0.1", port: 0 }, { keys: [SIM_KEY], seed: 3, solveTimeMs: { image: 1500, token: 1500 } });
    const dir = tempDir("cw-proxy-journal-");
    const journal = join(dir, "state", "tasks.journal");
    const corpus: Corpus = [];
    let base = "";
    const call = recorder(() => base, corpus);
    const start = async () => {
      const child = spawnCli(workerArgs(sim.url, dir, ["--threads", "1", "--drain-timeout", "1s"]), { CAPTCHAAI_API_KEY: SIM_KEY });
      const out = collectOutput(child);
      const exited = once(child, "exit") as Promise<[number | null, string | null]>;
      base = `http://${(await waitForStart(child)).listen}`;
      for (let i = 0; i < 200 && (await fetch(base + "/health/ready")).status !== 200; i++) await new Promise((r) => setTimeout(r, 20));
      return { child, out, exited };
    };
    try {
      let w = await start();
      const firstPost = await call("/v1/tasks", { method: "POST", headers: { "content-type": "application/json", ...bearer }, body: JSON.stringify({ type: "turnstile", sitekey: "0x4AAAAAAAC3DHQFLr1GavRN", pageurl: PAGE }) });
      const first = idOf("native", firstPost.text)!;
      assert.ok(first, firstPost.text);
      for (let i = 0; i < 200 && sim.counts().submitted < 1; i++) await new Promise((r) => setTimeout(r, 10));
      const queuedPost = await call(...posting("v2", 0, password));
      const queued = idOf("v2", queuedPost.text)!;
      assert.ok(queued, queuedPost.text);
      assert.equal(JSON.parse((await call(`/v1/tasks/${queued}`, { headers: bearer })).text).status, "queued");
      await stopped(w.child, w.exited);
      corpus.push({ where: "first run", text: w.out.text() });
      // On disk while the task may still be submitted: the state dir is the worker's own.
      assert.ok(readFileSync(journal, "utf8").includes(password), "the queued task's proxy password is journaled");
      assert.equal(statSync(journal).mode & 0o777, 0o600);
      assert.equal(statSync(join(dir, "state")).mode & 0o777, 0o700);

      w = await start();
      const solved = JSON.parse((await call(`/v1/tasks/${queued}?wait=20`, { headers: bearer })).text) as { status: string };
      assert.equal(solved.status, "solved");
      assert.equal(JSON.parse((await call(`/v1/tasks/${first}?wait=20`, { headers: bearer })).text).status, "solved");
      const sent = sim.submits().filter((f) => f.proxy !== undefined);
      assert.deepEqual(sent.map((f) => [f.method, f.proxy, f.proxytype]), [["turnstile", `${LOGIN}:${password}@${HOST}:${PORT}`, "HTTP"]], "submitted once, after the restart, through the journaled proxy");
      // A failing proxy after the restart, through the simulator: at submit, then at a poll.
      sim.control.setFault("in.php", { error: "ERROR_BAD_PROXY" });
      const badAtSubmit = idOf("legacy", (await call(...posting("legacy", 0, password))).text)!;
      assert.equal(JSON.parse((await call(`/v1/tasks/${badAtSubmit}?wait=20`, { headers: bearer })).text).error.code, "ERROR_BAD_PROXY");
      sim.control.clearFaults();
      sim.control.setFault("res.php:get", { error: "ERROR_PROXY_CONNECTION_FAILED" });
      const badAtPoll = idOf("native", (await call(...posting("native", 0, password))).text)!;
      assert.equal(JSON.parse((await call(`/v1/tasks/${badAtPoll}?wait=20`, { headers: bearer })).text).error.code, "ERROR_PROXY_CONNECTION_FAILED");
      sim.control.clearFaults();
      for (const path of ["/", "/?format=json", "/health", "/metrics"]) await call(path);
      await stopped(w.child, w.exited);
      corpus.push({ where: "second run", text: w.out.text() });

      // Every task has ended: the next start compacts the journal, and the password is gone from the disk.
      w = await start();
      assert.equal(JSON.parse((await call(`/v1/tasks/${queued}`, { headers: bearer })).text).status, "solved", "the ended task still reads");
      const disk = readFileSync(journal, "utf8");
      assert.deepEqual(findSecret(disk, password), [], "no trace of the password on disk once its tasks have ended");
      await stopped(w.child, w.exited);
      corpus.push({ where: "third run", text: w.out.text() });
      assert.deepEqual(leaks(corpus, password), []);
    } finally {
      await sim.close();
    }
  });
});
