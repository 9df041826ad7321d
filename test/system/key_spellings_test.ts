/**
 * An upstream that echoes the key back in every spelling (raw and upper-cased; percent-encoded in
 * upper and lower case; form-encoded as URLSearchParams writes it, `! ' ( ) ~` included; JSON `\u`
 * escapes; HTML decimal and hex entities; hex; base64 and base64url at the three byte alignments) in solutions, error codes and HTML pages: a real `run` process never lets
 * one out through GET /v1/tasks/{id}, the health documents, the status page, metrics or its logs.
 * The search decodes what it finds (percent escapes, base64 runs at any bit offset), so it does not
 * share the redactor's idea of what a spelling is.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { test } from "node:test";
import { collectOutput, spawnCli, waitForStart } from "../_support/cli.ts";
import { findSecret as findKey, keySpellings } from "../_support/key_spellings.ts";
import { pollUntil } from "../_support/net.ts";
import { startScriptedUpstream } from "../_support/scripted_upstream.ts";
import { PNG_B64 } from "../_support/images.ts";

const KEYS = ["DISTINCT0123456789abcdef0123456789", "DISTINCT!key'with(all)~five*-._"];

test("a key echoed by the upstream in any spelling never leaves the worker: solutions, error codes, HTML, health, logs", async () => {
  for (const key of KEYS) {
    const echoes = Object.entries(keySpellings(key));
    // The search finds every spelling the upstream sends, so a clean result means redaction worked.
    for (const [name, s] of echoes) assert.notDeepEqual(findKey(`x ${s} y`, key), [], `the search finds ${name}`);
    const all = echoes.map(([, s]) => s).join(" | ");
    const upstream = await startScriptedUpstream();
    let submits = 0;
    upstream.answer((req, res) => {
      const form = new URLSearchParams(req.body);
      const json = (status: number, request: string) => void res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ status, request }));
      if (req.url.startsWith("/in.php")) {
        const n = submits++;
        if (n < echoes.length) return json(0, `ERROR_${echoes[n]![1]}`); // an unknown code: the task's error.code
        if (n === echoes.length) return void res.writeHead(200, { "content-type": "text/html" }).end(`<html><body>${all}</body></html>`);
        return json(1, `id${n}`);
      }
      if (form.get("action") === "getbalance") return json(0, `ERROR_${echoes[(submits + 1) % echoes.length]![1]} ${all}`);
      return json(1, `solution ${all}`);
    });
    const child = spawnCli(
      ["run", "--listen", "127.0.0.1:0", "--upstream", upstream.url.href, "--log-level", "debug", "--first-poll", "0s", "--poll-interval", "20ms", "--balance-ttl", "1s", "--max-consecutive-failures", "1000", "--max-error-rate", "1"],
      { CAPTCHAAI_API_KEY: key },
    );
    const out = collectOutput(child);
    const exited = once(child, "exit") as Promise<[number | null, string | null]>;
    const corpus: { where: string; text: string }[] = [];
    try {
      const base = `http://${(await waitForStart(child)).listen}`;
      const get = async (path: string, init?: RequestInit) => {
        const res = await fetch(base + path, init);
        const text = await res.text();
        corpus.push({ where: `${init?.method ?? "GET"} ${path}`, text: `${[...res.headers].join("\n")}\n${text}` });
        return { status: res.status, text };
      };
      const results: string[] = [];
      for (let i = 0; i < echoes.length + 5; i++) {
        const posted = await get("/v1/tasks?wait=20", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ type: "image", image: PNG_B64 }) });
        const task = JSON.parse(posted.text) as { id: string; status: string; solution?: { text?: string }; error?: { code: string } };
        results.push(`${task.status} ${task.error?.code ?? ""}`);
        await get(`/v1/tasks/${task.id}`);
      }
      assert.ok(results.filter((r) => r.startsWith("solved")).length >= 2, results.join("\n"));
      assert.ok(results.filter((r) => r.includes("[REDACTED]")).length >= echoes.length, results.join("\n"));
      // A second balance check, with a different echo, before the health documents are read.
      const balanceChecks = () => upstream.requests.filter((r) => new URLSearchParams(r.body).get("action") === "getbalance").length;
      const seen = balanceChecks();
      await pollUntil("another balance check", () => balanceChecks() > seen, { timeoutMs: 5_000 });
      for (const path of ["/", "/health", "/health/ready", "/health/dependencies", "/metrics", "/?format=json"]) await get(path);
      child.kill("SIGTERM");
      assert.deepEqual(await exited, [0, null]);
      corpus.push({ where: "stdout+stderr", text: out.text() });
      assert.ok(upstream.requests.every((r) => r.body.includes(`key=${new URLSearchParams({ k: key }).toString().slice(2)}&`)), "the key travels form-encoded");
      const leaks = corpus.flatMap(({ where, text }) => findKey(text, key).map((f) => `${f} in ${where}`));
      assert.deepEqual(leaks, [], `key ${key}`);
      assert.match(out.text(), /\[REDACTED\]/);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await upstream.close();
    }
  }
});
