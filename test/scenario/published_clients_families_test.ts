/**
 * Every family each published npm client offers, solved through the worker's gateway on the
 * simulator, with and without a proxy where the client passes one: `@2captcha/captcha-solver`
 * 1.3.9, `2captcha-ts` 2.4.1 and `2captcha` 3.0.7 on in.php/res.php, `@antiadmin/anticaptchaofficial`
 * 1.0.56 on createTask/getTaskResult. The clients run unchanged but for their host (the 2captcha ones
 * read it from a constants module or a getter, anti-captcha's is rewritten in axios's request hook,
 * docs/gateway.md). Each case checks the answer the client hands its caller and the
 * in.php form the simulator received (sim.submits(): the method, the family's telling fields, and
 * the proxy and user agent as CaptchaAI takes them).
 */
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { after, before, describe, test } from "node:test";
import { advance, eventually, startHarness, type Harness } from "../_support/harness.ts";
import { CLIENT_KEY, gatewayHarness, OTHER_KEY, PNG } from "../_support/gateway.ts";

const require = createRequire(import.meta.url);
type Call = (params: Record<string, unknown>) => Promise<{ data: unknown; id: string; useragent?: string }>;
type TwoCaptchaSolver = Record<string, Call>;
const NpmSolver = (require("@2captcha/captcha-solver") as { Solver: new (key: string, pollMs?: number) => TwoCaptchaSolver }).Solver;
const TsSolver = (require("2captcha-ts") as { Solver: new (key: string, pollMs?: number) => TwoCaptchaSolver }).Solver;
const FurrySolver = (require("2captcha") as { Solver: new (key: string, pollMs?: number) => Record<string, (...a: unknown[]) => Promise<{ data: unknown; id: string }>> }).Solver;
const hosts = (pkg: string) => (require(`${pkg}/dist/structs/constants/constants.js`) as { supportedProviders: { twoCaptcha: { in: string; res: string } } }).supportedProviders.twoCaptcha;
const ac = require("@antiadmin/anticaptchaofficial") as Record<string, (...a: unknown[]) => Promise<unknown>> & { settings: Record<string, unknown>; getUserAgent(): string | null };
const axios = require("axios") as { interceptors: { request: { use(fn: (c: { url?: string }) => unknown): number; eject(id: number): void } } };

const PAGE = "https://example.com/login";
const RC_KEY = "6Le-wvkSAAAAAPBMRTvw0Q4Muexq9bi0DJwx_mJ-";
const TS_KEY = "0x4AAAAAAAC3DHQFLr1GavRN";
const GT = "81388ea1fc187e0c335c0a8907ff2625";
const CHALLENGE = "12345678abc90123d45678ef90123a456b";
const GT4 = "e392e1d7fd421dc63325744d5a2b9c73";
const LEMIN_ID = "CROPPED_3dfdd5c_d1872b526b794d83ba3b365eb15a200b";
const FOX_KEY = "sk-captchafox-0123";
const FC_KEY = "FCMST5VUMCBOCGQ9";
const UA = "Mozilla/5.0 (X11; Linux x86_64) PublishedClientTest/1.0";
/** The proxy each proxied case sends, in the client's own form; the password is what must arrive upstream and nowhere else. */
const PROXY = { login: "scraper7", password: "pr0xy-Pass-4e1d", host: "10.20.30.40", port: 3128 };
const PROXY_TEXT = `${PROXY.login}:${PROXY.password}@${PROXY.host}:${PROXY.port}`;
/** 2captcha's legacy parameters for it. */
const LEGACY_PROXY = { proxy: PROXY_TEXT, proxytype: "HTTP" };
/** anti-captcha's positional proxy arguments: proxyType, proxyAddress, proxyPort, proxyLogin, proxyPassword. */
const AC_PROXY = ["http", PROXY.host, PROXY.port, PROXY.login, PROXY.password] as const;

/** Runs the fake clock while the worker holds open tasks; the client's own (real, 5 ms) polls find the answer. */
async function through<T>(h: Harness, work: Promise<T>): Promise<T> {
  let settled = false;
  const p = work.finally(() => void (settled = true));
  p.catch(() => {});
  await eventually(() => settled || h.worker.pool.stored.open > 0, "a task or an answer");
  for (let i = 0; i < 200 && h.worker.pool.stored.open > 0 && !settled; i++) await advance(h.clock, 500);
  return p;
}

/** One published client's call of one family: what it sends, what must reach the simulator, what the caller must get. */
interface Case {
  family: string;
  proxied: boolean;
  /** The user agent the client sent (it must reach the simulator as `userAgent`). */
  ua?: string;
  run: () => Promise<unknown>;
  /** Fields the in.php form the simulator received must hold (beyond the proxy and user agent). */
  form: Record<string, string>;
  check: (answer: unknown) => void;
}

const token = (min = 20) => (a: unknown) => {
  const data = (a as { data?: unknown }).data ?? a;
  assert.equal(typeof data, "string", JSON.stringify(a));
  assert.ok((data as string).length >= min, JSON.stringify(a));
};
/** GeeTest v3's three values (2captcha's legacy answer names them geetest_*, the JSON API without the prefix); the challenge answered is the one sent, lengthened as GeeTest's own page does. */
const geetestV3 = (prefix: "geetest_" | "") => (d: unknown) => {
  const o = d as Record<string, string>;
  assert.ok(o[`${prefix}challenge`]?.startsWith(CHALLENGE), JSON.stringify(d));
  assert.match(o[`${prefix}validate`] ?? "", /^\w+$/);
  assert.equal(o[`${prefix}seccode`], `${o[`${prefix}validate`]}|jordan`);
};
const geetestV4 = (d: unknown) => {
  const o = d as Record<string, string>;
  assert.equal(o.captcha_id, GT4, JSON.stringify(d));
  for (const k of ["lot_number", "pass_token", "gen_time", "captcha_output"]) assert.ok(typeof o[k] === "string" && o[k] !== "", `${k}: ${JSON.stringify(d)}`);
};
const lemin = (d: unknown) => {
  const o = d as Record<string, string>;
  assert.ok(o.answer && o.challenge_id, JSON.stringify(d));
};
const dataOf = (check: (d: unknown) => void) => (a: unknown) => check((a as { data: unknown }).data);

/** Both variants of a family, for a client that passes a proxy as 2captcha's legacy parameters. */
function legacyPair(family: string, call: (extra: Record<string, unknown>) => Promise<unknown>, form: Record<string, string>, check: (a: unknown) => void, base: Record<string, unknown> = {}): Case[] {
  return [
    { family, proxied: false, run: () => call({ ...base }), form, check },
    { family, proxied: true, ua: UA, run: () => call({ ...base, ...LEGACY_PROXY, userAgent: UA }), form, check },
  ];
}

/** @2captcha/captcha-solver: every method of it the catalogue maps. */
function npmCases(s: TwoCaptchaSolver): Case[] {
  return [
    { family: "image", proxied: false, run: () => s.imageCaptcha!({ body: PNG, numeric: 1, min_len: 4, max_len: 8 }), form: { method: "base64", numeric: "1", min_len: "4", max_len: "8" }, check: dataOf((d) => assert.match(String(d), /^[a-z0-9]{4,8}$/)) },
    {
      family: "grid", proxied: false,
      run: () => s.grid!({ body: PNG, textinstructions: "select all buses", rows: 4, cols: 4 }),
      form: { method: "base64", recaptcha: "1", textinstructions: "select all buses", recaptcharows: "4", recaptchacols: "4" },
      check: dataOf((d) => assert.match(String(d), /^click:\d+(\/\d+)*$/)),
    },
    { family: "grid, image instructions", proxied: false, run: () => s.grid!({ body: PNG, imginstructions: PNG }), form: { method: "base64", recaptcha: "1" }, check: dataOf((d) => assert.match(String(d), /^click:/)) },
    ...legacyPair("reCAPTCHA v2", (x) => s.recaptcha!({ googlekey: RC_KEY, pageurl: PAGE, ...x }), { method: "userrecaptcha", googlekey: RC_KEY, pageurl: PAGE }, token(100)),
    ...legacyPair("reCAPTCHA v2 invisible, data-s", (x) => s.recaptcha!({ googlekey: RC_KEY, pageurl: PAGE, invisible: 1, datas: "s-value-1", ...x }), { method: "userrecaptcha", invisible: "1", "data-s": "s-value-1" }, token(100)),
    ...legacyPair("reCAPTCHA v2 Enterprise", (x) => s.recaptcha!({ googlekey: RC_KEY, pageurl: PAGE, enterprise: 1, ...x }), { method: "userrecaptcha", enterprise: "1" }, token(100)),
    ...legacyPair("reCAPTCHA v3", (x) => s.recaptcha!({ googlekey: RC_KEY, pageurl: PAGE, version: "v3", action: "login", min_score: 0.3, ...x }), { method: "userrecaptcha", version: "v3", action: "login", min_score: "0.3" }, token(100)),
    ...legacyPair("reCAPTCHA v3 Enterprise", (x) => s.recaptcha!({ googlekey: RC_KEY, pageurl: PAGE, version: "v3", action: "verify", min_score: 0.9, enterprise: 1, ...x }), { method: "userrecaptcha", version: "v3", enterprise: "1", min_score: "0.9" }, token(100)),
    ...legacyPair("Turnstile", (x) => s.cloudflareTurnstile!({ sitekey: TS_KEY, pageurl: PAGE, ...x }), { method: "turnstile", sitekey: TS_KEY }, token()),
    // 2captcha solves a Cloudflare Challenge page as Turnstile with action, data (cData) and pagedata (chlPageData).
    ...legacyPair("Turnstile on a Challenge page", (x) => s.cloudflareTurnstile!({ sitekey: TS_KEY, pageurl: PAGE, action: "managed", data: "cdata-77", pagedata: "chl-page-data", ...x }), { method: "turnstile", action: "managed", data: "cdata-77", pagedata: "chl-page-data" }, token()),
    ...legacyPair("GeeTest v3", (x) => s.geetest!({ gt: GT, challenge: CHALLENGE, pageurl: PAGE, api_server: "api-na.geetest.com", ...x }), { method: "geetest", gt: GT, challenge: CHALLENGE, api_server: "api-na.geetest.com" }, dataOf(geetestV3("geetest_"))),
    ...legacyPair("GeeTest v4", (x) => s.geetestV4!({ captcha_id: GT4, pageurl: PAGE, ...x }), { method: "geetest", version: "4", gt: GT4 }, dataOf(geetestV4)),
    ...legacyPair("Lemin", (x) => s.lemin!({ captcha_id: LEMIN_ID, div_id: "lemin-cropped-captcha", pageurl: PAGE, api_server: "api.leminnow.com", ...x }), { method: "lemin", captcha_id: LEMIN_ID, div_id: "lemin-cropped-captcha" }, dataOf(lemin)),
    ...legacyPair("Friendly Captcha", (x) => s.friendlyCaptcha!({ sitekey: FC_KEY, pageurl: PAGE, ...x }), { method: "friendly_captcha", sitekey: FC_KEY }, token(10)),
    // CaptchaFox takes no task without a proxy and a user agent (the client checks it before sending).
    { family: "CaptchaFox", proxied: true, ua: UA, run: () => s.captchaFox!({ sitekey: FOX_KEY, pageurl: PAGE, userAgent: UA, ...LEGACY_PROXY }), form: { method: "captchafox", sitekey: FOX_KEY }, check: token(10) },
  ];
}

/** 2captcha-ts: the same code base, fewer methods (no grid, no CaptchaFox). */
function tsCases(s: TwoCaptchaSolver): Case[] {
  return [
    { family: "image", proxied: false, run: () => s.imageCaptcha!({ body: PNG, numeric: 1 }), form: { method: "base64", numeric: "1" }, check: dataOf((d) => assert.match(String(d), /^[a-z0-9]{6}$/)) },
    ...legacyPair("reCAPTCHA v2", (x) => s.recaptcha!({ googlekey: RC_KEY, pageurl: PAGE, ...x }), { method: "userrecaptcha", googlekey: RC_KEY }, token(100)),
    ...legacyPair("reCAPTCHA v2 Enterprise", (x) => s.recaptcha!({ googlekey: RC_KEY, pageurl: PAGE, enterprise: 1, ...x }), { method: "userrecaptcha", enterprise: "1" }, token(100)),
    ...legacyPair("reCAPTCHA v3", (x) => s.recaptcha!({ googlekey: RC_KEY, pageurl: PAGE, version: "v3", action: "login", min_score: 0.3, ...x }), { method: "userrecaptcha", version: "v3", min_score: "0.3" }, token(100)),
    ...legacyPair("Turnstile", (x) => s.cloudflareTurnstile!({ sitekey: TS_KEY, pageurl: PAGE, ...x }), { method: "turnstile", sitekey: TS_KEY }, token()),
    ...legacyPair("GeeTest v3", (x) => s.geetest!({ gt: GT, challenge: CHALLENGE, pageurl: PAGE, ...x }), { method: "geetest", gt: GT, challenge: CHALLENGE }, dataOf(geetestV3("geetest_"))),
    ...legacyPair("GeeTest v4", (x) => s.geetestV4!({ captcha_id: GT4, pageurl: PAGE, ...x }), { method: "geetest", version: "4", gt: GT4 }, dataOf(geetestV4)),
    ...legacyPair("Lemin", (x) => s.lemin!({ captcha_id: LEMIN_ID, div_id: "lemin-cropped-captcha", pageurl: PAGE, ...x }), { method: "lemin", captcha_id: LEMIN_ID }, dataOf(lemin)),
    ...legacyPair("Friendly Captcha", (x) => s.friendlyCaptcha!({ sitekey: FC_KEY, pageurl: PAGE, ...x }), { method: "friendly_captcha", sitekey: FC_KEY }, token(10)),
  ];
}

/** 2captcha (furry): positional arguments and an `extra` object that carries the proxy. */
function furryCases(s: ReturnType<typeof furry>): Case[] {
  return [
    { family: "image", proxied: false, run: () => s.imageCaptcha!(PNG, { numeric: 1 }), form: { method: "base64", numeric: "1" }, check: dataOf((d) => assert.match(String(d), /^[a-z0-9]{6}$/)) },
    ...legacyPair("reCAPTCHA v2", (x) => s.recaptcha!(RC_KEY, PAGE, x), { method: "userrecaptcha", googlekey: RC_KEY, invisible: "0" }, token(100)),
    ...legacyPair("reCAPTCHA v3", (x) => s.recaptcha!(RC_KEY, PAGE, { version: "v3", action: "login", ...x }), { method: "userrecaptcha", version: "v3", action: "login" }, token(100)),
    ...legacyPair("GeeTest v3", (x) => s.geetest!(GT, CHALLENGE, PAGE, x), { method: "geetest", gt: GT, challenge: CHALLENGE }, dataOf(geetestV3("geetest_"))),
    ...legacyPair("Turnstile", (x) => s.turnstile!(TS_KEY, PAGE, x), { method: "turnstile", sitekey: TS_KEY }, token()),
  ];
}
const furry = () => new FurrySolver(CLIENT_KEY, 5);

/** @antiadmin/anticaptchaofficial: each solve* method the catalogue maps, Proxyless and ProxyOn. */
function antiCaptchaCases(): Case[] {
  return [
    { family: "image (ImageToTextTask)", proxied: false, run: () => ac.solveImage!(PNG), form: { method: "base64" }, check: (a) => assert.match(String(a), /^[a-z0-9]{6}$/) },
    { family: "reCAPTCHA v2", proxied: false, run: () => ac.solveRecaptchaV2Proxyless!(PAGE, RC_KEY), form: { method: "userrecaptcha", googlekey: RC_KEY }, check: token(100) },
    { family: "reCAPTCHA v2 invisible", proxied: false, run: () => ac.solveRecaptchaV2Proxyless!(PAGE, RC_KEY, true), form: { method: "userrecaptcha", invisible: "1" }, check: token(100) },
    { family: "reCAPTCHA v2", proxied: true, ua: UA, run: () => ac.solveRecaptchaV2ProxyOn!(PAGE, RC_KEY, ...AC_PROXY, UA, undefined), form: { method: "userrecaptcha", googlekey: RC_KEY }, check: token(100) },
    { family: "reCAPTCHA v2 Enterprise", proxied: false, run: () => ac.solveRecaptchaV2EnterpriseProxyless!(PAGE, RC_KEY, { s: "ent-s-value" }), form: { method: "userrecaptcha", enterprise: "1", "data-s": "ent-s-value" }, check: token(100) },
    { family: "reCAPTCHA v2 Enterprise", proxied: true, ua: UA, run: () => ac.solveRecaptchaV2EnterpriseProxyOn!(PAGE, RC_KEY, null, ...AC_PROXY, UA, undefined), form: { method: "userrecaptcha", enterprise: "1" }, check: token(100) },
    { family: "reCAPTCHA v3", proxied: false, run: () => ac.solveRecaptchaV3!(PAGE, RC_KEY, 0.3, "login"), form: { method: "userrecaptcha", version: "v3", min_score: "0.3", action: "login" }, check: token(100) },
    { family: "reCAPTCHA v3 Enterprise", proxied: false, run: () => ac.solveRecaptchaV3Enterprise!(PAGE, RC_KEY, 0.9, "verify"), form: { method: "userrecaptcha", version: "v3", enterprise: "1" }, check: token(100) },
    { family: "Turnstile", proxied: false, run: () => ac.solveTurnstileProxyless!(PAGE, TS_KEY), form: { method: "turnstile", sitekey: TS_KEY }, check: token() },
    { family: "Turnstile on a Challenge page", proxied: false, run: () => ac.solveTurnstileProxyless!(PAGE, TS_KEY, "managed", "cdata-77", "chl-page-data"), form: { method: "turnstile", action: "managed", data: "cdata-77", pagedata: "chl-page-data" }, check: token() },
    { family: "Turnstile", proxied: true, run: () => ac.solveTurnstileProxyOn!(PAGE, TS_KEY, ...AC_PROXY), form: { method: "turnstile", sitekey: TS_KEY }, check: token() },
    { family: "GeeTest v3", proxied: false, run: () => ac.solveGeeTestProxyless!(PAGE, GT, CHALLENGE, "api-na.geetest.com", undefined), form: { method: "geetest", gt: GT, challenge: CHALLENGE, api_server: "api-na.geetest.com" }, check: geetestV3("") },
    { family: "GeeTest v3", proxied: true, ua: UA, run: () => ac.solveGeeTestProxyOn!(PAGE, GT, CHALLENGE, "api-na.geetest.com", undefined, ...AC_PROXY, UA, undefined), form: { method: "geetest", gt: GT }, check: geetestV3("") },
    { family: "GeeTest v4", proxied: false, run: () => ac.solveGeeTestV4Proxyless!(PAGE, GT4, undefined, { riskType: "slide" }), form: { method: "geetest", version: "4", gt: GT4 }, check: geetestV4 },
    { family: "GeeTest v4", proxied: true, ua: UA, run: () => ac.solveGeeTestV4ProxyOn!(PAGE, GT4, undefined, undefined, ...AC_PROXY, UA, undefined), form: { method: "geetest", version: "4", gt: GT4 }, check: geetestV4 },
    { family: "Friendly Captcha", proxied: false, run: () => ac.solveFriendlyCaptchaProxyless!(PAGE, FC_KEY), form: { method: "friendly_captcha", sitekey: FC_KEY }, check: token(10) },
    { family: "Friendly Captcha", proxied: true, run: () => ac.solveFriendlyCaptchaProxyOn!(PAGE, FC_KEY, ...AC_PROXY), form: { method: "friendly_captcha", sitekey: FC_KEY }, check: token(10) },
  ];
}

let h: Harness;
let interceptor: number;
before(async () => {
  h = await startHarness(gatewayHarness({ threads: "10" }));
  for (const pkg of ["@2captcha/captcha-solver", "2captcha-ts"]) Object.assign(hosts(pkg), { in: `${h.base}/in.php`, res: `${h.base}/res.php` });
  Object.defineProperty(FurrySolver.prototype, "in", { get: () => `${h.base}/in.php` });
  Object.defineProperty(FurrySolver.prototype, "res", { get: () => `${h.base}/res.php` });
  interceptor = axios.interceptors.request.use((c) => Object.assign(c, { url: c.url?.replace("https://api.anti-captcha.com", h.base) }));
  ac.setAPIKey!(CLIENT_KEY);
  ac.shutUp!();
  Object.assign(ac.settings, { firstAttemptWaitingInterval: 0.005, normalWaitingInterval: 0.005 });
});
after(async () => {
  axios.interceptors.request.eject(interceptor);
  await h.close();
});

/** Runs one case: the client's answer checked, and the one form the simulator received compared with CaptchaAI's. */
async function runCase(c: Case): Promise<void> {
  const before = h.sim.submits().length;
  const answer = await through(h, c.run());
  c.check(answer);
  const sent = h.sim.submits().slice(before);
  assert.equal(sent.length, 1, `one submit upstream: ${JSON.stringify(sent)}`);
  const form = sent[0]!;
  for (const [k, v] of Object.entries(c.form)) assert.equal(form[k], v, `upstream ${k}`);
  if (c.proxied) {
    assert.equal(form.proxy, PROXY_TEXT, "the proxy reaches the upstream as login:password@host:port");
    assert.equal(form.proxytype, "HTTP");
  } else {
    assert.equal(form.proxy, undefined, "no proxy upstream");
    assert.equal(form.proxytype, undefined);
  }
  assert.equal(form.userAgent, c.ua, "the user agent reaches the upstream as userAgent");
  assert.ok(!Object.values(form).includes(CLIENT_KEY), "the client's key never goes upstream");
}

const title = (c: Case) => `${c.family}, ${c.proxied ? "with a proxy" : "without a proxy"}`;

describe("@2captcha/captcha-solver 1.3.9 through in.php/res.php", () => {
  for (const c of npmCases(new NpmSolver(CLIENT_KEY, 5))) test(title(c), () => runCase(c));
  test("Turnstile answers the user agent beside the token (the client spreads res.php's top-level fields)", async () => {
    const a = (await through(h, new NpmSolver(CLIENT_KEY, 5).cloudflareTurnstile!({ sitekey: TS_KEY, pageurl: PAGE, userAgent: UA, ...LEGACY_PROXY }))) as { useragent?: string };
    assert.equal(a.useragent, UA);
  });
});

describe("a failing proxy, as each client reads it", () => {
  interface ApiError { err?: string }
  const failing = async (selector: "in.php" | "res.php:get", code: string, work: () => Promise<unknown>) => {
    h.sim.control.setFault(selector, { error: code });
    try {
      return await through(h, work()).then(() => "solved", (e: unknown) => (typeof e === "string" ? e : (e as ApiError).err ?? String(e)));
    } finally {
      h.sim.control.clearFaults();
    }
  };
  test("@2captcha/captcha-solver and 2captcha-ts read the upstream's proxy code on res.php (ERROR_PROXY_CONNECTION_FAILED at a poll, ERROR_BAD_PROXY at its submit), not ERROR_CAPTCHA_UNSOLVABLE", async () => {
    for (const Solver of [NpmSolver, TsSolver]) {
      const s = new Solver(CLIENT_KEY, 5);
      assert.equal(await failing("res.php:get", "ERROR_PROXY_CONNECTION_FAILED", () => s.cloudflareTurnstile!({ sitekey: TS_KEY, pageurl: PAGE, ...LEGACY_PROXY })), "ERROR_PROXY_CONNECTION_FAILED");
      assert.equal(await failing("in.php", "ERROR_BAD_PROXY", () => s.recaptcha!({ googlekey: RC_KEY, pageurl: PAGE, ...LEGACY_PROXY })), "ERROR_BAD_PROXY");
    }
  });
  test("@antiadmin/anticaptchaofficial throws the proxy code getTaskResult answers", async () => {
    assert.equal(await failing("res.php:get", "ERROR_PROXY_CONNECTION_FAILED", () => ac.solveTurnstileProxyOn!(PAGE, TS_KEY, ...AC_PROXY)), "ERROR_PROXY_CONNECTION_FAILED");
  });
  test("coordinates and canvas, 2captcha families the worker does not solve, are refused ERROR_NO_SUCH_METHOD, not solved as a text image or a grid", async () => {
    const s = new NpmSolver(CLIENT_KEY, 5);
    const before = h.sim.submits().length;
    await assert.rejects(through(h, s.coordinates!({ body: PNG, textinstructions: "click the cat" })), (e: ApiError) => e.err === "ERROR_NO_SUCH_METHOD");
    await assert.rejects(through(h, s.canvas!({ body: PNG, textinstructions: "outline the cat" })), (e: ApiError) => e.err === "ERROR_NO_SUCH_METHOD");
    assert.equal(h.sim.submits().length, before, "nothing went upstream");
  });
  test("the client's README example with proxy and proxytype swapped is refused at the gateway ERROR_BAD_PROXY, before anything is sent upstream", async () => {
    const before = h.sim.submits().length;
    await assert.rejects(new NpmSolver(CLIENT_KEY, 5).recaptcha!({ googlekey: RC_KEY, pageurl: PAGE, proxy: "HTTPS", proxytype: PROXY_TEXT }), (e: ApiError) => e.err === "ERROR_BAD_PROXY");
    assert.equal(h.sim.submits().length, before);
  });
});

describe("no capacity: ERROR_NO_SLOT_AVAILABLE, as each client raises it", () => {
  test("@2captcha/captcha-solver throws APIError ERROR_NO_SLOT_AVAILABLE (code 11) to its caller, with no retry of its own", async () => {
    const s = new NpmSolver(OTHER_KEY, 5); // max_in_flight=1
    const first = through(h, s.imageCaptcha!({ body: PNG }));
    await eventually(() => h.worker.pool.stored.open > 0, "bravo's first task");
    await assert.rejects(s.imageCaptcha!({ body: PNG }), (e: { err?: string; code?: number }) => e.err === "ERROR_NO_SLOT_AVAILABLE" && e.code === 11);
    await first;
  });
  test("@antiadmin/anticaptchaofficial throws the errorCode ERROR_NO_SLOT_AVAILABLE, with no retry of its own", async () => {
    ac.setAPIKey!(OTHER_KEY);
    try {
      const first = through(h, ac.solveImage!(PNG));
      await eventually(() => h.worker.pool.stored.open > 0, "bravo's first task");
      await assert.rejects(ac.solveImage!(PNG), (e: unknown) => e === "ERROR_NO_SLOT_AVAILABLE");
      await first;
    } finally {
      ac.setAPIKey!(CLIENT_KEY);
    }
  });
});

describe("2captcha-ts 2.4.1 through in.php/res.php", () => {
  for (const c of tsCases(new TsSolver(CLIENT_KEY, 5))) test(title(c), () => runCase(c));
});

describe("2captcha 3.0.7 through in.php/res.php", () => {
  for (const c of furryCases(furry())) test(title(c), () => runCase(c));
});

describe("@antiadmin/anticaptchaofficial 1.0.56 through createTask/getTaskResult", () => {
  for (const c of antiCaptchaCases()) test(title(c), () => runCase(c));
  test("a proxied Turnstile keeps the user agent the upstream solved with (getUserAgent)", async () => {
    await through(h, ac.solveTurnstileProxyOn!(PAGE, TS_KEY, ...AC_PROXY));
    assert.match(String(ac.getUserAgent()), /^Mozilla\/5\.0/);
  });
});
