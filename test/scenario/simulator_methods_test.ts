/**
 * The simulator speaks CaptchaAI's methods as its documentation, examples and MCP server give them
 * (docs/simulator.md): each method's required parameters and the code a form without them gets,
 * each answer's shape in json=1 and plain form, the key codes and the IP ban on the simulator's
 * clock, the image limits, and methods switched to unsupported.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startSimulator, type Simulator } from "../../src/sim/simulator.ts";
import { DEFAULT_USER_AGENT } from "../../src/sim/sim_answers.ts";
import { FakeClock } from "../_support/fake_clock.ts";
import { gif, PNG_99_B64, PNG_B64, pngOfSize } from "../_support/images.ts";

const KEY = "0123456789abcdef0123456789abcdef";
const PAGE = "https://example.com/login";
const GT = "81388ea1fc187e0c335c0a8907ff2625";
const GIF = gif().toString("base64");
/** A JPEG's first bytes (SOI and an APP0 marker), which is all the magic-byte check reads, padded past 100 bytes. */
const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(120, 0)]).toString("base64");

type Form = Record<string, string>;
type Answer = { status: number; request: unknown; user_agent?: string };

describe("simulator methods", () => {
  let sim: Simulator;
  const clock = new FakeClock();
  before(async () => {
    sim = await startSimulator({ host: "127.0.0.1", port: 0 }, { keys: [KEY], clock, seed: 21, solveTimeMs: { image: 1000, token: 5000 } });
  });
  after(() => sim.close());

  const post = async (path: string, form: Form): Promise<string> =>
    (await fetch(new URL(path, sim.url), { method: "POST", body: new URLSearchParams({ key: KEY, ...form }) })).text();
  const submit = (form: Form) => post("in.php", form);
  /** Submits `form`, lets it solve and reads its answer in json=1 and again in plain form. */
  const solve = async (form: Form): Promise<{ json: Answer; plain: string }> => {
    const accepted = await submit(form);
    assert.match(accepted, /^OK\|\d+$/, `${JSON.stringify(form).slice(0, 200)}: ${accepted}`);
    await clock.advance(5000);
    const id = accepted.slice(3);
    const json = JSON.parse(await post("res.php", { action: "get", id, json: "1" })) as Answer;
    return { json, plain: await post("res.php", { action: "get", id }) };
  };
  /** Each form with one required parameter left out answers `code`; the whole form is taken. */
  const requires = async (whole: Form, codes: Record<string, string>) => {
    for (const [name, code] of Object.entries(codes)) {
      const form = { ...whole };
      delete form[name];
      assert.equal(await submit(form), code, `without ${name}`);
    }
  };

  test("base64 and post: an image, answered as text; with recaptcha=1 a grid of 1-based cells, click:a/b/c", async () => {
    await requires({ method: "base64", body: PNG_B64 }, { body: "ERROR_ZERO_CAPTCHA_FILESIZE" });
    const text = await solve({ method: "base64", body: PNG_B64 });
    assert.match(text.json.request as string, /^[a-z2-9]{6}$/);
    assert.equal(text.plain, `OK|${text.json.request as string}`);
    assert.match((await solve({ method: "post", file: PNG_B64 })).json.request as string, /^[a-z2-9]{6}$/);

    const grid = { method: "base64", body: PNG_B64, recaptcha: "1", textinstructions: "Select all images with buses" };
    await requires(grid, { textinstructions: "ERROR_BAD_PARAMETERS" });
    assert.equal(await submit({ ...grid, recaptcharows: "0" }), "ERROR_BAD_PARAMETERS");
    assert.equal(await submit({ ...grid, textinstructions: "", imginstructions: PNG_99_B64 }), "ERROR_ZERO_CAPTCHA_FILESIZE", "an instruction image follows the image limits");
    for (let i = 0; i < 5; i++) {
      const cells = ((await solve({ ...grid, recaptcharows: "4", recaptchacols: "4" })).json.request as string).match(/^click:((?:\d+\/)*\d+)$/);
      assert.ok(cells, "click:a/b/c");
      const n = cells[1]!.split("/").map(Number);
      assert.ok(n.every((c) => c >= 1 && c <= 16) && n.every((c, j) => j === 0 || c > n[j - 1]!), cells[0]);
    }
    assert.match((await solve({ method: "post", file: PNG_B64, recaptcha: "1", imginstructions: PNG_B64 })).json.request as string, /^click:[1-9](?:\/[1-9])*$/, "3x3 by default");
  });

  test("bls: instructions (digits) and nine cells image_base64_1..9 (data URIs), answered as a JSON array string", async () => {
    const cells = Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`image_base64_${i + 1}`, `data:image/png;base64,${PNG_B64}`]));
    const form = { method: "bls", instructions: "664", ...cells };
    await requires(form, { instructions: "ERROR_BAD_PARAMETERS", image_base64_9: "ERROR_BAD_PARAMETERS" });
    assert.equal(await submit({ ...form, instructions: "six" }), "ERROR_BAD_PARAMETERS");
    assert.equal(await submit({ ...form, image_base64_4: PNG_99_B64 }), "ERROR_ZERO_CAPTCHA_FILESIZE");
    const { json, plain } = await solve(form);
    assert.equal(typeof json.request, "string");
    const picked = JSON.parse(json.request as string) as number[];
    assert.ok(Array.isArray(picked) && picked.length > 0 && picked.every((c) => Number.isInteger(c) && c >= 1 && c <= 9), json.request as string);
    assert.match(json.request as string, /^\[\d(?:,\d)*\]$/);
    assert.equal(plain, `OK|${json.request as string}`);
  });

  test("userrecaptcha: googlekey and pageurl (v2, invisible, Enterprise, data-s; v3 with version, action, min_score), answered a token", async () => {
    const v2 = { method: "userrecaptcha", googlekey: "6Le-sitekey-abc", pageurl: PAGE };
    await requires(v2, { googlekey: "ERROR_GOOGLEKEY", pageurl: "ERROR_PAGEURL" });
    assert.equal(await submit({ ...v2, pageurl: "javascript:alert(1)" }), "ERROR_PAGEURL");
    const full = { ...v2, invisible: "1", enterprise: "1", "data-s": "s-value", proxy: "user:pass@10.0.0.1:3128", proxytype: "HTTP", userAgent: "UA/1.0" };
    const { json, plain } = await solve(full);
    assert.match(json.request as string, /^03AFcWeA[\w-]{400}$/);
    assert.equal(json.user_agent, undefined);
    assert.equal(plain, `OK|${json.request as string}`);
    assert.match((await solve({ ...v2, version: "v3", action: "login", min_score: "0.3" })).json.request as string, /^03AFcWeA/);
    assert.equal(await submit({ ...v2, version: "v4" }), "ERROR_BAD_PARAMETERS");
    assert.equal(await submit({ ...v2, version: "v3", min_score: "2" }), "ERROR_BAD_PARAMETERS");
    assert.equal(await submit({ ...v2, invisible: "maybe" }), "ERROR_BAD_PARAMETERS");
  });

  test("turnstile: sitekey and pageurl (action, data, pagedata, proxy, userAgent), answered a token and the user agent", async () => {
    const form = { method: "turnstile", sitekey: "0x4AAAAAAAsim", pageurl: PAGE };
    await requires(form, { sitekey: "ERROR_BAD_PARAMETERS", pageurl: "ERROR_PAGEURL" });
    const bare = await solve(form);
    assert.match(bare.json.request as string, /^0\.[\w-]{400}$/);
    assert.equal(bare.json.user_agent, DEFAULT_USER_AGENT, "a default Chrome user agent when the task named none");
    assert.match(DEFAULT_USER_AGENT, /Chrome\/\d+/);
    assert.equal(bare.plain, `OK|${bare.json.request as string}`, "plain: the token alone");
    const withUa = await solve({ ...form, action: "login", data: "cdata", pagedata: "chl", proxy: "10.0.0.1:8080", proxytype: "SOCKS5", userAgent: "Mozilla/5.0 (X11; Linux) Firefox/133.0" });
    assert.equal(withUa.json.user_agent, "Mozilla/5.0 (X11; Linux) Firefox/133.0");
  });

  test("cloudflare_challenge: pageurl, proxy and proxytype (HTTP or HTTPS) required; answered a cf_clearance value and the user agent", async () => {
    const form = { method: "cloudflare_challenge", pageurl: PAGE, proxy: "login:password@203.0.113.7:3128", proxytype: "HTTPS" };
    await requires(form, { pageurl: "ERROR_PAGEURL", proxy: "ERROR_BAD_PARAMETERS", proxytype: "ERROR_BAD_PARAMETERS" });
    assert.equal(await submit({ ...form, proxytype: "SOCKS5" }), "ERROR_BAD_PROXY", "HTTP or HTTPS only");
    const { json } = await solve({ ...form, proxytype: "http", userAgent: "UA/2.0" });
    assert.match(json.request as string, /^[\w-]{43}-\d+-1\.2\.1\.1-[\w-]+$/);
    assert.equal(json.user_agent, "UA/2.0");
    assert.equal((await solve(form)).json.user_agent, DEFAULT_USER_AGENT);
  });

  test("a proxy is login:password@host:port or host:port; anything else is ERROR_BAD_PROXY", async () => {
    const form = { method: "captchafox", sitekey: "sk-captchafox-1", pageurl: PAGE, proxytype: "HTTP" };
    for (const good of ["10.0.0.1:3128", "user:p@ss:word@proxy.example.com:8080", "[2001:db8::1]:1080"]) assert.match(await submit({ ...form, proxy: good }), /^OK\|/, good);
    for (const bad of ["10.0.0.1", "10.0.0.1:0", "10.0.0.1:70000", ":pw@10.0.0.1:80", "user@10.0.0.1:80", "http://10.0.0.1:80", "host name:80"]) {
      assert.equal(await submit({ ...form, proxy: bad }), "ERROR_BAD_PROXY", bad);
    }
    assert.equal(await submit({ ...form, proxy: "10.0.0.1:3128", proxytype: "FTP" }), "ERROR_BAD_PROXY");
    await clock.advance(5000);
  });

  test("geetest: gt, challenge and pageurl (api_server optional), answered an object of challenge, validate and seccode; plain: OK| and the object as JSON", async () => {
    const form = { method: "geetest", gt: GT, challenge: "12345678abc90123d45678ef90123a456b", pageurl: PAGE };
    await requires(form, { gt: "ERROR_BAD_PARAMETERS", challenge: "ERROR_BAD_PARAMETERS", pageurl: "ERROR_PAGEURL" });
    assert.equal(await submit({ ...form, api_server: "not a host" }), "ERROR_BAD_PARAMETERS");
    const { json, plain } = await solve({ ...form, api_server: "api-na.geetest.com" });
    const r = json.request as Record<string, string>;
    assert.deepEqual(Object.keys(r), ["geetest_challenge", "geetest_validate", "geetest_seccode"]);
    assert.ok(r.geetest_challenge!.startsWith(form.challenge));
    assert.match(r.geetest_validate!, /^[0-9a-f]{32}$/);
    assert.equal(r.geetest_seccode, `${r.geetest_validate}|jordan`);
    assert.equal(plain, `OK|${JSON.stringify(r)}`);
  });

  test("geetest v4 as CaptchaAI's examples send it (version=4, gt = the captcha_id, no challenge), answered the five v4 values", async () => {
    const form = { method: "geetest", version: "4", gt: "e392e1d7fd421dc63325744d5a2b9c73", pageurl: PAGE };
    await requires(form, { gt: "ERROR_BAD_PARAMETERS", pageurl: "ERROR_PAGEURL" });
    const r = (await solve(form)).json.request as Record<string, string>;
    assert.deepEqual(Object.keys(r), ["captcha_id", "lot_number", "pass_token", "gen_time", "captcha_output"]);
    assert.equal(r.captcha_id, form.gt);
    assert.match(r.gen_time!, /^\d+$/);
  });

  test("captchafox: sitekey, pageurl, proxy and proxytype required; a token and the user agent", async () => {
    const form = { method: "captchafox", sitekey: "sk-captchafox-1", pageurl: PAGE, proxy: "10.0.0.1:3128", proxytype: "HTTP" };
    await requires(form, { sitekey: "ERROR_BAD_PARAMETERS", pageurl: "ERROR_PAGEURL", proxy: "ERROR_BAD_PARAMETERS", proxytype: "ERROR_BAD_PARAMETERS" });
    const { json } = await solve({ ...form, userAgent: "UA/3.0" });
    assert.equal(typeof json.request, "string");
    assert.equal(json.user_agent, "UA/3.0");
  });

  test("friendly_captcha: sitekey and pageurl, a token", async () => {
    const form = { method: "friendly_captcha", sitekey: "FCMST5VUMCBOCGQ9", pageurl: PAGE };
    await requires(form, { sitekey: "ERROR_BAD_PARAMETERS", pageurl: "ERROR_PAGEURL" });
    const { json } = await solve(form);
    assert.match(json.request as string, /^[\w-]{400}$/);
    assert.equal(json.user_agent, undefined);
  });

  test("lemin: captcha_id, div_id and pageurl (api_server optional), answered {answer, challenge_uuid}", async () => {
    const form = { method: "lemin", captcha_id: "CROPPED_3dfdd5c_d1872b526b794d83ba3b365eb15a200b", div_id: "lemin-cropped-captcha", pageurl: PAGE };
    await requires(form, { captcha_id: "ERROR_BAD_PARAMETERS", div_id: "ERROR_BAD_PARAMETERS", pageurl: "ERROR_PAGEURL" });
    const r = (await solve({ ...form, api_server: "https://api.leminnow.com/" })).json.request as Record<string, string>;
    assert.deepEqual(Object.keys(r), ["answer", "challenge_uuid"]);
    assert.match(r.challenge_uuid!, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  });

  test("an unknown method is ERROR_BAD_PARAMETERS, a malformed userAgent too; every form is recorded without its key", async () => {
    assert.equal(await submit({ method: "hcaptcha", sitekey: "x", pageurl: PAGE }), "ERROR_BAD_PARAMETERS");
    assert.equal(await submit({ method: "turnstile", sitekey: "0x4AAAAAAAsim", pageurl: PAGE, userAgent: "x".repeat(1025) }), "ERROR_BAD_PARAMETERS");
    const last = sim.submits().at(-1)!;
    assert.equal(last.method, "turnstile");
    assert.ok(sim.submits().every((f) => !("key" in f)));
  });
});

describe("simulator image limits (CaptchaAI's error page)", () => {
  const withSim = async (fn: (submit: (body: string, method?: string) => Promise<string>) => Promise<void>) => {
    const sim = await startSimulator({ host: "127.0.0.1", port: 0 }, { keys: [], clock: new FakeClock(), seed: 1 });
    const submit = async (body: string, method = "base64") =>
      (await fetch(new URL("in.php", sim.url), { method: "POST", body: new URLSearchParams({ key: KEY, method, [method === "post" ? "file" : "body"]: body }) })).text();
    try {
      await fn(submit);
    } finally {
      await sim.close();
    }
  };

  test("under 100 bytes ERROR_ZERO_CAPTCHA_FILESIZE, over 1024 KB ERROR_TOO_BIG_CAPTCHA_FILESIZE, unreadable base64 ERROR_UPLOAD, no jpg/png/gif ERROR_WRONG_FILE_EXTENSION", async () => {
    await withSim(async (submit) => {
      assert.equal(await submit(PNG_99_B64), "ERROR_ZERO_CAPTCHA_FILESIZE");
      assert.equal(await submit(PNG_99_B64, "post"), "ERROR_ZERO_CAPTCHA_FILESIZE");
      assert.match(await submit(pngOfSize(100).toString("base64")), /^OK\|/, "100 bytes are taken");
      assert.match(await submit(pngOfSize(1024 * 1024).toString("base64")), /^OK\|/, "1024 KB are taken");
      assert.equal(await submit(pngOfSize(1024 * 1024 + 1).toString("base64")), "ERROR_TOO_BIG_CAPTCHA_FILESIZE");
      assert.equal(await submit("this is not base64 at all, is it?"), "ERROR_UPLOAD");
      assert.equal(await submit(`${PNG_B64}A`), "ERROR_UPLOAD", "a length base64 cannot have");
      assert.equal(await submit(Buffer.alloc(300, 1).toString("base64")), "ERROR_WRONG_FILE_EXTENSION", "300 bytes of no image");
      assert.equal(await submit(Buffer.from("%PDF-1.7\n" + "x".repeat(200)).toString("base64")), "ERROR_WRONG_FILE_EXTENSION");
      assert.match(await submit(GIF), /^OK\|/, "a GIF");
      assert.match(await submit(JPEG), /^OK\|/, "a JPEG");
      assert.match(await submit(`data:image/png;base64,${PNG_B64}`), /^OK\|/, "a data URI");
    });
  });
});

describe("simulator keys and the IP ban (on its clock)", () => {
  test("a key not 32 characters is ERROR_WRONG_USER_KEY, an unknown one ERROR_KEY_DOES_NOT_EXIST; the 5th bad key in a minute bans the address for 5 minutes, every request", async () => {
    const clock = new FakeClock();
    const sim = await startSimulator({ host: "127.0.0.1", port: 0 }, { keys: [KEY], clock, seed: 2 });
    try {
      const call = async (key: string, path = "res.php", form: Form = { action: "getbalance" }) =>
        (await fetch(new URL(path, sim.url), { method: "POST", body: new URLSearchParams({ key, ...form }) })).text();
      assert.match(await call(KEY), /^\d/);
      assert.equal(await call("short"), "ERROR_WRONG_USER_KEY");
      assert.equal(await call(KEY + "x"), "ERROR_WRONG_USER_KEY", "33 characters");
      assert.equal(await call("f".repeat(32)), "ERROR_KEY_DOES_NOT_EXIST");
      await clock.advance(60_001); // the first three leave the minute
      assert.equal(await call(""), "ERROR_WRONG_USER_KEY");
      assert.equal(await call("f".repeat(32)), "ERROR_KEY_DOES_NOT_EXIST");
      assert.equal(await call("f".repeat(32)), "ERROR_KEY_DOES_NOT_EXIST");
      assert.equal(await call("f".repeat(32)), "ERROR_KEY_DOES_NOT_EXIST");
      assert.match(await call(KEY), /^\d/, "four bad keys in a minute: not yet");
      assert.equal(await call("f".repeat(32), "in.php", { method: "base64", body: PNG_B64 }), "ERROR_KEY_DOES_NOT_EXIST", "the fifth is still answered");
      assert.equal(await call(KEY), "IP_BANNED", "then every request from the address");
      assert.equal(await call(KEY, "in.php", { method: "base64", body: PNG_B64, json: "1" }), '{"status":0,"request":"IP_BANNED"}');
      const state = (await (await fetch(new URL("__sim/state", sim.url))).json()) as { banned: Record<string, number> };
      assert.deepEqual(Object.values(state.banned), [300_000]);
      await clock.advance(299_999);
      assert.equal(await call(KEY), "IP_BANNED");
      await clock.advance(1);
      assert.match(await call(KEY), /^\d/, "5 minutes later");
      assert.equal(sim.counts().bannedRequests, 3);
      for (let i = 0; i < 5; i++) await call("bad");
      assert.equal(await call(KEY), "IP_BANNED", "banned again");
      sim.control.reset();
      assert.match(await call(KEY), /^\d/, "reset lifts it");
    } finally {
      await sim.close();
    }
  });

  test("without keys, any key of 32 characters is taken", async () => {
    const sim = await startSimulator({ host: "127.0.0.1", port: 0 }, { keys: [], clock: new FakeClock() });
    try {
      const call = async (key: string) => (await fetch(new URL("res.php", sim.url), { method: "POST", body: new URLSearchParams({ key, action: "getbalance" }) })).text();
      assert.match(await call("z".repeat(32)), /^\d/);
      assert.equal(await call("z".repeat(31)), "ERROR_WRONG_USER_KEY");
    } finally {
      await sim.close();
    }
  });
});

describe("simulator unsupported methods", () => {
  test("--unsupported methods (or POST /__sim/unsupported) answer ERROR_METHOD_CALL, or the code given; others go on; counted", async () => {
    const sim = await startSimulator({ host: "127.0.0.1", port: 0 }, { keys: [KEY], clock: new FakeClock(), unsupported: ["lemin", "geetest_v4"] });
    try {
      const submit = async (form: Form) => (await fetch(new URL("in.php", sim.url), { method: "POST", body: new URLSearchParams({ key: KEY, ...form }) })).text();
      const lemin = { method: "lemin", captcha_id: "CROPPED_x", div_id: "d", pageurl: PAGE };
      assert.equal(await submit(lemin), "ERROR_METHOD_CALL");
      assert.equal(await submit({ method: "lemin" }), "ERROR_METHOD_CALL", "before its parameters are read");
      assert.equal(await submit({ method: "geetest", version: "4", gt: GT, pageurl: PAGE }), "ERROR_METHOD_CALL");
      assert.match(await submit({ method: "geetest", gt: GT, challenge: "abc", pageurl: PAGE }), /^OK\|/, "geetest v3 still served");
      const ctl = async (method: string, body?: unknown) => fetch(new URL("__sim/unsupported", sim.url), { method, body: body === undefined ? undefined : JSON.stringify(body) });
      assert.equal((await ctl("POST", { methods: ["base64", "grid"], code: "Unsupported captcha type" })).status, 200);
      assert.equal(await submit({ method: "base64", body: PNG_B64 }), "Unsupported captcha type");
      assert.match(await submit(lemin), /^OK\|/);
      assert.equal((await ctl("POST", { methods: "lemin" })).status, 400);
      assert.equal((await ctl("POST", { methods: ["lemin"], code: "<html>" })).status, 400);
      assert.deepEqual(((await (await ctl("DELETE")).json()) as { unsupported: unknown }).unsupported, { methods: [], code: "ERROR_METHOD_CALL" });
      assert.match(await submit({ method: "base64", body: PNG_B64 }), /^OK\|/);
      assert.equal(sim.counts().unsupportedRefusals, 4);
    } finally {
      await sim.close();
    }
  });

  test("the same seed gives the same object answers", async () => {
    const run = async () => {
      const clock = new FakeClock();
      const s = await startSimulator({ host: "127.0.0.1", port: 0 }, { keys: [], clock, seed: 5, solveTimeMs: { image: 0, token: 0 } });
      const call = async (path: string, form: Form) => (await fetch(new URL(path, s.url), { method: "POST", body: new URLSearchParams({ key: KEY, ...form }) })).text();
      const out: string[] = [];
      const forms: Form[] = [
        { method: "geetest", version: "4", gt: GT, pageurl: PAGE },
        { method: "lemin", captcha_id: "c", div_id: "d", pageurl: PAGE },
        { method: "bls", instructions: "1", ...Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`image_base64_${i + 1}`, PNG_B64])) },
      ];
      for (const form of forms) {
        const id = (await call("in.php", form)).slice(3);
        out.push(await call("res.php", { action: "get", id, json: "1" }));
      }
      await s.close();
      return out;
    };
    assert.deepEqual(await run(), await run());
  });
});
