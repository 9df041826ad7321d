/** Google reCAPTCHA v2 (checkbox, invisible, Enterprise) and v3 (scored), solved for a token (CaptchaAI and 2captcha: `method=userrecaptcha`). */
import { bool, decimal, pattern, sitekey, text, url, userAgent } from "../task_fields.ts";
import { textSolution } from "../task_solution.ts";
import type { TaskTypeSpec } from "../task_type_spec.ts";

const site = {
  sitekey: sitekey({ required: true, legacy: ["googlekey", "sitekey"], v2: "websiteKey", upstream: "googlekey", code: "ERROR_GOOGLEKEY" }),
  pageurl: url({ required: true, v2: "websiteURL", code: "ERROR_PAGEURL" }),
};
const solution = textSolution(["gRecaptchaResponse", "token"]);

const v2Fields = {
  ...site,
  invisible: bool({ v2: "isInvisible" }),
  enterprise: bool({ v2: "isEnterprise" }),
  /** The `data-s` value some Google pages carry. */
  data_s: text(1, 4096, { legacy: ["data-s", "datas"], v2: "recaptchaDataSValue", upstream: "data-s" }),
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
  solution,
} as const satisfies TaskTypeSpec<"recaptcha_v3", typeof v3Fields>;
