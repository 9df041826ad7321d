/**
 * GeeTest v3 (`gt` + a fresh `challenge`: challenge/validate/seccode) and v4 (`captcha_id`: five
 * values). CaptchaAI takes v4 as `method=geetest` with `version=4` and the captcha id as `gt` (its
 * examples); 2captcha names it `method=geetest_v4` with `captcha_id`: the gateway takes both.
 */
import { text, url, userAgent, type FieldNames } from "../task_fields.ts";
import { fieldsSolution } from "../task_solution.ts";
import type { TaskTypeSpec } from "../task_type_spec.ts";

/** GeeTest's ids: required, 1 to 128 characters. */
const id = (n: Omit<FieldNames<true>, "required">) => text(1, 128, { ...n, required: true });

const v3Fields = {
  gt: id({ v2: "gt" }),
  challenge: id({ v2: "challenge" }),
  pageurl: url({ required: true, v2: "websiteURL", code: "ERROR_PAGEURL" }),
  /** The API host the page loads GeeTest from (api-na.geetest.com ...). */
  api_server: text(1, 253, { v2: "geetestApiServerSubdomain" }),
  useragent: userAgent(),
};

export const GEETEST = {
  type: "geetest",
  kind: "token",
  title: "GeeTest v3: challenge, validate and seccode",
  fields: v3Fields,
  proxy: "optional",
  legacy: [{ name: "geetest", when: { version: ["", "3"] } }],
  v2: [
    { name: "GeeTestTaskProxyless", when: { version: ["", "3"] }, proxy: "none" },
    { name: "GeeTestTask", when: { version: ["", "3"] }, proxy: "required" },
    { name: "GeeTestTaskProxyLess", when: { version: ["", "3"] }, proxy: "none" },
  ],
  upstream: { method: "geetest" },
  dialects: {
    // anti-captcha's GeeTestTask requires the userAgent (its GeeTestTask page).
    anticaptcha: [{ proxyless: "GeeTestTaskProxyless", proxied: "GeeTestTask", proxiedNeeds: ["useragent"] }],
    capsolver: [{ proxyless: "GeeTestTaskProxyLess", fields: { useragent: null } }],
    capmonster: [{ proxyless: "GeeTestTask", proxied: "GeeTestTask" }],
    "2captcha": [{ proxyless: "GeeTestTaskProxyless", proxied: "GeeTestTask" }],
  },
  // A seccode left out is the validate value and "|jordan", as GeeTest's own page script makes it
  // (the real 2captcha answer in dzmitry-duboyski/GeeTest-demo shows the pair).
  solution: fieldsSolution(["challenge", "validate", "seccode"], {
    prefix: "geetest_",
    legacyPrefix: "geetest_",
    derive: { seccode: (found) => (found.validate === undefined ? undefined : `${found.validate}|jordan`) },
  }),
} as const satisfies TaskTypeSpec<"geetest", typeof v3Fields>;

const v4Fields = {
  captcha_id: id({ legacy: ["captcha_id", "gt"], v2: ["initParameters.captcha_id", "captchaId", "gt"], upstream: "gt" }),
  pageurl: url({ required: true, v2: "websiteURL", code: "ERROR_PAGEURL" }),
  api_server: text(1, 253, { v2: "geetestApiServerSubdomain" }),
  useragent: userAgent(),
};

export const GEETEST_V4 = {
  type: "geetest_v4",
  kind: "token",
  title: "GeeTest v4: captcha_id, lot_number, pass_token, gen_time and captcha_output",
  fields: v4Fields,
  proxy: "optional",
  legacy: [{ name: "geetest_v4" }, { name: "geetest", when: { version: ["4"] } }],
  v2: [
    { name: "GeeTestTaskProxyless", when: { version: ["4"] }, proxy: "none" },
    { name: "GeeTestTask", when: { version: ["4"] }, proxy: "required" },
    { name: "GeeTestTaskProxyLess", when: { version: ["4"] }, proxy: "none" },
  ],
  upstream: { method: "geetest", fixed: { version: "4" } },
  // v4 is v3's type with version 4: the captcha id in initParameters (2captcha), in gt as well
  // (anti-captcha's client), in gt (CapMonster), or CapSolver's captchaId.
  dialects: {
    anticaptcha: [{ proxyless: "GeeTestTaskProxyless", proxied: "GeeTestTask", proxiedNeeds: ["useragent"], fixed: { version: 4 }, fields: { captcha_id: ["gt", "initParameters.captcha_id"] } }],
    capsolver: [{ proxyless: "GeeTestTaskProxyLess", fields: { captcha_id: "captchaId", useragent: null } }],
    capmonster: [{ proxyless: "GeeTestTask", proxied: "GeeTestTask", fixed: { version: 4 }, fields: { captcha_id: "gt" } }],
    "2captcha": [{ proxyless: "GeeTestTaskProxyless", proxied: "GeeTestTask", fixed: { version: 4 } }],
  },
  solution: fieldsSolution(["captcha_id", "lot_number", "pass_token", "gen_time", "captcha_output"]),
} as const satisfies TaskTypeSpec<"geetest_v4", typeof v4Fields>;
