// One logical task through the three intakes (/v1/tasks, /in.php, /createTask): the same verdict,
// the same field named, and the same form reaching the simulator. The names each API uses are
// written out here from the 2captcha API references, not read from the catalogue under test.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { CLIENT_KEY, gatewayHarness, PNG } from "../_support/gateway.ts";
import { advance, eventually, withHarness, type Harness } from "../_support/harness.ts";
import { PNG_PLUS_SLASH_B64 } from "../_support/images.ts";

type Value = string | number | boolean;
/** Per field: its name in the legacy API, in a JSON-API task (null: that API cannot send it) and in the upstream's in.php form. */
type Names = Record<string, [legacy: string, v2: string | null, upstream: string]>;
interface TypeNames { legacy: Record<string, string>; v2: string; upstream: Record<string, string>; fields: Names }

const SITE: Names = { sitekey: ["googlekey", "websiteKey", "googlekey"], pageurl: ["pageurl", "websiteURL", "pageurl"] };
const NAMES: Record<string, TypeNames> = {
  image: {
    legacy: { method: "base64" }, v2: "ImageToTextTask", upstream: { method: "base64" },
    fields: {
      image: ["body", "body", "body"], phrase: ["phrase", "phrase", "phrase"], regsense: ["regsense", "case", "regsense"], numeric: ["numeric", "numeric", "numeric"],
      calc: ["calc", "math", "calc"], min_len: ["min_len", "minLength", "min_len"], max_len: ["max_len", "maxLength", "max_len"], lang: ["lang", "lang", "lang"],
      language: ["language", null, "language"], textinstructions: ["textinstructions", "comment", "textinstructions"],
    },
  },
  recaptcha_v2: { legacy: { method: "userrecaptcha" }, v2: "RecaptchaV2TaskProxyless", upstream: { method: "userrecaptcha" }, fields: { ...SITE, invisible: ["invisible", "isInvisible", "invisible"], enterprise: ["enterprise", "isEnterprise", "enterprise"] } },
  recaptcha_v3: {
    legacy: { method: "userrecaptcha", version: "v3" }, v2: "RecaptchaV3TaskProxyless", upstream: { method: "userrecaptcha", version: "v3" },
    fields: { ...SITE, action: ["action", "pageAction", "action"], min_score: ["min_score", "minScore", "min_score"], enterprise: ["enterprise", "isEnterprise", "enterprise"] },
  },
  turnstile: {
    legacy: { method: "turnstile" }, v2: "TurnstileTaskProxyless", upstream: { method: "turnstile" },
    fields: { sitekey: ["sitekey", "websiteKey", "sitekey"], pageurl: ["pageurl", "websiteURL", "pageurl"], action: ["action", "action", "action"], data: ["data", "data", "data"] },
  },
};

const KEY = "6Le-wvkSAAAAAPBMRTvw0Q4Muexq9bi0DJwx_mJ-";
const TS_KEY = "0x4AAAAAAAC3DHQFLr1GavRN";
const PAGE = "https://example.com/login";
const img = (extra: Record<string, Value> = {}) => ({ type: "image", image: PNG, ...extra });
const rc2 = (extra: Record<string, Value> = {}) => ({ type: "recaptcha_v2", sitekey: KEY, pageurl: PAGE, ...extra });
const rc3 = (extra: Record<string, Value> = {}) => ({ type: "recaptcha_v3", sitekey: KEY, pageurl: PAGE, ...extra });
const ts = (extra: Record<string, Value> = {}) => ({ type: "turnstile", sitekey: TS_KEY, pageurl: PAGE, ...extra });
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
];

const text = (v: Value) => (typeof v === "boolean" ? (v ? "1" : "0") : String(v));

/** The task's body for each API (null: that API cannot send one of its fields). */
function forms(task: Record<string, Value>) {
  const names = NAMES[task.type as string]!;
  const legacy: Record<string, string> = { key: CLIENT_KEY, json: "1", ...names.legacy };
  const v2: Record<string, Value> = { type: names.v2 };
  let v2able = true;
  for (const [field, value] of Object.entries(task)) {
    if (field === "type") continue;
    const [l, v, _u] = names.fields[field]!;
    legacy[l] = text(value);
    if (v === null) v2able = false;
    else v2[v] = value;
  }
  return { legacy, v2: v2able ? v2 : null };
}

/** The upstream form the task must become. */
function expectedForm(v: Variant): Record<string, string> {
  const names = NAMES[v.task.type as string]!;
  const form: Record<string, string> = { json: "1", ...names.upstream };
  for (const [field, value] of Object.entries(v.task)) if (field !== "type") form[names.fields[field]![2]] = text(value);
  return { ...form, ...v.upstream };
}

async function post(url: string, body: string, contentType: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, { method: "POST", headers: { "content-type": contentType, ...headers }, body });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe("one task catalogue: the same task through /v1/tasks, /in.php and /createTask", () => {
  test(`${VARIANTS.length} variants get the same verdict, name the same field, and send the upstream the same form`, () =>
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
        } else {
          const [legacyName, v2Name] = names.fields[v.refused]!;
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
      assert.ok(VARIANTS.length >= 40 && VARIANTS.filter((v) => v.refused).length >= 15 && VARIANTS.filter((v) => !v.refused).length >= 15);
    }, gatewayHarness({ threads: "20" })));
});
