/**
 * Seeded fuzzing of the gateway (docs/gateway.md: bad input gets 2captcha's error, never a 500): hostile
 * parameters in every encoding the legacy API reads and hostile JSON for API v2, against a worker on
 * the simulator and a fake clock. FUZZ_SEED and FUZZ_CASES repeat or widen a run.
 */
import assert from "node:assert/strict";
import { request } from "node:http";
import { describe, test } from "node:test";
import { mulberry32, type Random } from "../../../src/sim/prng.ts";
import { CLIENT_KEY, gatewayHarness, PNG } from "../../_support/gateway.ts";
import { advance, startHarness } from "../../_support/harness.ts";

const SEED = Number(process.env.FUZZ_SEED ?? 0x9a7e) >>> 0;
const CASES = Math.max(1, Number(process.env.FUZZ_CASES ?? 1500));

const pick = <T>(r: Random, items: readonly T[]): T => items[Math.floor(r() * items.length)]!;
const int = (r: Random, min: number, max: number) => min + Math.floor(r() * (max - min + 1));

const LEGACY_KEYS = ["key", "method", "body", "file", "googlekey", "sitekey", "pageurl", "version", "action", "min_score", "invisible", "enterprise", "numeric", "min_len", "max_len",
  "phrase", "regsense", "calc", "language", "lang", "textinstructions", "data", "json", "header_acao", "soft_id", "pingback", "id", "ids", "__proto__", "constructor", ""];
const VALUES = ["", "0", "1", "-1", "2", "99999999999999999999", "true", "false", "v3", "v2", "get", "get2", "getbalance", "reportgood", "reportbad", "base64", "post", "userrecaptcha",
  "turnstile", "hcaptcha", PNG, "%%%", "data:image/png;base64,", "https://example.com/", "javascript:alert(1)", "http://169.254.169.254/", "6Le-sitekey-abc", "0x4AAAAAAAfuzz", "1,2,3",
  "1,,x", "\u0000", "\ud800", "é中😀", "<script>", "../../etc/passwd", "x".repeat(3000), CLIENT_KEY, "0.3", "1e309", "NaN"];
const V2_PATHS = ["/createTask", "/getTaskResult", "/getBalance", "/reportCorrect", "/reportIncorrect", "/reportIncorrectImageCaptcha", "/reportIncorrectRecaptcha", "/reportCorrectRecaptcha"];
const TASK_TYPES = ["ImageToTextTask", "RecaptchaV2TaskProxyless", "RecaptchaV2EnterpriseTaskProxyless", "RecaptchaV3TaskProxyless", "TurnstileTaskProxyless", "NoCaptchaTaskProxyless", "HCaptchaTask", "__proto__", ""];
const V2_FIELDS = ["type", "body", "websiteURL", "websiteKey", "isInvisible", "minScore", "pageAction", "isEnterprise", "action", "data", "numeric", "case", "math", "minLength", "maxLength", "comment", "__proto__"];

function jsonValue(r: Random, depth = 0): unknown {
  switch (int(r, 0, depth > 2 ? 4 : 7)) {
    case 0: return null;
    case 1: return r() < 0.5;
    case 2: return pick(r, [0, -1, 1.5, 1e308, 2 ** 53 + 2, 12345]);
    case 3: case 4: return pick(r, VALUES);
    case 5: return Array.from({ length: int(r, 0, 3) }, () => jsonValue(r, depth + 1));
    default: return Object.fromEntries(Array.from({ length: int(r, 0, 4) }, () => [pick(r, V2_FIELDS), jsonValue(r, depth + 1)]));
  }
}

interface Case { method: string; path: string; headers: Record<string, string>; body?: Buffer }

function makeCase(r: Random): Case {
  if (r() < 0.35) {
    const task: Record<string, unknown> = { type: pick(r, TASK_TYPES) };
    for (let i = int(r, 0, 5); i > 0; i--) task[pick(r, V2_FIELDS)] = jsonValue(r);
    const body: Record<string, unknown> = { clientKey: r() < 0.8 ? CLIENT_KEY : jsonValue(r), task: r() < 0.9 ? task : jsonValue(r), taskId: r() < 0.5 ? int(r, 0, 2 ** 40) : jsonValue(r) };
    if (r() < 0.2) body.callbackUrl = jsonValue(r);
    const text = r() < 0.1 ? pick(r, ["", "{", "[1]", "null", "\"x\"", "{\"clientKey\":"]) : JSON.stringify(body);
    return { method: r() < 0.9 ? "POST" : pick(r, ["GET", "PUT", "HEAD"]), path: pick(r, V2_PATHS), headers: r() < 0.5 ? { "content-type": "application/json" } : {}, body: Buffer.from(text) };
  }
  const params = new URLSearchParams();
  if (r() < 0.85) params.set("key", CLIENT_KEY);
  for (let i = int(r, 0, 7); i > 0; i--) params.append(pick(r, LEGACY_KEYS), pick(r, VALUES));
  const path = pick(r, ["/in.php", "/res.php"]);
  const method = pick(r, ["GET", "POST", "POST", "HEAD", "DELETE"]);
  if (method !== "POST") return { method, path: `${path}?${params}`, headers: {} };
  switch (int(r, 0, 3)) {
    case 0: return { method, path, headers: { "content-type": "application/x-www-form-urlencoded" }, body: Buffer.from(params.toString()) };
    case 1: return { method, path, headers: r() < 0.5 ? { "content-type": "application/json" } : {}, body: Buffer.from(JSON.stringify(Object.fromEntries(params))) };
    case 2: {
      const parts = [...params].map(([k, v]) => `--fz\r\nContent-Disposition: form-data; name="${k}"${k === "file" ? '; filename="a.png"' : ""}\r\n\r\n${v}\r\n`).join("");
      return { method, path, headers: { "content-type": pick(r, ["multipart/form-data; boundary=fz", "multipart/form-data", "multipart/form-data; boundary=\"fz\""]) }, body: Buffer.from(parts + (r() < 0.8 ? "--fz--\r\n" : "")) };
    }
    default: return { method, path: `${path}?${params}`, headers: { "content-type": pick(r, ["text/plain", "application/octet-stream", "application/json"]) }, body: Buffer.from(Array.from({ length: int(r, 0, 300) }, () => int(r, 0, 255))) };
  }
}

function send(port: number, c: Case): Promise<{ status?: number; type?: string; body?: string; error?: string }> {
  return new Promise((resolve) => {
    const headers = { ...c.headers, ...(c.body ? { "content-length": String(c.body.length) } : {}) };
    const req = request({ host: "127.0.0.1", port, method: c.method, path: c.path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (x: Buffer) => chunks.push(x));
      res.on("end", () => resolve({ status: res.statusCode, type: String(res.headers["content-type"]), body: Buffer.concat(chunks).toString() }));
    });
    req.on("error", (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message }));
    req.end(c.body);
  });
}

const LEGACY_TEXT = /^(?:OK\|.*|CAPCHA_NOT_READY|ERROR_[A-Z_]+|OK_REPORT_RECORDED|\d+(?:\.\d+)?|(?:[^|]*\|)*[^|]*)$/s;

describe("gateway, fuzzed", () => {
  test("hostile gateway requests get 2captcha-shaped answers: never a 500, a dropped connection or a failed health probe", async () => {
    const h = await startHarness(gatewayHarness({ threads: "2", "queue-max": "10" }));
    const port = h.worker.address.port;
    try {
      for (let i = 0; i < CASES; i++) {
        const r = mulberry32((SEED ^ Math.imul(i + 1, 0x9e3779b1)) >>> 0);
        const c = makeCase(r);
        const where = `FUZZ_SEED=${SEED} case ${i}: ${c.method} ${c.path.slice(0, 100)} ${c.body?.toString().slice(0, 100)}`;
        const reply = await send(port, c);
        assert.ok(reply.status !== undefined, `${where}: no answer (${reply.error})`);
        if (c.method !== "GET" && c.method !== "POST" && c.method !== "HEAD") {
          assert.equal(reply.status, 405, where);
          continue;
        }
        if (c.path.endsWith(".php") || c.path.includes(".php?")) {
          assert.equal(reply.status, 200, where);
          if (c.method === "HEAD") continue;
          if (reply.type === "application/json") {
            const j = JSON.parse(reply.body!) as { status: number; request: string };
            assert.ok((j.status === 0 || j.status === 1) && typeof j.request === "string", where);
          } else assert.match(reply.body!, LEGACY_TEXT, where);
        } else if (c.method === "POST") {
          assert.equal(reply.status, 200, where);
          const j = JSON.parse(reply.body!) as { errorId: number; errorCode?: string };
          assert.ok(Number.isInteger(j.errorId), where);
          if (j.errorId !== 0) assert.match(j.errorCode ?? "", /^ERROR_[A-Z_]+$/, where);
        } else assert.equal(reply.status, 405, where);
        if ((i + 1) % 100 === 0) {
          assert.equal((await fetch(`http://127.0.0.1:${port}/health/live`)).status, 200, `after case ${i}`);
          await advance(h.clock, 20_000, 5000);
        }
      }
      assert.equal(Object.hasOwn(Object.prototype, "polluted"), false);
    } finally {
      await h.close();
    }
  });
});
