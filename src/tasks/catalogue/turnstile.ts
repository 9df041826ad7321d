/** Cloudflare Turnstile widgets, solved for a token (CaptchaAI and 2captcha: `method=turnstile`). */
import { sitekey, text, url } from "../task_fields.ts";
import type { TaskTypeSpec } from "../task_type_spec.ts";

const fields = {
  sitekey: sitekey({ required: true, v2: "websiteKey" }),
  pageurl: url({ required: true, v2: "websiteURL", code: "ERROR_PAGEURL" }),
  action: text(1, 100, { v2: "action" }),
  /** Turnstile's cData. */
  data: text(1, 1024, { v2: "data" }),
};

export const TURNSTILE = {
  type: "turnstile",
  kind: "token",
  title: "Cloudflare Turnstile widget",
  fields,
  legacy: { methods: ["turnstile"] },
  v2: [{ name: "TurnstileTaskProxyless" }],
  upstream: { method: "turnstile" },
  solution: { v2: (s) => ({ token: s }) },
} as const satisfies TaskTypeSpec<"turnstile", typeof fields>;
