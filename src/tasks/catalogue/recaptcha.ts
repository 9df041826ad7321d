/** Google reCAPTCHA v2 (checkbox, invisible, Enterprise) and v3 (scored), solved for a token (CaptchaAI and 2captcha: `method=userrecaptcha`). */
import { bool, decimal, pattern, sitekey, url } from "../task_fields.ts";
import type { TaskTypeSpec } from "../task_type_spec.ts";

const site = {
  sitekey: sitekey({ required: true, legacy: ["googlekey", "sitekey"], v2: "websiteKey", upstream: "googlekey", code: "ERROR_GOOGLEKEY" }),
  pageurl: url({ required: true, v2: "websiteURL", code: "ERROR_PAGEURL" }),
};
const gRecaptcha = (s: string) => ({ gRecaptchaResponse: s, token: s });

const v2Fields = {
  ...site,
  invisible: bool({ v2: "isInvisible" }),
  enterprise: bool({ v2: "isEnterprise" }),
};

export const RECAPTCHA_V2 = {
  type: "recaptcha_v2",
  kind: "token",
  title: "reCAPTCHA v2: checkbox, invisible or Enterprise",
  fields: v2Fields,
  legacy: { methods: ["userrecaptcha"], when: { version: ["", "v2"] } },
  v2: [{ name: "RecaptchaV2TaskProxyless" }, { name: "NoCaptchaTaskProxyless" }, { name: "RecaptchaV2EnterpriseTaskProxyless", fixed: { enterprise: true } }],
  upstream: { method: "userrecaptcha" },
  solution: { v2: gRecaptcha },
} as const satisfies TaskTypeSpec<"recaptcha_v2", typeof v2Fields>;

const v3Fields = {
  ...site,
  action: pattern(/^[A-Za-z0-9_/]{1,100}$/, "1 to 100 letters, digits, _ or /", { v2: "pageAction" }),
  min_score: decimal(0.1, 0.9, { v2: "minScore" }),
  enterprise: bool({ v2: "isEnterprise" }),
};

export const RECAPTCHA_V3 = {
  type: "recaptcha_v3",
  kind: "token",
  title: "reCAPTCHA v3: a token scored for an action",
  fields: v3Fields,
  legacy: { methods: ["userrecaptcha"], when: { version: ["v3"] } },
  v2: [{ name: "RecaptchaV3TaskProxyless" }],
  upstream: { method: "userrecaptcha", fixed: { version: "v3" } },
  solution: { v2: gRecaptcha },
} as const satisfies TaskTypeSpec<"recaptcha_v3", typeof v3Fields>;
