import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { V2_DIALECTS } from "../../../src/config/providers.ts";
import { CATALOGUE, type TaskParams } from "../../../src/tasks/task_catalogue.ts";
import { DIALECTS, dialectsFor, dialectTakes, solutionFromV2, v2TaskFor, type Dialect } from "../../../src/tasks/task_dialects.ts";
import { readV2Task } from "../../../src/tasks/task_input.ts";
import { TaskProxy } from "../../../src/tasks/task_proxy.ts";

/** An image of 120 bytes: the intake refuses one under 100 (2captcha and CaptchaAI do). */
const IMG = Buffer.alloc(120, 7).toString("base64");
const URL_ = "https://example.com/login";
const proxyOf = (type: string) => TaskProxy.parse("alice:s3cret@10.1.2.3:8080", type) as TaskProxy;

/** One task of each type (and the variants that change the name), with every field it has. */
const TASKS: Record<string, TaskParams> = {
  image: { type: "image", image: IMG, phrase: true, regsense: true, numeric: 1, calc: false, min_len: 2, max_len: 6, lang: "en", textinstructions: "type it" },
  grid: { type: "grid", image: IMG, textinstructions: "cars", imginstructions: IMG, rows: 3, cols: 4 },
  bls: { type: "bls", instructions: "664", images: Array(9).fill(IMG) },
  recaptcha_v2: { type: "recaptcha_v2", sitekey: "6Le-sitekey-abc", pageurl: URL_, invisible: true, data_s: "ds", useragent: "UA/1" },
  recaptcha_v2_enterprise: { type: "recaptcha_v2", sitekey: "6Le-sitekey-abc", pageurl: URL_, enterprise: true, data_s: "ds" },
  recaptcha_v3: { type: "recaptcha_v3", sitekey: "6Le-sitekey-abc", pageurl: URL_, action: "login", min_score: 0.7 },
  recaptcha_v3_enterprise: { type: "recaptcha_v3", sitekey: "6Le-sitekey-abc", pageurl: URL_, action: "login", min_score: 0.7, enterprise: true },
  turnstile: { type: "turnstile", sitekey: "0x4AAAAAAA", pageurl: URL_, action: "login", data: "cd", pagedata: "pd", useragent: "UA/1" },
  cloudflare_challenge: { type: "cloudflare_challenge", pageurl: URL_, useragent: "UA/1" },
  geetest: { type: "geetest", gt: "gt-key-1", challenge: "challenge-1", pageurl: URL_, api_server: "api-na.geetest.com", useragent: "UA/1" },
  geetest_v4: { type: "geetest_v4", captcha_id: "cid-1", pageurl: URL_ },
  captchafox: { type: "captchafox", sitekey: "sk-12345678", pageurl: URL_, useragent: "UA/1" },
  friendly_captcha: { type: "friendly_captcha", sitekey: "FCMDESUD3M34857N", pageurl: URL_, useragent: "UA/1" },
  lemin: { type: "lemin", captcha_id: "CROPPED_abc", div_id: "lemin-cropped-captcha", pageurl: URL_, api_server: "api.leminnow.com" },
};

type Pair = readonly [string | undefined, string | undefined];
const __: Pair = [undefined, undefined];
/** [without a proxy, with one] per dialect, in DIALECTS' order: anticaptcha, capsolver, capmonster, 2captcha. */
const NAMES: Record<keyof typeof TASKS, readonly [Pair, Pair, Pair, Pair]> = {
  image: [["ImageToTextTask", undefined], ["ImageToTextTask", undefined], ["ImageToTextTask", undefined], ["ImageToTextTask", undefined]],
  grid: [__, __, __, ["GridTask", undefined]],
  bls: [__, __, __, __],
  recaptcha_v2: [["RecaptchaV2TaskProxyless", "RecaptchaV2Task"], ["ReCaptchaV2TaskProxyLess", "ReCaptchaV2Task"], ["RecaptchaV2Task", "RecaptchaV2Task"], ["RecaptchaV2TaskProxyless", "RecaptchaV2Task"]],
  recaptcha_v2_enterprise: [
    // anti-captcha's proxied reCAPTCHA tasks need the user agent, which this task lacks.
    ["RecaptchaV2EnterpriseTaskProxyless", undefined], ["ReCaptchaV2EnterpriseTaskProxyLess", "ReCaptchaV2EnterpriseTask"],
    ["RecaptchaV2EnterpriseTask", "RecaptchaV2EnterpriseTask"], ["RecaptchaV2EnterpriseTaskProxyless", "RecaptchaV2EnterpriseTask"],
  ],
  recaptcha_v3: [["RecaptchaV3TaskProxyless", undefined], ["ReCaptchaV3TaskProxyLess", "ReCaptchaV3Task"], ["RecaptchaV3TaskProxyless", undefined], ["RecaptchaV3TaskProxyless", undefined]],
  recaptcha_v3_enterprise: [["RecaptchaV3TaskProxyless", undefined], ["ReCaptchaV3EnterpriseTaskProxyLess", "ReCaptchaV3EnterpriseTask"], ["RecaptchaV3EnterpriseTask", undefined], ["RecaptchaV3TaskProxyless", undefined]],
  turnstile: [["TurnstileTaskProxyless", "TurnstileTask"], ["AntiTurnstileTaskProxyLess", undefined], ["TurnstileTask", "TurnstileTask"], ["TurnstileTaskProxyless", "TurnstileTask"]],
  cloudflare_challenge: [__, [undefined, "AntiCloudflareTask"], __, __],
  geetest: [["GeeTestTaskProxyless", "GeeTestTask"], ["GeeTestTaskProxyLess", undefined], ["GeeTestTask", "GeeTestTask"], ["GeeTestTaskProxyless", "GeeTestTask"]],
  geetest_v4: [["GeeTestTaskProxyless", undefined], ["GeeTestTaskProxyLess", undefined], ["GeeTestTask", "GeeTestTask"], ["GeeTestTaskProxyless", "GeeTestTask"]],
  captchafox: [__, __, __, [undefined, "CaptchaFoxTask"]],
  friendly_captcha: [["FriendlyCaptchaTaskProxyless", "FriendlyCaptchaTask"], __, __, ["FriendlyCaptchaTaskProxyless", "FriendlyCaptchaTask"]],
  lemin: [__, __, __, ["LeminTaskProxyless", "LeminTask"]],
};

const site = { websiteURL: URL_, websiteKey: "6Le-sitekey-abc" };
/** The task each dialect receives without a proxy (its `type` left out): every field under its dialect's name. */
const BODIES: Partial<Record<keyof typeof TASKS, Partial<Record<Dialect, Record<string, unknown>>>>> = {
  image: {
    anticaptcha: { body: IMG, phrase: true, case: true, numeric: 1, math: false, minLength: 2, maxLength: 6, comment: "type it" },
    "2captcha": { body: IMG, phrase: true, case: true, numeric: 1, math: false, minLength: 2, maxLength: 6, comment: "type it" },
    capmonster: { body: IMG, case: true, numeric: 1, math: false },
    capsolver: { body: IMG },
  },
  grid: { "2captcha": { body: IMG, comment: "cars", imgInstructions: IMG, rows: 3, columns: 4 } },
  recaptcha_v2: {
    anticaptcha: { ...site, isInvisible: true, recaptchaDataSValue: "ds", userAgent: "UA/1" },
    capsolver: { ...site, isInvisible: true, recaptchaDataSValue: "ds", userAgent: "UA/1" },
    capmonster: { ...site, isInvisible: true, recaptchaDataSValue: "ds", userAgent: "UA/1" },
    "2captcha": { ...site, isInvisible: true, recaptchaDataSValue: "ds", userAgent: "UA/1" },
  },
  recaptcha_v2_enterprise: Object.fromEntries(DIALECTS.map((d) => [d, { ...site, enterprisePayload: { s: "ds" } }])),
  recaptcha_v3: {
    anticaptcha: { ...site, pageAction: "login", minScore: 0.7 },
    capsolver: { ...site, pageAction: "login" },
    capmonster: { ...site, pageAction: "login", minScore: 0.7 },
    "2captcha": { ...site, pageAction: "login", minScore: 0.7 },
  },
  recaptcha_v3_enterprise: {
    anticaptcha: { ...site, pageAction: "login", minScore: 0.7, isEnterprise: true },
    capsolver: { ...site, pageAction: "login" },
    capmonster: { ...site, pageAction: "login", minScore: 0.7 },
    "2captcha": { ...site, pageAction: "login", minScore: 0.7, isEnterprise: true },
  },
  turnstile: {
    anticaptcha: { websiteURL: URL_, websiteKey: "0x4AAAAAAA", action: "login", cData: "cd", chlPageData: "pd" },
    capsolver: { websiteURL: URL_, websiteKey: "0x4AAAAAAA", metadata: { action: "login", cdata: "cd" } },
    capmonster: { websiteURL: URL_, websiteKey: "0x4AAAAAAA", pageAction: "login", data: "cd", pageData: "pd", userAgent: "UA/1" },
    "2captcha": { websiteURL: URL_, websiteKey: "0x4AAAAAAA", action: "login", data: "cd", pagedata: "pd", userAgent: "UA/1" },
  },
  geetest: {
    anticaptcha: { websiteURL: URL_, gt: "gt-key-1", challenge: "challenge-1", geetestApiServerSubdomain: "api-na.geetest.com", userAgent: "UA/1" },
    capsolver: { websiteURL: URL_, gt: "gt-key-1", challenge: "challenge-1", geetestApiServerSubdomain: "api-na.geetest.com" },
    capmonster: { websiteURL: URL_, gt: "gt-key-1", challenge: "challenge-1", geetestApiServerSubdomain: "api-na.geetest.com", userAgent: "UA/1" },
    "2captcha": { websiteURL: URL_, gt: "gt-key-1", challenge: "challenge-1", geetestApiServerSubdomain: "api-na.geetest.com", userAgent: "UA/1" },
  },
  geetest_v4: {
    anticaptcha: { websiteURL: URL_, version: 4, gt: "cid-1", initParameters: { captcha_id: "cid-1" } },
    capsolver: { websiteURL: URL_, captchaId: "cid-1" },
    capmonster: { websiteURL: URL_, version: 4, gt: "cid-1" },
    "2captcha": { websiteURL: URL_, version: 4, initParameters: { captcha_id: "cid-1" } },
  },
  friendly_captcha: {
    anticaptcha: { websiteURL: URL_, websiteKey: "FCMDESUD3M34857N" },
    "2captcha": { websiteURL: URL_, websiteKey: "FCMDESUD3M34857N", userAgent: "UA/1" },
  },
  lemin: { "2captcha": { websiteURL: URL_, captchaId: "CROPPED_abc", divId: "lemin-cropped-captcha", leminApiServerSubdomain: "api.leminnow.com" } },
};

/** Each dialect's proxy fields for an HTTPS proxy with a login. */
const PROXIED: Record<Dialect, Record<string, unknown>> = {
  anticaptcha: { proxyType: "http", proxyAddress: "10.1.2.3", proxyPort: 8080, proxyLogin: "alice", proxyPassword: "s3cret" },
  "2captcha": { proxyType: "https", proxyAddress: "10.1.2.3", proxyPort: 8080, proxyLogin: "alice", proxyPassword: "s3cret" },
  capmonster: { proxyType: "https", proxyAddress: "10.1.2.3", proxyPort: 8080, proxyLogin: "alice", proxyPassword: "s3cret" },
  capsolver: { proxy: "https:10.1.2.3:8080:alice:s3cret" },
};

describe("task dialects", () => {
  test("the dialects are the providers file's v2 dialects", () => {
    assert.deepEqual([...DIALECTS], [...V2_DIALECTS]);
  });

  test("every catalogue type is in the table", () => {
    const covered = new Set(Object.values(TASKS).map((t) => t.type));
    assert.deepEqual(CATALOGUE.map((e) => e.type).filter((t) => !covered.has(t)), []);
  });

  for (const [name, params] of Object.entries(TASKS)) {
    test(`v2TaskFor names ${name} in each dialect, without a proxy and with one`, () => {
      DIALECTS.forEach((dialect, i) => {
        const [plain, proxied] = NAMES[name]![i]!;
        assert.equal(v2TaskFor(params, dialect)?.type, plain, `${dialect} without a proxy`);
        assert.equal(v2TaskFor({ ...params, proxy: proxyOf("HTTPS") }, dialect)?.type, proxied, `${dialect} with a proxy`);
        assert.equal(dialectTakes(params.type, dialect, false) || plain === undefined, true);
        if (proxied !== undefined) assert.ok(dialectsFor(params.type, true).includes(dialect));
      });
    });
  }

  for (const [name, byDialect] of Object.entries(BODIES)) {
    test(`v2TaskFor builds ${name}'s task in each dialect, and adds the dialect's proxy fields with a proxy`, () => {
      for (const [dialect, body] of Object.entries(byDialect!) as [Dialect, Record<string, unknown>][]) {
        const [plain, proxied] = NAMES[name]![DIALECTS.indexOf(dialect)]!;
        assert.deepEqual(v2TaskFor(TASKS[name]!, dialect), { type: plain, ...body }, dialect);
        if (proxied !== undefined) assert.deepEqual(v2TaskFor({ ...TASKS[name]!, proxy: proxyOf("HTTPS") }, dialect), { type: proxied, ...body, ...PROXIED[dialect] }, `${dialect} proxied`);
      }
    });
  }

  test("types taken only with a proxy: CapSolver's AntiCloudflareTask (one proxy string), 2captcha's CaptchaFoxTask", () => {
    assert.deepEqual(v2TaskFor({ ...TASKS.cloudflare_challenge!, proxy: proxyOf("SOCKS5") }, "capsolver"), {
      type: "AntiCloudflareTask", websiteURL: URL_, userAgent: "UA/1", proxy: "socks5:10.1.2.3:8080:alice:s3cret",
    });
    assert.deepEqual(v2TaskFor({ ...TASKS.captchafox!, proxy: TaskProxy.parse("10.1.2.3:3128", "SOCKS4") as TaskProxy }, "2captcha"), {
      type: "CaptchaFoxTask", websiteURL: URL_, websiteKey: "sk-12345678", userAgent: "UA/1", proxyType: "socks4", proxyAddress: "10.1.2.3", proxyPort: 3128,
    });
  });

  test("anti-captcha takes a proxied reCAPTCHA or GeeTest task only with its user agent (its task pages require one)", () => {
    const withProxy: TaskParams = { type: "geetest_v4", captcha_id: "cid-1", pageurl: URL_, proxy: proxyOf("HTTP") };
    assert.equal(v2TaskFor(withProxy, "anticaptcha"), undefined);
    assert.equal(v2TaskFor({ ...withProxy, useragent: "UA/1" } as TaskParams, "anticaptcha")?.type, "GeeTestTask");
    assert.equal(v2TaskFor({ type: "recaptcha_v2", sitekey: "6Le-sitekey-abc", pageurl: URL_, proxy: proxyOf("HTTP") }, "anticaptcha"), undefined);
    assert.equal(v2TaskFor(withProxy, "capmonster")?.type, "GeeTestTask", "the others take it without");
  });

  test("a proxy without a login sends no login; an IPv6 address loses its brackets in proxyAddress", () => {
    const p = TaskProxy.parse("[2001:db8::1]:1080", "SOCKS5") as TaskProxy;
    assert.deepEqual(v2TaskFor({ ...TASKS.recaptcha_v2!, proxy: p }, "anticaptcha"), {
      type: "RecaptchaV2Task", ...BODIES.recaptcha_v2!.anticaptcha, proxyType: "socks5", proxyAddress: "2001:db8::1", proxyPort: 1080,
    });
    assert.deepEqual(v2TaskFor({ ...TASKS.recaptcha_v2!, proxy: p }, "capsolver")?.proxy, "socks5:[2001:db8::1]:1080");
  });

  test("a task object never shares the catalogue's values: changing one leaves the next alone", () => {
    const first = v2TaskFor(TASKS.geetest_v4!, "2captcha")!;
    (first.initParameters as Record<string, unknown>).captcha_id = "changed";
    assert.deepEqual(v2TaskFor(TASKS.geetest_v4!, "2captcha")!.initParameters, { captcha_id: "cid-1" });
  });

  test("2captcha's task reads back through the worker's own JSON-API intake as the same task (but an image's language, a createTask field there)", () => {
    for (const { lang: _, ...params } of Object.values(TASKS) as (TaskParams & { lang?: string })[]) {
      for (const proxy of [undefined, proxyOf("HTTP")]) {
        const task = v2TaskFor({ ...params, ...(proxy ? { proxy } : {}) }, "2captcha");
        if (task === undefined) continue;
        const read = readV2Task(task);
        assert.ok(read.ok, `${String(task.type)}: ${JSON.stringify(read)}`);
        assert.deepEqual(JSON.parse(JSON.stringify(read.params)), JSON.parse(JSON.stringify({ ...params, ...(proxy ? { proxy } : {}) })), String(task.type));
      }
    }
  });
});

describe("solutionFromV2", () => {
  const cases: [string, unknown, unknown][] = [
    ["image", { text: "w9h5k" }, { value: "w9h5k", useragent: undefined }],
    ["grid", { click: [1, 5, 9] }, { value: "click:1/5/9" }],
    ["recaptcha_v2", { gRecaptchaResponse: "03AGdB", token: "03AGdB", userAgent: "UA/2", cookies: {} }, { value: "03AGdB", useragent: "UA/2" }],
    ["recaptcha_v3", { token: "03AGdB" }, { value: "03AGdB", useragent: undefined }],
    ["turnstile", { token: "0.4uMM", userAgent: "UA/2", type: "turnstile" }, { value: "0.4uMM", useragent: "UA/2" }],
    ["cloudflare_challenge", { cookies: { cf_clearance: "cfc-1" }, token: "cfc-1", userAgent: "UA/2" }, { value: { cf_clearance: "cfc-1" }, useragent: "UA/2" }],
    ["geetest", { challenge: "c1", validate: "v1", seccode: "v1|jordan" }, { value: { challenge: "c1", validate: "v1", seccode: "v1|jordan" }, useragent: undefined }],
    ["geetest", { challenge: "c1", validate: "v1" }, { value: { challenge: "c1", validate: "v1", seccode: "v1|jordan" }, useragent: undefined }],
    [
      "geetest_v4",
      { captcha_id: "cid", lot_number: "ln", pass_token: "pt", gen_time: "1700000000", captcha_output: "co", risk_type: "slide" },
      { value: { captcha_id: "cid", lot_number: "ln", pass_token: "pt", gen_time: "1700000000", captcha_output: "co" }, useragent: undefined },
    ],
    ["captchafox", { token: "fox-1", userAgent: "UA/2" }, { value: { token: "fox-1" }, useragent: "UA/2" }],
    ["friendly_captcha", { token: "f8b1.AgAD" }, { value: "f8b1.AgAD", useragent: undefined }],
    ["lemin", { answer: "0xaa", challenge_id: "a335" }, { value: { answer: "0xaa", challenge_id: "a335" }, useragent: undefined }],
  ];
  for (const [type, solution, want] of cases) {
    test(`reads ${type}'s JSON-API solution ${JSON.stringify(solution).slice(0, 60)}`, () => {
      assert.deepEqual(solutionFromV2(type, solution), want);
    });
  }

  test("what is not the family's solution reads as none", () => {
    assert.equal(solutionFromV2("recaptcha_v2", { text: "no token here" }), undefined);
    assert.equal(solutionFromV2("grid", { click: ["a"] }), undefined);
    assert.equal(solutionFromV2("lemin", { answer: "0xaa" }), undefined);
    assert.equal(solutionFromV2("image", "text itself"), undefined);
    assert.equal(solutionFromV2("no_such_type", { text: "x" }), undefined);
  });
});
