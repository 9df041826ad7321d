import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { isWorkerError, type WorkerError } from "../../../src/base/errors.ts";
import {
  describeProviders,
  loadProviders,
  reloadProviders,
  rereadProviders,
  solvePriceUsd,
  takesType,
  type ProviderSpec,
  type ProvidersRuntime,
} from "../../../src/config/providers.ts";
import { parseConfig } from "../../../src/config/parse_config.ts";
import { TASK_TYPES, type TaskType } from "../../../src/tasks/task_catalogue.ts";

/** Keys shaped as the real services' are: 32 hex characters, CapSolver's `CAP-` prefix. */
const CAI_KEY = "c41c41c41c41c41c41c41c41c41c41c4";
const TWO_KEY = "2ca2ca2ca2ca2ca2ca2ca2ca2ca2ca2c";
const CAP_KEY = "CAP-0123456789ABCDEF0123456789ABCDEF";
const KEYS = [CAI_KEY, TWO_KEY, CAP_KEY];
const PATH = "/etc/captcha-worker/providers";

const FILES: Record<string, string> = {
  "/run/credentials/captcha-worker.service/captchaai": CAI_KEY + "\n",
  "/etc/captcha-worker/2captcha.key": `  ${TWO_KEY}\r\n`,
  "/etc/captcha-worker/capsolver.key": CAP_KEY,
};

const EXAMPLE = `# a plan, a legacy overflow and a v2 one
captchaai legacy https://ocr.captchaai.com key-file=/run/credentials/captcha-worker.service/captchaai threads=10

2captcha  legacy https://2captcha.com      key-file=/etc/captcha-worker/2captcha.key price=2.99 daily-budget=20   # overflow
capsolver v2     https://api.capsolver.com key-file=/etc/captcha-worker/capsolver.key dialect=capsolver price=1.2 after=10s daily-budget=20
`;

function runtime(files: Record<string, string>, env: Record<string, string | undefined> = {}): ProvidersRuntime {
  return {
    env,
    readFile: (p) => {
      if (p in files) return files[p]!;
      throw Object.assign(new Error(`ENOENT ${p}`), { code: "ENOENT" });
    },
    exists: (p) => p in files,
  };
}

/** The providers of `text` as the file at PATH, with FILES' keys. */
function load(text: string, env: Record<string, string | undefined> = {}, files = FILES): ProviderSpec<TaskType>[] {
  const { config } = parseConfig({ "providers-file": PATH }, {});
  return loadProviders(config, {}, runtime({ ...files, [PATH]: text }, env), TASK_TYPES);
}

const KEY_LINE = "p legacy https://x.example key-file=/k";
const K = { "/k": TWO_KEY };

/** The error `text` (with /k holding a key) fails with; asserts it names the file and holds no key. */
function failure(text: string, files: Record<string, string> = K): WorkerError {
  try {
    load(text, {}, files);
  } catch (err) {
    assert.ok(isWorkerError(err, "ERR_CONFIG_INVALID"), String(err));
    assert.equal(err.field, "--providers-file");
    assert.ok(err.message.includes(PATH), err.message);
    for (const key of [...KEYS, "sekrit0123456789sekrit0123456789"]) assert.ok(!err.message.includes(key), `a key in: ${err.message}`);
    return err;
  }
  assert.fail(`no error for ${JSON.stringify(text)}`);
}

/** Asserts `text` fails on `line`, naming `field` (undefined: the line alone), with `why` in the message. */
function refuses(text: string, line: number, field: string | undefined, why: RegExp, files: Record<string, string> = K): void {
  const err = failure(text, files);
  assert.equal(err.data.line, line, err.message);
  assert.equal(err.data.providerField, field, err.message);
  assert.ok(err.message.includes(field === undefined ? `line ${line}:` : `line ${line}, field ${field}:`), err.message);
  assert.match(err.message, why);
}

describe("providers file: what a line says", () => {
  test("three providers in file order, keys read and trimmed, defaults filled in", () => {
    const [cai, two, cap] = load(EXAMPLE);
    assert.deepEqual(
      { ...cai!, url: cai!.url.href },
      {
        name: "captchaai", protocol: "legacy", dialect: "captchaai", url: "https://ocr.captchaai.com/", threads: 10, price: undefined, typePrices: {},
        afterMs: 5000, dailyBudgetUsd: undefined, types: undefined, key: CAI_KEY, keyOrigin: "key-file /run/credentials/captcha-worker.service/captchaai",
        keySource: "key-file", keyFile: "/run/credentials/captcha-worker.service/captchaai", line: 2,
      },
    );
    assert.equal(two!.dialect, "2captcha", "a legacy provider without threads= speaks 2captcha's dialect");
    assert.equal(two!.key, TWO_KEY);
    assert.equal(two!.price, 2.99);
    assert.equal(two!.dailyBudgetUsd, 20);
    assert.equal(two!.threads, undefined);
    assert.equal(two!.line, 4);
    assert.equal(cap!.protocol, "v2");
    assert.equal(cap!.dialect, "capsolver");
    assert.equal(cap!.afterMs, 10_000);
    assert.equal(cap!.key, CAP_KEY);
  });

  test("docs/providers.md's example parses as it says", () => {
    const page = readFileSync(new URL("../../../docs/providers.md", import.meta.url), "utf8");
    const block = /```\n(# \/etc\/captcha-worker\/providers\n[^`]*)```/.exec(page)?.[1];
    assert.ok(block, "the example in docs/providers.md");
    const creds = "/run/credentials/captcha-worker.service";
    const files = { [`${creds}/captchaai`]: CAI_KEY, "/etc/captcha-worker/2captcha.key": TWO_KEY, "/etc/captcha-worker/capsolver.key": CAP_KEY };
    const ps = load(block, { CREDENTIALS_DIRECTORY: creds }, files);
    assert.deepEqual(ps.map((p) => [p.name, p.protocol, p.dialect, p.threads, p.price, p.afterMs]), [
      ["captchaai", "legacy", "captchaai", 10, undefined, 5000],
      ["2captcha", "legacy", "2captcha", undefined, 2.99, 5000],
      ["capsolver", "v2", "capsolver", undefined, 1.2, 10_000],
    ]);
    assert.equal(ps[0]!.keyFile, `${creds}/captchaai`, "a relative key-file: the systemd credential");
    assert.deepEqual(ps[2]!.typePrices, { turnstile: 1 });
    assert.deepEqual(ps[2]!.types, ["recaptcha_v2", "recaptcha_v3", "turnstile"]);
  });

  test("dialect defaults: legacy with threads= captchaai, legacy per solve 2captcha, v2 anticaptcha; each may be given", () => {
    const d = (rest: string, protocol = "legacy") => load(`p ${protocol} https://x.example key-file=/k ${rest}`, {}, K)[0]!.dialect;
    assert.equal(d("threads=3"), "captchaai");
    assert.equal(d("price=1"), "2captcha");
    assert.equal(d("price=1", "v2"), "anticaptcha");
    assert.equal(d("threads=3 dialect=2captcha"), "2captcha");
    assert.equal(d("price=1 dialect=captchaai"), "captchaai");
    for (const dialect of ["anticaptcha", "capsolver", "capmonster", "2captcha"]) assert.equal(d(`price=1 dialect=${dialect}`, "v2"), dialect);
  });

  test("every field: price.TYPE, after, daily-budget, types; the URL as --upstream's (a trailing / added)", () => {
    const [p] = load(
      "acct v2 http://10.0.0.5:8090/api key-file=/k dialect=capmonster price.recaptcha_v2=2.5 price.turnstile=1.45 after=1500ms daily-budget=0.5 types=turnstile,recaptcha_v2",
      {},
      K,
    );
    assert.equal(p!.url.href, "http://10.0.0.5:8090/api/");
    assert.equal(p!.price, undefined);
    assert.deepEqual(p!.typePrices, { recaptcha_v2: 2.5, turnstile: 1.45 });
    assert.equal(p!.afterMs, 1500);
    assert.equal(p!.dailyBudgetUsd, 0.5);
    assert.deepEqual(p!.types, ["turnstile", "recaptcha_v2"]);
    assert.equal(solvePriceUsd(p!, "recaptcha_v2"), 0.0025);
    assert.ok(takesType(p!, "turnstile") && !takesType(p!, "image"));
    const [q] = load("q legacy https://x.example key-file=/k price=3 price.image=0.7 after=0", {}, K);
    assert.equal(solvePriceUsd(q!, "image"), 0.0007);
    assert.equal(solvePriceUsd(q!, "turnstile"), 0.003, "the provider's price for a type without its own");
    assert.equal(q!.afterMs, 0, "after=0: no wait (allowed on any line; meaningless on the first)");
    assert.ok(takesType(q!, "geetest"), "types= unset: every type");
    const [plan] = load("plan legacy https://x.example key-file=/k threads=1000", {}, K);
    assert.equal(solvePriceUsd(plan!, "image"), 0, "a thread plan costs nothing per solve");
  });

  test("comments, blank lines and CRLF; a # inside a word is not a comment", () => {
    const files = { ...K, "/keys/a#1": CAI_KEY };
    const ps = load("\r\n  # a comment\r\n\ta1 legacy https://x.example key-file=/keys/a#1 threads=2 # trailing\r\n\r\n", {}, files);
    assert.deepEqual(ps.map((p) => [p.name, p.line, p.keyFile, p.key, p.threads]), [["a1", 3, "/keys/a#1", CAI_KEY, 2]]);
  });

  test("a relative key-file names a systemd credential when $CREDENTIALS_DIRECTORY is set, else a file beside the providers file", () => {
    const creds = "/run/credentials/captcha-worker.service";
    const line = "cap v2 https://api.capsolver.com key-file=capsolver dialect=capsolver price=1.2";
    const fromCreds = load(line, { CREDENTIALS_DIRECTORY: creds }, { [`${creds}/capsolver`]: CAP_KEY });
    assert.equal(fromCreds[0]!.keyFile, `${creds}/capsolver`);
    assert.equal(fromCreds[0]!.key, CAP_KEY);
    const beside = load(line.replace("key-file=capsolver", "key-file=keys/capsolver"), {}, { "/etc/captcha-worker/keys/capsolver": CAP_KEY });
    assert.equal(beside[0]!.keyFile, "/etc/captcha-worker/keys/capsolver");
  });

  test("two providers may share a key file (one account spoken to in both protocols)", () => {
    const ps = load(`${KEY_LINE} price=3\nq v2 https://api.2captcha.com key-file=/k dialect=2captcha price=3`, {}, K);
    assert.deepEqual(ps.map((p) => p.key), [TWO_KEY, TWO_KEY]);
  });
});

describe("providers file: without it", () => {
  test("one provider captchaai: legacy, CaptchaAI's dialect, --upstream, --threads, the CaptchaAI key, no price", () => {
    const { config } = parseConfig({ upstream: "http://127.0.0.1:8090", threads: "7", "api-key-file": "/run/k" }, {});
    const [p, ...rest] = loadProviders(config, { "api-key-file": "/run/k" }, runtime({ "/run/k": CAI_KEY }), TASK_TYPES);
    assert.deepEqual(rest, []);
    assert.deepEqual(
      { ...p!, url: p!.url.href },
      {
        protocol: "legacy", dialect: "captchaai", name: "captchaai", url: "http://127.0.0.1:8090/", threads: 7, price: undefined, typePrices: {}, afterMs: 5000,
        dailyBudgetUsd: undefined, types: undefined, key: CAI_KEY, keyOrigin: "--api-key-file /run/k", keySource: "flag:--api-key-file", keyFile: "/run/k", line: undefined,
      },
    );
    const fromEnv = loadProviders(config, {}, runtime({}, { CAPTCHAAI_API_KEY: CAI_KEY }), TASK_TYPES)[0]!;
    assert.equal(fromEnv.keyFile, undefined, "a key from a variable is fixed for the life of the process");
  });

  test("no key: ERR_NO_API_KEY as before; --demo: an empty key the demo replaces", () => {
    const { config } = parseConfig({}, {});
    assert.throws(() => loadProviders(config, {}, runtime({}), TASK_TYPES), (err: unknown) => isWorkerError(err, "ERR_NO_API_KEY"));
    const demo = loadProviders(parseConfig({ demo: true }, {}).config, {}, runtime({}), TASK_TYPES)[0]!;
    assert.equal(demo.key, "");
    assert.equal(demo.keySource, "demo");
    assert.equal(describeProviders([demo])[0]!.key, null);
  });
});

describe("providers file: refusals name the file, the line and the field, never a key", () => {
  const cases: [string, string, number, string | undefined, RegExp][] = [
    ["a missing PROTOCOL", "p", 1, "PROTOCOL", /missing; expected NAME PROTOCOL URL key-file=PATH/],
    ["a missing URL", "p legacy key-file=/k threads=1", 1, "URL", /missing/],
    ["a field where the NAME belongs", "key-file=/k legacy https://x.example", 1, "NAME", /missing/],
    ["a bad NAME", "P-1 legacy https://x.example key-file=/k threads=1", 1, "NAME", /1 to 32 of a-z, 0-9, _ and -/],
    ["a NAME too long", `${"a".repeat(33)} legacy https://x.example key-file=/k threads=1`, 1, "NAME", /1 to 32/],
    ["a bad PROTOCOL", "p v3 https://x.example key-file=/k threads=1", 1, "PROTOCOL", /legacy .* or v2/],
    ["a URL that is not http(s)", "p legacy ftp://x.example key-file=/k threads=1", 1, "URL", /http:\/\/ or https:\/\//],
    ["a URL with a query", "p legacy https://x.example/?a=1 key-file=/k threads=1", 1, "URL", /without credentials, query or fragment/],
    ["a word that is no field", `${KEY_LINE} threads=1 10`, 1, undefined, /word 6 is not FIELD=VALUE/],
    ["an unknown field", `${KEY_LINE} threads=1 thread=2`, 1, "thread", /unknown; expected one of key-file, .*\(did you mean "threads"\?\)/],
    ["a field given twice", `${KEY_LINE} threads=1 threads=2`, 1, "threads", /given twice/],
    ["no key-file", "p legacy https://x.example threads=1", 1, "key-file", /missing: each provider's key is read from a file/],
    ["an empty key-file", "p legacy https://x.example key-file= threads=1", 1, "key-file", /expected a file path/],
    ["threads 0", `${KEY_LINE} threads=0`, 1, "threads", /a whole number from 1 to 1000/],
    ["threads 1001", `${KEY_LINE} threads=1001`, 1, "threads", /a whole number from 1 to 1000/],
    ["a price over 1000", `${KEY_LINE} price=1000.5`, 1, "price", /USD per 1000 solves from 0 to 1000/],
    ["a negative price", `${KEY_LINE} price=-1`, 1, "price", /from 0 to 1000/],
    ["a bad price.TYPE", `${KEY_LINE} price=1 price.image=x`, 1, "price.image", /USD per 1000 solves/],
    ["price.TYPE of no type", `${KEY_LINE} price=1 price.turnstyle=1`, 1, "price.turnstyle", /TYPE a task type .*did you mean "turnstile"/],
    ["neither threads nor price", KEY_LINE, 1, "threads", /a thread plan \(threads=N\) or paid per solve \(price=USD_PER_1000\)/],
    ["threads and price", `${KEY_LINE} threads=2 price=1`, 1, "price", /not both/],
    ["threads and price.TYPE", `${KEY_LINE} threads=2 price.image=1`, 1, "price.TYPE", /not both/],
    ["a budget on a thread plan", `${KEY_LINE} threads=2 daily-budget=5`, 1, "daily-budget", /needs price=/],
    ["a budget over 1e6", `${KEY_LINE} price=1 daily-budget=1000001`, 1, "daily-budget", /USD from 0 to 1000000/],
    ["a bad after", `${KEY_LINE} price=1 after=soon`, 1, "after", /a duration from 0s to 1h/],
    ["after over 1h", `${KEY_LINE} price=1 after=2h`, 1, "after", /a duration from 0s to 1h/],
    ["a legacy dialect on v2", "p v2 https://x.example key-file=/k price=1 dialect=captchaai", 1, "dialect", /anticaptcha, capsolver, capmonster or 2captcha for a v2 provider/],
    ["a v2 dialect on legacy", `${KEY_LINE} price=1 dialect=capsolver`, 1, "dialect", /captchaai or 2captcha for a legacy provider/],
    ["an unknown type", `${KEY_LINE} price=1 types=image,recapcha_v2`, 1, "types", /recapcha_v2 is not a task type \(did you mean "recaptcha_v2"\?\)/],
    ["a type twice", `${KEY_LINE} price=1 types=image,image`, 1, "types", /image is listed twice/],
    ["an empty types", `${KEY_LINE} price=1 types=`, 1, "types", /not every name is a task type/],
    ["price.TYPE of a type it does not take", `${KEY_LINE} price=1 price.grid=2 types=image`, 1, "price.grid", /does not take grid/],
    ["per-type prices that leave a type unpriced", `${KEY_LINE} price.image=1 types=image,grid`, 1, "price", /no price for grid: give price=/],
    ["a duplicate name, on its second line", `# one\n${KEY_LINE} threads=1\n\n${KEY_LINE} price=1`, 4, "NAME", /given on line 2 too/],
    ["a bad line after good ones", `${KEY_LINE} threads=1\nq legacy https://x.example key-file=/k threads=x`, 2, "threads", /whole number/],
    ["a missing key file", "p legacy https://x.example key-file=/nope threads=1", 1, "key-file", /cannot read the file it names \(ENOENT\)/],
  ];
  for (const [what, text, line, field, why] of cases) test(what, () => refuses(text, line, field, why));

  test("an empty key file, and one that is not one token, name the line and field (not the path: a key pasted there would be quoted)", () => {
    refuses(`${KEY_LINE} threads=1`, 1, "key-file", /the file it names: the key is empty/, { "/k": " \n" });
    refuses(`${KEY_LINE} threads=1`, 1, "key-file", /the file it names: expected one line of 1 to 256 printable characters/, { "/k": `${TWO_KEY} ${CAI_KEY}` });
  });

  test("more than 32 providers", () => {
    const lines = Array.from({ length: 33 }, (_, i) => `p${i} legacy https://x.example key-file=/k threads=1`).join("\n");
    refuses(lines, 33, undefined, /at most 32 providers/);
  });

  test("a file naming no provider, and a file that cannot be read", () => {
    assert.match(failure("# nothing\n\n").message, /names no provider; expected one a line, NAME PROTOCOL URL/);
    const { config } = parseConfig({ "providers-file": PATH }, {});
    assert.throws(() => loadProviders(config, {}, runtime({}), TASK_TYPES), (err: unknown) => isWorkerError(err, "ERR_CONFIG_INVALID") && /cannot read "\/etc\/captcha-worker\/providers" \(ENOENT\)/.test(err.message));
  });

  test("a key pasted in the wrong place is never quoted: as NAME, PROTOCOL, URL, a field, a field's name, a type, a price's type, the key-file", () => {
    const k = "sekrit0123456789sekrit0123456789";
    const texts = [
      `${k} legacy https://x.example key-file=/k threads=1\n${k} legacy https://x.example key-file=/k threads=1`,
      `p ${k} https://x.example key-file=/k threads=1`,
      `p legacy https://x.example/?key=${k} key-file=/k threads=1`,
      `p legacy https://${k}@x.example key-file=/k threads=1`,
      `p legacy https://x.example key-file=/k threads=1 ${k}`,
      `p legacy https://x.example key-file=/k threads=1 key=${k}`,
      `p legacy https://x.example key-file=/k threads=1 ${k}=1`,
      `p legacy https://x.example key-file=/k price=1 types=${k}`,
      `p legacy https://x.example key-file=/k price=1 price.${k}=1`,
      `p legacy https://x.example key-file=/k threads=${k}`,
      `p legacy https://x.example key-file=/k price=1 dialect=${k}`,
      `p legacy https://x.example key-file=${k} threads=1`,
      `p legacy https://x.example key-file=/etc/${k} threads=1`,
    ];
    for (const text of texts) failure(text); // failure() asserts no key in the message
    assert.match(failure(`p legacy https://x.example key-file=/k threads=1 ${k}=1`).message, /word 6 is an unknown field/);
  });
});

describe("providers file: reload", () => {
  const o = { path: PATH, types: TASK_TYPES, env: {}, readFile: runtime(FILES).readFile };

  test("a good text gives the new providers, every key re-read", () => {
    const r = reloadProviders(EXAMPLE, o);
    assert.ok(r.ok);
    assert.deepEqual(r.providers.map((p) => [p.name, p.key]), [["captchaai", CAI_KEY], ["2captcha", TWO_KEY], ["capsolver", CAP_KEY]]);
    const rotated = reloadProviders(EXAMPLE, { ...o, readFile: runtime({ ...FILES, "/etc/captcha-worker/2captcha.key": CAP_KEY }).readFile });
    assert.ok(rotated.ok && rotated.providers[1]!.key === CAP_KEY);
  });

  test("a bad text, or a key file gone, is an error value naming the line, never a throw, never a key", () => {
    const bad = reloadProviders(EXAMPLE.replace("threads=10", "threads=ten"), o);
    assert.ok(!bad.ok);
    assert.match(bad.error, /line 2, field threads:/);
    const gone = reloadProviders(EXAMPLE, { ...o, readFile: runtime({ ...FILES, "/etc/captcha-worker/capsolver.key": "" }).readFile });
    assert.ok(!gone.ok);
    assert.match(gone.error, /line 5, field key-file: the file it names: the key is empty/);
    for (const key of KEYS) assert.ok(!bad.error.includes(key) && !gone.error.includes(key));
  });

  test("rereadProviders: the file and its keys, or without a file the CaptchaAI key; an unreadable file is an error value", () => {
    const { config } = parseConfig({ "providers-file": PATH }, {});
    const r = rereadProviders(config, {}, runtime({ ...FILES, [PATH]: EXAMPLE }), TASK_TYPES);
    assert.ok(r.ok && r.providers.length === 3);
    const missing = rereadProviders(config, {}, runtime(FILES), TASK_TYPES);
    assert.ok(!missing.ok && /cannot read/.test(missing.error));
    const noFile = parseConfig({ "api-key-file": "/run/k" }, {}).config;
    const again = rereadProviders(noFile, { "api-key-file": "/run/k" }, runtime({ "/run/k": TWO_KEY }), TASK_TYPES);
    assert.ok(again.ok && again.providers[0]!.key === TWO_KEY);
  });
});

describe("providers file: as config shows them", () => {
  test("every field as written, the key redacted with where it came from", () => {
    const shown = describeProviders(load(EXAMPLE));
    assert.deepEqual(shown[2], {
      name: "capsolver", protocol: "v2", dialect: "capsolver", url: "https://api.capsolver.com/", threads: null, price: 1.2, prices: {}, after: "10s",
      daily_budget: 20, types: "all", key: `[REDACTED: ${CAP_KEY.length} characters]`, key_source: "key-file",
      key_origin: "key-file /etc/captcha-worker/capsolver.key", line: 5,
    });
    assert.equal(shown[0]!.threads, 10);
    const text = JSON.stringify(shown);
    for (const key of KEYS) assert.ok(!text.includes(key));
  });
});
