/**
 * Seeded fuzzing of the task API (docs/task-api.md: "nothing a client sends can crash the process or make a
 * health endpoint fail"): raw node:http requests with hostile bodies, content types, framings,
 * paths and methods against a worker on the simulator and a fake clock. FUZZ_SEED and FUZZ_CASES
 * repeat or widen a run; a failure names its seed and case.
 */
import assert from "node:assert/strict";
import { request, type IncomingHttpHeaders } from "node:http";
import { describe, test } from "node:test";
import { mulberry32, type Random } from "../../../src/sim/prng.ts";
import { advance, eventually, startHarness, type Harness } from "../../_support/harness.ts";
import { json } from "../../_support/http.ts";
import { PNG_B64, pngOfSize } from "../../_support/images.ts";

const SEED = Number(process.env.FUZZ_SEED ?? 0xc0ffee) >>> 0;
const CASES = Math.max(1, Number(process.env.FUZZ_CASES ?? 3000));
/** Health is probed after every this many cases. */
const CHECK_EVERY = 100;
/** The fake clock moves on 20 s after every this many cases, so the small queue fills (429) in between. */
const ADVANCE_EVERY = 500;
const THREADS = 2;
const QUEUE_MAX = 10;
const BODY_LIMIT = 2 * 1024 * 1024;
/** Fixed cases: 100k-deep nesting as raw text, closed and unclosed, arrays and objects. */
const DEEP_CASES = new Map<number, () => string>([
  [7, () => "[".repeat(100_000) + "]".repeat(100_000)],
  [8, () => "[".repeat(100_000)],
  [9, () => '{"a":'.repeat(100_000) + "1" + "}".repeat(100_000)],
]);

interface Case {
  method: string;
  path: string;
  headers: Record<string, string>;
  /** Body pieces: one piece with a content-length, or several sent chunked. */
  body?: Buffer[];
  /** Over the body limit on purpose: the server may close after its 413. */
  overLimit?: boolean;
  what: string;
}

interface Reply {
  status?: number;
  headers?: IncomingHttpHeaders;
  body?: string;
  error?: string;
}

const pick = <T>(r: Random, items: readonly T[]): T => items[Math.floor(r() * items.length)]!;
const int = (r: Random, min: number, max: number) => min + Math.floor(r() * (max - min + 1));
const chance = (r: Random, p: number) => r() < p;

// ---------------------------------------------------------------------------------------------
// JSON text, built by hand so that duplicate keys, `__proto__` keys and out-of-range numbers
// reach the server exactly as written.

const NUMBERS = ["0", "-0", "1", "-1", "1e309", "-1e309", "18446744073709551616", "9007199254740993", "1E-400", "0.1", "4.0", "20", "21", "1e2", "123456789012345678901234567890"];
const STRINGS = [
  "",
  "en",
  "image",
  "turnstile",
  PNG_B64,
  "https://example.com/",
  "javascript:alert(1)",
  "\\ud800",
  "\\udc00\\ud800",
  "a\\u0000b",
  "\\u2028\\u2029",
  "\u00e9\u4e2d\ud83d\ude00",
  "__proto__",
  "constructor",
  "../../etc/passwd",
  "%00",
  "<script>",
];
const KEYS = ["type", "image", "sitekey", "pageurl", "numeric", "min_len", "max_len", "lang", "phrase", "action", "min_score", "invisible", "textinstructions", "__proto__", "constructor", "prototype", "toString", "hasOwnProperty", "", "x"];

function stringText(r: Random): string {
  if (chance(r, 0.1)) return JSON.stringify("z".repeat(int(r, 100, 5000)));
  if (chance(r, 0.3)) return JSON.stringify(String.fromCharCode(...Array.from({ length: int(r, 0, 12) }, () => int(r, 0, 0xffff))));
  return `"${pick(r, STRINGS)}"`;
}

/** A random JSON value as text; nesting goes down a single spine past depth 4, up to `maxDepth`. */
function valueText(r: Random, depth: number, maxDepth: number): string {
  const leaf = depth >= maxDepth || (depth > 0 && chance(r, depth > 4 ? 0.02 : 0.35));
  if (leaf) {
    return pick(r, [() => "null", () => "true", () => "false", () => pick(r, NUMBERS), () => stringText(r)])();
  }
  const width = depth > 4 ? 1 : int(r, 0, 4);
  if (chance(r, 0.5)) return `[${Array.from({ length: width }, () => valueText(r, depth + 1, maxDepth)).join(",")}]`;
  return `{${Array.from({ length: width }, () => `${JSON.stringify(pick(r, KEYS))}:${valueText(r, depth + 1, maxDepth)}`).join(",")}}`;
}

const IMAGE_B64 = pngOfSize(150, 2).toString("base64");
const VALID: Array<Array<[string, string]>> = [
  [["type", '"image"'], ["image", JSON.stringify(IMAGE_B64)]],
  [["type", '"image"'], ["image", JSON.stringify(`data:image/png;base64,${IMAGE_B64}`)], ["numeric", "1"], ["min_len", "2"], ["max_len", "6"], ["lang", '"en"'], ["phrase", "false"], ["textinstructions", '"type the letters"']],
  [["type", '"recaptcha_v2"'], ["sitekey", '"6Le-valid-key-000"'], ["pageurl", '"https://example.com/login"'], ["invisible", "false"]],
  [["type", '"recaptcha_v3"'], ["sitekey", '"6Le-valid-key-000"'], ["pageurl", '"https://example.com/"'], ["action", '"login"'], ["min_score", "0.3"]],
  [["type", '"turnstile"'], ["sitekey", '"0x4AAAAAAAfuzz"'], ["pageurl", '"https://example.com/"']],
];

/** A valid task with (usually) one thing wrong: a field's value, a missing or extra or duplicated key. */
function mutatedTask(r: Random): { text: string; what: string } {
  const entries = pick(r, VALID).map(([k, v]) => [k, v] as [string, string]);
  const i = int(r, 0, entries.length - 1);
  let what = "valid task";
  switch (int(r, 0, 9)) {
    case 0:
    case 8:
    case 9:
      break;
    case 1:
    case 2:
      entries[i]![1] = valueText(r, 0, chance(r, 0.1) ? 200 : 3);
      what = `field ${entries[i]![0]} mutated`;
      break;
    case 3:
      entries.splice(i, 1);
      what = "field removed";
      break;
    case 4: {
      const key = pick(r, ["__proto__", "constructor", "prototype", "polluted", "min_lenght", "Type", "type "]);
      entries.splice(int(r, 0, entries.length), 0, [key, pick(r, ['{"polluted":"yes"}', '{"prototype":{"polluted":"yes"}}', "1", "null"])]);
      what = `extra key ${key}`;
      break;
    }
    case 5:
      entries.push([entries[i]![0], valueText(r, 0, 2)]);
      what = `duplicate key ${entries[i]![0]}`;
      break;
    case 6:
      entries[0]![1] = `"${pick(r, ["image", "turnstile", "recaptcha_v2", "recaptcha_v3", "audio", "IMAGE", "__proto__"])}"`;
      what = "type switched";
      break;
    default:
      entries[i]![1] = pick(r, NUMBERS);
      what = `number in ${entries[i]![0]}`;
  }
  return { text: `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(",")}}`, what };
}

/** Text that is not JSON, or JSON at its edges. */
function oddText(r: Random): string {
  return pick(r, [
    () => "NaN",
    () => `{"type":"image","image":"${PNG_B64}","numeric":NaN}`,
    () => `{"type":"image","image":"${PNG_B64}","min_len":Infinity}`,
    () => "{'type':'image'}",
    () => '{"type":"image",}',
    () => '{"type":"image" /* comment */}',
    () => "{type:image}",
    () => `{"type":"image","image":"${PNG_B64}"}{"type":"image"}`,
    () => `{"__proto__":{"polluted":"yes"},"type":"image","image":"${PNG_B64}"}`,
    () => `{"constructor":{"prototype":{"polluted":"yes"}},"type":"image","image":"${PNG_B64}"}`,
    () => '{"type":"image","type":"turnstile","sitekey":"0x4AAAAAAAfuzz","pageurl":"https://e.com/"}',
    () => "   ",
    () => "",
    () => "\u0000",
    () => "[".repeat(int(r, 1, 200)),
    () => "{".repeat(int(r, 1, 200)),
    () => JSON.stringify("just a string"),
    () => "1e309",
    () => "-0",
    () => "null",
    () => '"\\ud800"',
  ])();
}

const BAD_UTF8 = [[0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xe2, 0x82], [0x80], [0xf4, 0x90, 0x80, 0x80]];

/** Invalid UTF-8 spliced into otherwise good JSON, or the JSON re-encoded as latin1. */
function badBytes(r: Random, text: string): Buffer {
  if (chance(r, 0.2)) return Buffer.from(text.replace("image", "im\u00e4ge"), "latin1");
  if (chance(r, 0.15)) return Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]);
  const bytes = Buffer.from(text);
  const at = int(r, 0, bytes.length);
  return Buffer.concat([bytes.subarray(0, at), Buffer.from(pick(r, BAD_UTF8)), bytes.subarray(at)]);
}

const CONTENT_TYPES = [
  undefined,
  "application/json; charset=latin1",
  "application/json; charset=utf-8",
  "APPLICATION/JSON",
  "application/problem+json",
  "application/vnd.api+json",
  "application/json;;;",
  "multipart/form-data; boundary=----fuzz",
  "application/x-www-form-urlencoded",
  "text/plain",
  "text/json",
  "application/jsonx",
  "json",
  "*/*",
];

const ID_PARTS = ["..", ".", "%00", "%", "%zz", "%2e%2e", "%2F", "a%00b", "__proto__", "constructor", "hasOwnProperty", "%ED%A0%80", "%F0%9F%98%80", "\u00e9", "%20", "'", "~", "-", "_"];

function randomId(r: Random, known: string[]): string {
  if (known.length > 0 && chance(r, 0.25)) return pick(r, known);
  switch (int(r, 0, 4)) {
    case 0:
      return pick(r, ID_PARTS);
    case 1:
      return Array.from({ length: int(r, 1, 4) }, () => pick(r, ID_PARTS)).join("");
    case 2:
      return "x".repeat(pick(r, [64, 65, 1000, 12_000]));
    default:
      return Array.from({ length: int(r, 1, 64) }, () => pick(r, [..."abcdef0123456789-"])).join("");
  }
}

/** Queries that answer at once: `wait` only ever 0 or invalid, so no request waits on the frozen clock. */
const QUERIES = ["", "", "", "?wait=0", "?wait=abc", "?wait=-1", "?wait=121", "?wait=99999999", "?wait=", "?wait=0&wait=5", "?x=%00", "?__proto__[polluted]=yes"];

function randomPath(r: Random, known: string[]): string {
  return pick(r, [
    () => `/v1/tasks/${randomId(r, known)}`,
    () => `/v1/tasks/${randomId(r, known)}/report`,
    () => `/v1/tasks/${randomId(r, known)}/${randomId(r, known)}`,
    () => pick(r, ["/v1/tasks/", "/v1/tasks//", "//v1/tasks", "/V1/TASKS", "/v1/tasks/../health/live", "/v1/tasks/..%2f..%2fhealth%2flive", "/v1/tasks/x/report/extra", "*", "http://evil.example/v1/tasks", "/v1/tasks%00"]),
  ])() + pick(r, QUERIES) + (chance(r, 0.01) ? "y".repeat(20_000) : "");
}

const METHODS = ["GET", "GET", "POST", "POST", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE", "PROPFIND", "PURGE", "FOO", "M-SEARCH"];
/** Methods that Node's client sends a body for without chunking only with a content-length. */
const NO_CHUNKING = new Set(["GET", "HEAD", "DELETE", "OPTIONS", "TRACE"]);

function makeCase(r: Random, index: number, known: string[]): Case {
  const deep = DEEP_CASES.get(index);
  if (deep) return { method: "POST", path: "/v1/tasks", headers: { "content-type": "application/json" }, body: [Buffer.from(deep())], what: "100k-deep nesting" };
  // A few bodies over the limit, declared or streamed, to /v1/tasks or a report (4 KiB limit there).
  if (index % 250 === 123) {
    const report = chance(r, 0.3);
    const size = report ? int(r, 4097, 100_000) : BODY_LIMIT + int(r, 1, 512 * 1024);
    const body = Buffer.alloc(size, 0x41);
    body.write('{"type":"image","image":"');
    const streamed = chance(r, 0.5);
    return {
      method: "POST",
      // The report route reads the body before it looks the id up, so any id that routes gets the 413.
      path: report ? `/v1/tasks/${known.length > 0 && chance(r, 0.5) ? pick(r, known) : "f00d"}/report` : "/v1/tasks",
      headers: { "content-type": "application/json" },
      body: streamed ? Array.from({ length: Math.ceil(size / 65_536) }, (_, i) => body.subarray(i * 65_536, (i + 1) * 65_536)) : [body],
      overLimit: true,
      what: `${size} bytes ${streamed ? "chunked" : "declared"}`,
    };
  }
  const known404 = chance(r, 0.6);
  const method = known404 ? "POST" : pick(r, METHODS);
  const path = known404 ? `/v1/tasks${pick(r, QUERIES)}` : randomPath(r, known);
  let text: string;
  let what: string;
  const kind = int(r, 0, 9);
  if (kind <= 4) ({ text, what } = mutatedTask(r));
  else if (kind <= 6) {
    text = valueText(r, 0, chance(r, 0.2) ? int(r, 5, 200) : 4);
    what = "random JSON";
  } else if (kind === 7) {
    text = oddText(r);
    what = "odd text";
  } else if (kind === 8) {
    text = path.includes("/report") ? pick(r, ['{"correct":true}', '{"correct":false}', '{"correct":"yes"}', '{"correct":1}']) : mutatedTask(r).text;
    what = "report body";
  } else {
    text = mutatedTask(r).text;
    what = "multipart";
    text = `------fuzz\r\nContent-Disposition: form-data; name="task"\r\nContent-Type: application/json\r\n\r\n${text}\r\n------fuzz--\r\n`;
  }
  const multipart = what === "multipart";
  let bytes: Buffer = Buffer.from(text);
  if (chance(r, 0.08)) {
    bytes = badBytes(r, text);
    what += ", bad UTF-8";
  }
  const headers: Record<string, string> = {};
  const type = chance(r, 0.7) ? (multipart ? "multipart/form-data; boundary=----fuzz" : "application/json") : pick(r, CONTENT_TYPES);
  if (type !== undefined) headers["content-type"] = type;
  if (chance(r, 0.05)) headers.prefer = pick(r, ["wait=0", "wait=abc", "wait=", "respond-async", "wait=0, handling=lenient"]);
  if (chance(r, 0.05)) headers.authorization = pick(r, ["Bearer x", "Basic Zm9vOmJhcg==", "Bearer " + "t".repeat(5000)]);
  if (chance(r, 0.03)) headers.expect = "100-continue";
  if (chance(r, 0.03)) headers["x-forwarded-for"] = "127.0.0.1, ::1";
  const noBody = chance(r, 0.1) || (NO_CHUNKING.has(method) && chance(r, 0.7));
  const chunked = !noBody && !NO_CHUNKING.has(method) && chance(r, 0.2);
  const body = noBody ? undefined : chunked ? splitRandomly(r, bytes) : [bytes];
  return { method, path, headers, body, what: `${what}${type === undefined ? ", no content type" : `, ${type}`}${chunked ? ", chunked" : ""}` };
}

function splitRandomly(r: Random, bytes: Buffer): Buffer[] {
  const pieces: Buffer[] = [];
  for (let at = 0; at < bytes.length; ) {
    const n = int(r, 1, Math.max(1, Math.ceil(bytes.length / 3)));
    pieces.push(bytes.subarray(at, at + n));
    at += n;
  }
  return pieces.length ? pieces : [Buffer.alloc(0)];
}

/** Sends one case on its own connection; resolves with the answer or the connection's error. */
function send(port: number, c: Case): Promise<Reply> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (reply: Reply) => {
      if (!done) resolve(reply);
      done = true;
    };
    const headers = { ...c.headers };
    if (c.body?.length === 1) headers["content-length"] = String(c.body[0]!.length);
    const req = request({ host: "127.0.0.1", port, method: c.method, path: c.path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => finish({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", (err) => finish({ status: res.statusCode, headers: res.headers, error: `response: ${err.message}` }));
    });
    req.on("error", (err: NodeJS.ErrnoException) => finish({ error: err.code ?? err.message }));
    req.setTimeout(10_000, () => req.destroy(new Error("no answer within 10s")));
    if (!c.body) return void req.end();
    // Pieces go out one per turn, so the server sees a chunked body arrive over time.
    const pieces = [...c.body];
    const pump = () => {
      if (req.destroyed) return;
      const piece = pieces.shift();
      if (piece === undefined) return void req.end();
      if (req.write(piece)) setImmediate(pump);
      else req.once("drain", pump);
    };
    pump();
  });
}

const ALLOWED = (s: number) => (s >= 200 && s < 300) || (s >= 400 && s < 500) || s === 503;

/** The invariants of one answer (docs/task-api.md): never 500, never a dropped connection, problem details. */
function assertReply(c: Case, reply: Reply, where: string): void {
  if (reply.status === undefined) {
    // Only a body over the limit may lose the answer: the server refuses and closes while we still write.
    assert.ok(c.overLimit, `${where}: no answer (${reply.error})`);
    return;
  }
  const status = reply.status;
  // A report of a solved task that the upstream refuses (ERROR_REPORT_NOT_RECORDED, say) is a 502 by design.
  const upstreamRefusedReport = status === 502 && c.path.includes("/report");
  assert.ok(ALLOWED(status) || upstreamRefusedReport, `${where}: status ${status} ${reply.body?.slice(0, 300)}`);
  if (c.overLimit) assert.equal(status, 413, `${where}: over the limit`);
  if (status < 400) return;
  assert.equal(reply.headers?.["content-type"], "application/problem+json", `${where}: ${status} without problem details`);
  if (status === 405) assert.ok(reply.headers?.allow, `${where}: 405 without Allow`);
  if (status === 429 || status === 503) assert.match(String(reply.headers?.["retry-after"]), /^\d+$/, `${where}: ${status} without Retry-After`);
  if (c.method === "HEAD") return;
  if (reply.error !== undefined && c.overLimit) return;
  let p: Record<string, unknown>;
  try {
    p = JSON.parse(reply.body ?? "") as Record<string, unknown>;
  } catch {
    assert.fail(`${where}: ${status} body is not JSON: ${reply.body?.slice(0, 200)}`);
  }
  assert.equal(p.status, status, where);
  for (const k of ["type", "title", "detail", "code"]) assert.equal(typeof p[k], "string", `${where}: problem without ${k}`);
  assert.match(p.code as string, /^ERR_[A-Z_]+$/, where);
  if (upstreamRefusedReport) assert.equal(p.code, "ERR_UPSTREAM_CODE", where);
}

/** A GET probe on its own connection that must answer within `deadlineMs` of real time. */
function probe(port: number, path: string, deadlineMs = 2000): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, agent: false, timeout: deadlineMs }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("timeout", () => req.destroy(new Error(`${path}: no answer within ${deadlineMs}ms`)));
    req.on("error", reject);
    req.end();
  });
}

describe("task API, fuzzed", () => {
  test("hostile requests never get a 500 or a dropped connection, and never hurt health, the prototype chain or the heap", async (t) => {
    const started = performance.now();
    const h: Harness = await startHarness({ flags: { threads: String(THREADS), "queue-max": String(QUEUE_MAX) } });
    const port = h.worker.address.port;
    const protoBefore = Reflect.ownKeys(Object.prototype).map(String).sort();
    const heapBefore = process.memoryUsage().heapUsed;
    const statuses = new Map<number | string, number>();
    const known: string[] = [];
    let heapPeak = heapBefore;
    try {
      for (let i = 0; i < CASES; i++) {
        const r = mulberry32((SEED ^ Math.imul(i + 1, 0x9e3779b1)) >>> 0);
        const c = makeCase(r, i, known);
        const where = `FUZZ_SEED=${SEED} case ${i}: ${c.method} ${c.path.slice(0, 120)} (${c.what})`;
        const reply = await send(port, c);
        assertReply(c, reply, where);
        const key = reply.status ?? reply.error ?? "?";
        statuses.set(key, (statuses.get(key) ?? 0) + 1);
        if (reply.status === 202 && known.length < 200) known.push((JSON.parse(reply.body!) as { id: string }).id);
        if ((i + 1) % CHECK_EVERY === 0 || i === CASES - 1) {
          const live = await probe(port, "/health/live");
          assert.equal(live, 200, `FUZZ_SEED=${SEED} after case ${i}: /health/live answered ${live}`);
          const ready = await probe(port, "/health/ready");
          assert.ok(ready === 200 || ready === 503, `FUZZ_SEED=${SEED} after case ${i}: /health/ready answered ${ready}`);
          heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed);
        }
        // Let queued tasks move on: submitted, polled, solved, so the queue takes new ones again.
        if ((i + 1) % ADVANCE_EVERY === 0) await advance(h.clock, 20_000, 1000);
      }

      assert.equal(({} as Record<string, unknown>).polluted, undefined, "a fresh object has no `polluted`");
      assert.deepEqual(Reflect.ownKeys(Object.prototype).map(String).sort(), protoBefore, "nothing was added to Object.prototype");
      assert.equal(Object.getPrototypeOf({}), Object.prototype);
      const heapAfter = process.memoryUsage().heapUsed;
      assert.ok(heapAfter - heapBefore < 256 * 1024 * 1024, `the heap grew by ${Math.round((heapAfter - heapBefore) / 1048576)} MiB`);
      assert.ok(h.worker.pool.stored.open <= THREADS + QUEUE_MAX, `open tasks are bounded by threads + queue: ${h.worker.pool.stored.open}`);

      // Everything accepted ends (solved, or failed by its timeout); then a normal task still solves.
      await advance(h.clock, 200_000, 1000);
      assert.equal(h.worker.pool.stored.open, 0, "every accepted task ended");
      const res = await fetch(`${h.base}/v1/tasks`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ type: "image", image: IMAGE_B64 }) });
      assert.equal(res.status, 202, `a normal task after the fuzz: ${res.status}`);
      const { id } = await json(res);
      await advance(h.clock, 5000);
      await eventually(() => h.worker.pool.find(id)?.status === "solved", "the normal task solved");
      const got = await json(await fetch(`${h.base}/v1/tasks/${id}`));
      assert.equal(got.status, "solved");
      assert.equal(await probe(port, "/health/live"), 200);
      assert.equal(await probe(port, "/health/ready"), 200);

      for (const s of [202, 400, 404, 405, 413, 415, 429]) assert.ok(statuses.has(s), `no case reached ${s}: ${JSON.stringify(Object.fromEntries(statuses))}`);
      t.diagnostic(
        `FUZZ_SEED=${SEED} FUZZ_CASES=${CASES} in ${Math.round(performance.now() - started)}ms; answers ${JSON.stringify(Object.fromEntries([...statuses].sort()))}; ` +
          `heap ${Math.round(heapBefore / 1048576)} -> ${Math.round(heapAfter / 1048576)} MiB (peak ${Math.round(heapPeak / 1048576)}); sim in.php ${h.sim.counts().requests["in.php"] ?? 0}`,
      );
    } finally {
      await h.close();
    }
  });
});
