/** Google reCAPTCHA v2 (checkbox, invisible, Enterprise) and v3 (scored), solved for a token (CaptchaAI and 2captcha: `method=userrecaptcha`). */
import { bool, decimal, pattern, sitekey, text, url, userAgent } from "../task_fields.ts";
import { textSolution } from "../task_solution.ts";
import type { DialectName, DialectNames, TaskTypeSpec } from "../task_type_spec.ts";

const site = {
  sitekey: sitekey({ required: true, legacy: ["googlekey", "sitekey"], v2: "websiteKey", upstream: "googlekey", code: "ERROR_GOOGLEKEY" }),
  pageurl: url({ required: true, v2: "websiteURL", code: "ERROR_PAGEURL" }),
};
const solution = textSolution(["gRecaptchaResponse", "token"]);

/**
 * reCAPTCHA v2 in each dialect: Enterprise is a type of its own, its data-s in `enterprisePayload.s`
 * (anti-captcha's RecaptchaV2EnterpriseTask, CapSolver's and CapMonster's reCAPTCHA v2 Enterprise
 * pages); CapMonster takes the same name with or without a proxy (docs.capmonster.cloud: it uses its
 * own proxies unless given one); anti-captcha's RecaptchaV2Task requires the browser's userAgent.
 */
const v2Variants = (
  enterprise: readonly [string | undefined, string | undefined],
  plain: readonly [string | undefined, string | undefined],
  proxiedNeeds: readonly string[] = [],
): readonly DialectName[] => [
  { when: { enterprise: true }, proxyless: enterprise[0], proxied: enterprise[1], proxiedNeeds, fields: { enterprise: null, data_s: "enterprisePayload.s" } },
  { proxyless: plain[0], proxied: plain[1], proxiedNeeds, fields: { enterprise: null } },
];

const v2Dialects: DialectNames = {
  anticaptcha: v2Variants(["RecaptchaV2EnterpriseTaskProxyless", "RecaptchaV2EnterpriseTask"], ["RecaptchaV2TaskProxyless", "RecaptchaV2Task"], ["useragent"]),
  capsolver: v2Variants(["ReCaptchaV2EnterpriseTaskProxyLess", "ReCaptchaV2EnterpriseTask"], ["ReCaptchaV2TaskProxyLess", "ReCaptchaV2Task"]),
  capmonster: v2Variants(["RecaptchaV2EnterpriseTask", "RecaptchaV2EnterpriseTask"], ["RecaptchaV2Task", "RecaptchaV2Task"]),
  "2captcha": v2Variants(["RecaptchaV2EnterpriseTaskProxyless", "RecaptchaV2EnterpriseTask"], ["RecaptchaV2TaskProxyless", "RecaptchaV2Task"]),
};

/**
 * reCAPTCHA v3: anti-captcha and 2captcha mark Enterprise with `isEnterprise` and take no proxy;
 * CapSolver names Enterprise apart and takes a proxy (its reCAPTCHA v3 page, which has no
 * minScore); CapMonster names Enterprise apart (RecaptchaV3EnterpriseTask, no proxy).
 */
const v3Dialects: DialectNames = {
  anticaptcha: [{ proxyless: "RecaptchaV3TaskProxyless" }],
  capsolver: [
    { when: { enterprise: true }, proxyless: "ReCaptchaV3EnterpriseTaskProxyLess", proxied: "ReCaptchaV3EnterpriseTask", fields: { enterprise: null, min_score: null } },
    { proxyless: "ReCaptchaV3TaskProxyLess", proxied: "ReCaptchaV3Task", fields: { enterprise: null, min_score: null } },
  ],
  capmonster: [
    { when: { enterprise: true }, proxyless: "RecaptchaV3EnterpriseTask", fields: { enterprise: null } },
    { proxyless: "RecaptchaV3TaskProxyless", fields: { enterprise: null } },
  ],
  "2captcha": [{ proxyless: "RecaptchaV3TaskProxyless" }],
};

const v2Fields = {
  ...site,
  invisible: bool({ v2: "isInvisible" }),
  enterprise: bool({ v2: "isEnterprise" }),
  /** The `data-s` value some Google pages carry. */
  data_s: text(1, 4096, { legacy: ["data-s", "datas"], v2: ["recaptchaDataSValue", "enterprisePayload.s"], upstream: "data-s" }),
  useragent: userAgent(),
};

export const RECAPTCHA_V2 = {
  type: "recaptcha_v2",
  kind: "token",
  title: "reCAPTCHA v2: checkbox, invisible or Enterprise",
  fields: v2Fields,
  proxy: "optional",
  legacy: [{ name: "userrecaptcha", when: { version: ["", "v2"] } }],
  v2: [
    { name: "RecaptchaV2TaskProxyless", proxy: "none" },
    { name: "RecaptchaV2Task", proxy: "required" },
    { name: "NoCaptchaTaskProxyless", proxy: "none" },
    { name: "NoCaptchaTask", proxy: "required" },
    { name: "ReCaptchaV2TaskProxyLess", proxy: "none" },
    { name: "ReCaptchaV2Task", proxy: "required" },
    { name: "RecaptchaV2EnterpriseTaskProxyless", fixed: { enterprise: true }, proxy: "none" },
    { name: "RecaptchaV2EnterpriseTask", fixed: { enterprise: true }, proxy: "required" },
    { name: "ReCaptchaV2EnterpriseTaskProxyLess", fixed: { enterprise: true }, proxy: "none" },
    { name: "ReCaptchaV2EnterpriseTask", fixed: { enterprise: true }, proxy: "required" },
  ],
  upstream: { method: "userrecaptcha" },
  dialects: v2Dialects,
  solution,
} as const satisfies TaskTypeSpec<"recaptcha_v2", typeof v2Fields>;

const v3Fields = {
  ...site,
  action: pattern(/^[A-Za-z0-9_/]{1,100}$/, "1 to 100 letters, digits, _ or /", { v2: "pageAction" }),
  min_score: decimal(0.1, 0.9, { v2: "minScore" }),
  enterprise: bool({ v2: "isEnterprise" }),
  useragent: userAgent(),
};

export const RECAPTCHA_V3 = {
  type: "recaptcha_v3",
  kind: "token",
  title: "reCAPTCHA v3: a token scored for an action",
  fields: v3Fields,
  proxy: "optional",
  legacy: [{ name: "userrecaptcha", when: { version: ["v3"] } }],
  v2: [
    { name: "RecaptchaV3TaskProxyless", proxy: "none" },
    { name: "ReCaptchaV3TaskProxyLess", proxy: "none" },
    { name: "ReCaptchaV3Task", proxy: "required" },
    { name: "RecaptchaV3EnterpriseTaskProxyless", fixed: { enterprise: true }, proxy: "none" },
    { name: "ReCaptchaV3EnterpriseTaskProxyLess", fixed: { enterprise: true }, proxy: "none" },
  ],
  upstream: { method: "userrecaptcha", fixed: { version: "v3" } },
  dialects: v3Dialects,
  solution,
} as const satisfies TaskTypeSpec<"recaptcha_v3", typeof v3Fields>;
