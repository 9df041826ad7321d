// One logical task through the three intakes (/v1/tasks, /in.php, /createTask): the same verdict,
// the same field named, and the same form reaching the simulator, for every type of the catalogue
// with and without a proxy (and its password). The names each API uses are written out here from
// the 2captcha and anti-captcha API references and CaptchaAI's examples, not read from the
// catalogue under test.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { CLIENT_KEY, gatewayHarness, PNG } from "../_support/gateway.ts";
import { advance, eventually, withHarness, type Harness } from "../_support/harness.ts";
import { PNG_PLUS_SLASH_B64 } from "../_support/images.ts";

type Value = string | number | boolean | string[];
/**
 * Per field: its name in the legacy API, in a JSON-API task (null: that API cannot send it; a dotted
 * name nests) and in the upstream's in.php form. A list (BLS's nine images) is one parameter per item
 * where the names are a list.
 */
type Name = string | readonly string[];
type Names = Record<string, [legacy: Name, v2: string | null, upstream: Name]>;
interface TypeNames {
  legacy: Record<string, string>;
  /** The JSON-API type without a proxy and with one (null: that API has no such name). */
  v2: string | null;
  v2Proxied: string | null;
  /** Values the JSON-API task carries beside its fields (GeeTest v4's version). */
  v2Fixed?: Record<string, string | number>;
  upstream: Record<string, string>;
  fields: Names;
}

const SITE: Names = { sitekey: ["googlekey", "websiteKey", "googlekey"], pageurl: ["pageurl", "websiteURL", "pageurl"] };
const KEYED: Names = { sitekey: ["sitekey", "websiteKey", "sitekey"], pageurl: ["pageurl", "websiteURL", "pageurl"] };
const UA: Names = { useragent: ["userAgent", "userAgent", "userAgent"] };
const CELLS = Array.from({ length: 9 }, (_, i) => `image_base64_${i + 1}`);
const NAMES: Record<string, TypeNames> = {
  image: {
    legacy: { method: "base64" }, v2: "ImageToTextTask", v2Proxied: null, upstream: { method: "base64" },
    fields: {
      image: ["body", "body", "body"], phrase: ["phrase", "phrase", "phrase"], regsense: ["regsense", "case", "regsense"], numeric: ["numeric", "numeric", "numeric"],
      calc: ["calc", "math", "calc"], min_len: ["min_len", "minLength", "min_len"], max_len: ["max_len", "maxLength", "max_len"], lang: ["lang", "lang", "lang"],
      language: ["language", null, "language"], textinstructions: ["textinstructions", "comment", "textinstructions"],
    },
  },
  grid: {
    legacy: { method: "base64", recaptcha: "1" }, v2: "GridTask", v2Proxied: null, upstream: { method: "base64", recaptcha: "1" },
    fields: {
      image: ["body", "body", "body"], textinstructions: ["textinstructions", "comment", "textinstructions"], imginstructions: ["imginstructions", "imgInstructions", "imginstructions"],
      rows: ["recaptcharows", "rows", "recaptcharows"], cols: ["recaptchacols", "columns", "recaptchacols"],
    },
  },
  // CaptchaAI's own method (docs.captchaai.com, BLS captcha): the JSON API's BlsTask is the worker's name for it.
  bls: { legacy: { method: "bls" }, v2: "BlsTask", v2Proxied: null, upstream: { method: "bls" }, fields: { instructions: ["instructions", "instructions", "instructions"], images: [CELLS, "images", CELLS] } },
  recaptcha_v2: {
    legacy: { method: "userrecaptcha" }, v2: "RecaptchaV2TaskProxyless", v2Proxied: "RecaptchaV2Task", upstream: { method: "userrecaptcha" },
    fields: { ...SITE, invisible: ["invisible", "isInvisible", "invisible"], enterprise: ["enterprise", "isEnterprise", "enterprise"], data_s: ["data-s", "recaptchaDataSValue", "data-s"], ...UA },
  },
  recaptcha_v3: {
    legacy: { method: "userrecaptcha", version: "v3" }, v2: "RecaptchaV3TaskProxyless", v2Proxied: "ReCaptchaV3Task", upstream: { method: "userrecaptcha", version: "v3" },
    fields: { ...SITE, action: ["action", "pageAction", "action"], min_score: ["min_score", "minScore", "min_score"], enterprise: ["enterprise", "isEnterprise", "enterprise"], ...UA },
  },
  turnstile: {
    legacy: { method: "turnstile" }, v2: "TurnstileTaskProxyless", v2Proxied: "TurnstileTask", upstream: { method: "turnstile" },
    fields: { ...KEYED, action: ["action", "action", "action"], data: ["data", "data", "data"], pagedata: ["pagedata", "pagedata", "pagedata"], ...UA },
  },
  cloudflare_challenge: {
    legacy: { method: "cloudflare_challenge" }, v2: null, v2Proxied: "AntiCloudflareTask", upstream: { method: "cloudflare_challenge" },
    fields: { pageurl: ["pageurl", "websiteURL", "pageurl"], ...UA },
  },
  geetest: {
    legacy: { method: "geetest" }, v2: "GeeTestTaskProxyless", v2Proxied: "GeeTestTask", upstream: { method: "geetest" },
    fields: { gt: ["gt", "gt", "gt"], challenge: ["challenge", "challenge", "challenge"], pageurl: ["pageurl", "websiteURL", "pageurl"], api_server: ["api_server", "geetestApiServerSubdomain", "api_server"], ...UA },
  },
  // 2captcha's geetest_v4 with captcha_id; CaptchaAI's examples send method=geetest, version=4 and the id as gt.
  geetest_v4: {
    legacy: { method: "geetest_v4" }, v2: "GeeTestTaskProxyless", v2Proxied: "GeeTestTask", v2Fixed: { version: 4 }, upstream: { method: "geetest", version: "4" },
    fields: { captcha_id: ["captcha_id", "initParameters.captcha_id", "gt"], pageurl: ["pageurl", "websiteURL", "pageurl"], api_server: ["api_server", "geetestApiServerSubdomain", "api_server"], ...UA },
  },
  captchafox: { legacy: { method: "captchafox" }, v2: null, v2Proxied: "CaptchaFoxTask", upstream: { method: "captchafox" }, fields: { ...KEYED, ...UA } },
  friendly_captcha: { legacy: { method: "friendly_captcha" }, v2: "FriendlyCaptchaTaskProxyless", v2Proxied: "FriendlyCaptchaTask", upstream: { method: "friendly_captcha" }, fields: { ...KEYED, ...UA } },
  lemin: {
    legacy: { method: "lemin" }, v2: "LeminTaskProxyless", v2Proxied: "LeminTask", upstream: { method: "lemin" },
    fields: { captcha_id: ["captcha_id", "captchaId", "captcha_id"], div_id: ["div_id", "div_id", "div_id"], pageurl: ["pageurl", "websiteURL", "pageurl"], api_server: ["api_server", "leminApiServerSubdomain", "api_server"], ...UA },
  },
};
/** The proxy's names in each API (a refusal of it names these). */
const PROXY_NAMES: Names = { proxy: ["proxy", "proxyAddress", "proxy"], proxytype: ["proxytype", "proxyType", "proxytype"] };

const KEY = "6Le-wvkSAAAAAPBMRTvw0Q4Muexq9bi0DJwx_mJ-";
const TS_KEY = "0x4AAAAAAAC3DHQFLr1GavRN";
const PAGE = "https://example.com/login";
const AGENT = "Mozilla/5.0 (X11; Linux x86_64) AgreementTest/1.0";
/** A proxy with its login and password: the password must reach the upstream in CaptchaAI's form. */
const PROXY = { proxy: "scraper7:pr0xy-Pass-4e1d@10.20.30.40:3128", proxytype: "HTTP" };
const type = (t: string) => (extra: Record<string, Value> = {}) => (base: Record<string, Value>) => ({ type: t, ...base, ...extra });
const img = (extra: Record<string, Value> = {}) => ({ type: "image", image: PNG, ...extra });
const rc2 = (extra: Record<string, Value> = {}) => ({ type: "recaptcha_v2", sitekey: KEY, pageurl: PAGE, ...extra });
const rc3 = (extra: Record<string, Value> = {}) => ({ type: "recaptcha_v3", sitekey: KEY, pageurl: PAGE, ...extra });
const ts = (extra: Record<string, Value> = {}) => ({ type: "turnstile", sitekey: TS_KEY, pageurl: PAGE, ...extra });
const grid = (extra: Record<string, Value> = {}) => type("grid")(extra)({ image: PNG, textinstructions: "select all buses" });
const bls = (extra: Record<string, Value> = {}) => type("bls")(extra)({ instructions: "664", images: Array<string>(9).fill(PNG) });
const cf = (extra: Record<string, Value> = {}) => type("cloudflare_challenge")(extra)({ pageurl: PAGE });
const gt3 = (extra: Record<string, Value> = {}) => type("geetest")(extra)({ gt: "81388ea1fc187e0c335c0a8907ff2625", challenge: "12345678abc90123d45678ef90123a456b", pageurl: PAGE });
const gt4 = (extra: Record<string, Value> = {}) => type("geetest_v4")(extra)({ captcha_id: "e392e1d7fd421dc63325744d5a2b9c73", pageurl: PAGE });
const fox = (extra: Record<string, Value> = {}) => type("captchafox")(extra)({ sitekey: "sk-captchafox-0123", pageurl: PAGE });
const fc = (extra: Record<string, Value> = {}) => type("friendly_captcha")(extra)({ sitekey: "FCMST5VUMCBOCGQ9", pageurl: PAGE });
const lemin = (extra: Record<string, Value> = {}) => type("lemin")(extra)({ captcha_id: "CROPPED_3dfdd5c_d1872b526b794d83ba3b365eb15a200b", div_id: "lemin-cropped-captcha", pageurl: PAGE });
const drop = (o: Record<string, Value>, k: string) => Object.fromEntries(Object.entries(o).filter(([x]) => x !== k));

/** A logical task, and the field a refusal must name (undefined: every API takes it). `upstream`: values the upstream receives when they differ from the task's (normalised). */
interface Variant { name: string; task: Record<string, Value>; refused?: string; upstream?: Record<string, string> }

const VARIANTS: Variant[] = [
  { name: "an image", task: img() },
  { name: "an image with every option", task: img({ phrase: true, regsense: false, numeric: 3, calc: true, min_len: 2, max_len: 6, lang: "EN", textinstructions: "red letters only" }), upstream: { lang: "en" } },
  { name: "an image as a data: URL", task: img({ image: `data:image/png;base64,${PNG}` }), upstream: { body: PNG } },
  { name: "an image in URL-safe base64", task: img({ image: PNG_PLUS_SLASH_B64.replaceAll("+", "-").replaceAll("/", "_") }), upstream: { body: PNG_PLUS_SLASH_B64 } },
  { name: "an image with max_len 0 (no maximum) under min_len", task: img({ min_len: 5, max_len: 0 }) },
  { name: "an image with numeric 0 and min_len 20", task: img({ numeric: 0, min_len: 20 }) },
  { name: "an image without its image", task: drop(img(), "image"), refused: "image" },
  { name: "an image that is empty", task: img({ image: "====" }), refused: "image" },
  { name: "an image that is not base64", task: img({ image: "not*base64!" }), refused: "image" },
  { name: "an image whose padding is wrong", task: img({ image: `${PNG}===` }), refused: "image" },
  { name: "numeric out of range", task: img({ numeric: 5 }), refused: "numeric" },
  { name: "min_len above max_len", task: img({ min_len: 6, max_len: 4 }), refused: "min_len" },
  { name: "min_len over 20", task: img({ min_len: 21 }), refused: "min_len" },
  { name: "a language code too long", task: img({ lang: "english" }), refused: "lang" },
  { name: "instructions over 140 characters", task: img({ textinstructions: "x".repeat(141) }), refused: "textinstructions" },
  { name: "instructions with a control character", task: img({ textinstructions: "red\u0007letters" }), refused: "textinstructions" },
  { name: "a phrase flag that is no flag", task: img({ phrase: "yes" }), refused: "phrase" },
  { name: "a case flag that is no flag", task: img({ regsense: "maybe" }), refused: "regsense" },
  { name: "reCAPTCHA v2", task: rc2() },
  { name: "reCAPTCHA v2 invisible", task: rc2({ invisible: true }) },
  { name: "reCAPTCHA v2 Enterprise, visible", task: rc2({ enterprise: true, invisible: false }) },
  { name: "reCAPTCHA v2 without a sitekey", task: drop(rc2(), "sitekey"), refused: "sitekey" },
  { name: "reCAPTCHA v2 with a short sitekey", task: rc2({ sitekey: "short" }), refused: "sitekey" },
  { name: "reCAPTCHA v2 with an ftp pageurl", task: rc2({ pageurl: "ftp://example.com/" }), refused: "pageurl" },
  { name: "reCAPTCHA v2 with a pageurl that is no URL", task: rc2({ pageurl: "not a url" }), refused: "pageurl" },
  { name: "reCAPTCHA v2 with a javascript: pageurl", task: rc2({ pageurl: "javascript:alert(1)" }), refused: "pageurl" },
  { name: "reCAPTCHA v2 without a pageurl", task: drop(rc2(), "pageurl"), refused: "pageurl" },
  { name: "reCAPTCHA v2 with an invisible flag that is no flag", task: rc2({ invisible: "maybe" }), refused: "invisible" },
  { name: "reCAPTCHA v3", task: rc3() },
  { name: "reCAPTCHA v3 with an action and a score", task: rc3({ action: "login/verify", min_score: 0.3 }) },
  { name: "reCAPTCHA v3 Enterprise at the highest score", task: rc3({ enterprise: true, min_score: 0.9 }) },
  { name: "reCAPTCHA v3 with a score over 0.9", task: rc3({ min_score: 0.95 }), refused: "min_score" },
  { name: "reCAPTCHA v3 with a score under 0.1", task: rc3({ min_score: 0.05 }), refused: "min_score" },
  { name: "reCAPTCHA v3 with an action holding a space", task: rc3({ action: "log in" }), refused: "action" },
  { name: "reCAPTCHA v3 without a sitekey", task: drop(rc3(), "sitekey"), refused: "sitekey" },
  { name: "Turnstile", task: ts() },
  { name: "Turnstile with an action and cData", task: ts({ action: "login", data: "cdata-0123" }) },
  { name: "Turnstile with the shortest sitekey", task: ts({ sitekey: "0x4AAAAA" }) },
  { name: "Turnstile with a sitekey holding a dot", task: ts({ sitekey: "0x4AAAA.AAC3D" }), refused: "sitekey" },
  { name: "Turnstile with an action over 100 characters", task: ts({ action: "a".repeat(101) }), refused: "action" },
  { name: "Turnstile with cData over 1024 characters", task: ts({ data: "d".repeat(1025) }), refused: "data" },
  { name: "Turnstile with cData holding a control character", task: ts({ data: "a\u0001b" }), refused: "data" },
  { name: "Turnstile without a pageurl", task: drop(ts(), "pageurl"), refused: "pageurl" },
  { name: "Turnstile with pagedata, a user agent and a proxy", task: ts({ action: "managed", data: "cdata-77", pagedata: "chl-page-data", useragent: AGENT, ...PROXY }) },
  { name: "Turnstile through a proxy without credentials, its type in lower case", task: ts({ proxy: "10.20.30.40:8080", proxytype: "socks5" }), upstream: { proxytype: "SOCKS5" } },
  { name: "reCAPTCHA v2 with data-s, a user agent and a proxy", task: rc2({ data_s: "s-value-1", useragent: AGENT, ...PROXY }) },
  { name: "reCAPTCHA v2 Enterprise through an HTTPS proxy", task: rc2({ enterprise: true, proxy: "scraper7:pr0xy-Pass-4e1d@proxy.example.net:443", proxytype: "HTTPS" }) },
  { name: "reCAPTCHA v2 through a proxy whose password holds a colon", task: rc2({ proxy: "scraper7:pa:ss-9@10.20.30.40:3128", proxytype: "HTTP" }) },
  { name: "reCAPTCHA v3 through a proxy", task: rc3({ action: "login", min_score: 0.3, ...PROXY }) },
  { name: "reCAPTCHA v2 through a proxy of no known type", task: rc2({ ...PROXY, proxytype: "FTP" }), refused: "proxytype" },
  { name: "reCAPTCHA v2 through a proxy on port 70000", task: rc2({ ...PROXY, proxy: "scraper7:pr0xy-Pass-4e1d@10.20.30.40:70000" }), refused: "proxy" },
  { name: "reCAPTCHA v2 through a proxy with a login and no password", task: rc2({ ...PROXY, proxy: "scraper7:@10.20.30.40:3128" }), refused: "proxy" },
  { name: "reCAPTCHA v2 through a proxy whose host is no host", task: rc2({ ...PROXY, proxy: "scraper7:pr0xy-Pass-4e1d@bad_host!:3128" }), refused: "proxy" },
  { name: "a grid with text instructions, 4 by 4", task: grid({ rows: 4, cols: 4 }) },
  { name: "a grid with image instructions", task: drop(grid({ imginstructions: PNG }), "textinstructions") },
  { name: "a grid without instructions", task: drop(grid(), "textinstructions"), refused: "textinstructions" },
  { name: "a grid of 11 rows", task: grid({ rows: 11 }), refused: "rows" },
  { name: "BLS", task: bls() },
  { name: "BLS with eight images", task: bls({ images: Array<string>(8).fill(PNG) }), refused: "images" },
  { name: "BLS with instructions that are no number", task: bls({ instructions: "six" }), refused: "instructions" },
  { name: "Cloudflare Challenge through an HTTPS proxy, with a user agent", task: cf({ useragent: AGENT, ...PROXY, proxytype: "HTTPS" }) },
  { name: "Cloudflare Challenge without a proxy", task: cf(), refused: "proxy" },
  { name: "Cloudflare Challenge through a SOCKS5 proxy (CaptchaAI takes HTTP or HTTPS)", task: cf({ ...PROXY, proxytype: "SOCKS5" }), refused: "proxytype" },
  { name: "GeeTest v3", task: gt3() },
  { name: "GeeTest v3 with its API server, a user agent and a proxy", task: gt3({ api_server: "api-na.geetest.com", useragent: AGENT, ...PROXY }) },
  { name: "GeeTest v3 without a challenge", task: drop(gt3(), "challenge"), refused: "challenge" },
  { name: "GeeTest v4", task: gt4() },
  { name: "GeeTest v4 through a proxy", task: gt4({ api_server: "gcaptcha4.geetest.com", ...PROXY }) },
  { name: "GeeTest v4 without a captcha id", task: drop(gt4(), "captcha_id"), refused: "captcha_id" },
  { name: "CaptchaFox through a proxy with a user agent", task: fox({ useragent: AGENT, ...PROXY }) },
  { name: "CaptchaFox without a proxy", task: fox({ useragent: AGENT }), refused: "proxy" },
  { name: "Friendly Captcha", task: fc() },
  { name: "Friendly Captcha through a proxy", task: fc(PROXY) },
  { name: "Lemin with its API server", task: lemin({ api_server: "api.leminnow.com" }) },
  { name: "Lemin through a proxy with a user agent", task: lemin({ useragent: AGENT, ...PROXY }) },
  { name: "Lemin without a div id", task: drop(lemin(), "div_id"), refused: "div_id" },
];

const text = (v: Value) => (typeof v === "boolean" ? (v ? "1" : "0") : String(v));
/** A value under its names: one parameter, or one per item of a list. */
const spread = (name: Name, value: Value): Record<string, string> =>
  typeof name === "string" ? { [name]: text(value) } : Object.fromEntries(name.map((n, i) => [n, text((value as string[])[i]!)]));
/** `login:password@host:port` or `host:port` in a JSON-API task's proxy fields (undefined: not in that form). */
function v2ProxyOf(proxy: string, proxytype: string): Record<string, string | number> | undefined {
  const m = /^(?:([^:@]+):(.*)@)?([^:@]+):(\d+)$/.exec(proxy);
  if (!m) return undefined;
  return { proxyType: proxytype.toLowerCase(), proxyAddress: m[3]!, proxyPort: Number(m[4]), ...(m[1] !== undefined ? { proxyLogin: m[1], proxyPassword: m[2]! } : {}) };
}
/** Sets a dotted name inside `o` (`initParameters.captcha_id`). */
function put(o: Record<string, unknown>, name: string, value: unknown): void {
  const parts = name.split(".");
  let at = o;
  for (const part of parts.slice(0, -1)) at = (at[part] ??= {}) as Record<string, unknown>;
  at[parts.at(-1)!] = value;
}

/** The task's body for each API (null: that API cannot send it). */
function forms(task: Record<string, Value>) {
  const names = NAMES[task.type as string]!;
  const legacy: Record<string, string> = { key: CLIENT_KEY, json: "1", ...names.legacy };
  const proxied = task.proxy !== undefined;
  const typeName = proxied ? names.v2Proxied : (names.v2 ?? names.v2Proxied);
  const v2: Record<string, unknown> = { type: typeName, ...names.v2Fixed };
  let v2able = typeName !== null;
  for (const [field, value] of Object.entries(task)) {
    if (field === "type" || field === "proxy" || field === "proxytype") continue;
    const [l, v] = names.fields[field]!;
    Object.assign(legacy, spread(l, value));
    if (v === null) v2able = false;
    else put(v2, v, value);
  }
  if (proxied) {
    Object.assign(legacy, { proxy: String(task.proxy), proxytype: String(task.proxytype) });
    const fields = v2ProxyOf(String(task.proxy), String(task.proxytype));
    if (fields) Object.assign(v2, fields);
    else v2able = false;
  }
  return { legacy, v2: v2able ? v2 : null };
}

/** The upstream form the task must become. */
function expectedForm(v: Variant): Record<string, string> {
  const names = NAMES[v.task.type as string]!;
  const form: Record<string, string> = { json: "1", ...names.upstream };
  for (const [field, value] of Object.entries(v.task)) if (field !== "type" && field !== "proxy" && field !== "proxytype") Object.assign(form, spread(names.fields[field]![2], value));
  if (v.task.proxy !== undefined) Object.assign(form, { proxy: String(v.task.proxy), proxytype: String(v.task.proxytype).toUpperCase() });
  return { ...form, ...v.upstream };
}

async function post(url: string, body: string, contentType: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, { method: "POST", headers: { "content-type": contentType, ...headers }, body });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe("one task catalogue: the same task through /v1/tasks, /in.php and /createTask", () => {
  test(`${VARIANTS.length} variants of every type, with and without a proxy, get the same verdict, name the same field, and send the upstream the same form`, () =>
    withHarness(async (h: Harness) => {
      for (const v of VARIANTS) {
        const { legacy, v2 } = forms(v.task);
        const names = NAMES[v.task.type as string]!;
        const before = h.sim.submits().length;
        const native = await post(`${h.base}/v1/tasks`, JSON.stringify(v.task), "application/json", { authorization: `Bearer ${CLIENT_KEY}` });
        const old = await post(`${h.base}/in.php`, new URLSearchParams(legacy).toString(), "application/x-www-form-urlencoded");
        const json = v2 === null ? undefined : await post(`${h.base}/createTask`, JSON.stringify({ clientKey: CLIENT_KEY, task: v2 }), "application/json");
        if (v.refused === undefined) {
          assert.equal(native.status, 202, `${v.name}: /v1/tasks ${JSON.stringify(native.body)}`);
          assert.equal(old.body.status, 1, `${v.name}: /in.php ${JSON.stringify(old.body)}`);
          if (json) assert.equal(json.body.errorId, 0, `${v.name}: /createTask ${JSON.stringify(json.body)}`);
          const sent = json ? 3 : 2;
          await eventually(() => h.sim.submits().length >= before + sent, `${v.name}: ${sent} submits`);
          const got = h.sim.submits().slice(before);
          for (const form of got) assert.deepEqual(form, expectedForm(v), v.name);
          // The simulator checks each method's required parameters as CaptchaAI does: taken means solved.
          const ids = [native.body.id, old.body.request, json?.body.taskId].filter((id) => id !== undefined).map(String);
          for (let s = 0; s < 30 && ids.some((id) => h.worker.pool.find(id)?.status !== "solved"); s++) await advance(h.clock, 1000);
          for (const id of ids) assert.equal(h.worker.pool.find(id)?.status, "solved", `${v.name}: ${JSON.stringify(h.worker.pool.find(id)?.error)}`);
        } else {
          const [legacyNames, v2Name] = names.fields[v.refused] ?? PROXY_NAMES[v.refused]!;
          const legacyName = typeof legacyNames === "string" ? legacyNames : legacyNames[0];
          assert.equal(native.status, 400, `${v.name}: /v1/tasks ${JSON.stringify(native.body)}`);
          assert.equal(native.body.field, v.refused, v.name);
          assert.equal(old.body.status, 0, `${v.name}: /in.php ${JSON.stringify(old.body)}`);
          assert.match(String(old.body.request), /^ERROR_/, v.name);
          assert.match(String(old.body.error_text), new RegExp(`^Invalid ${legacyName}: `), `${v.name}: ${JSON.stringify(old.body)}`);
          if (json) {
            assert.notEqual(json.body.errorId, 0, `${v.name}: /createTask ${JSON.stringify(json.body)}`);
            assert.match(String(json.body.errorDescription), new RegExp(`^Invalid ${v2Name}: `), `${v.name}: ${JSON.stringify(json.body)}`);
          }
          assert.equal(h.sim.submits().length, before, `${v.name}: nothing refused reaches the upstream`);
        }
        await advance(h.clock, 2000); // let this variant's tasks end before the next
      }
      assert.ok(VARIANTS.length >= 75 && VARIANTS.filter((v) => v.refused).length >= 35 && VARIANTS.filter((v) => !v.refused).length >= 30);
      for (const t of Object.keys(NAMES)) {
        const taken = VARIANTS.filter((v) => v.task.type === t && !v.refused);
        assert.ok(taken.length > 0, `${t}: a variant taken`);
        if (t !== "image" && t !== "grid" && t !== "bls") assert.ok(taken.some((v) => v.task.proxy !== undefined), `${t}: a variant with a proxy`);
        if (!["image", "grid", "bls", "cloudflare_challenge", "captchafox"].includes(t)) assert.ok(taken.some((v) => v.task.proxy === undefined), `${t}: a variant without a proxy`);
      }
    }, gatewayHarness({ threads: "20" })));
});
