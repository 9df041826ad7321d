/**
 * Token widgets solved for one token: CaptchaFox (proxy and user agent required: the token is good
 * only with both), Friendly Captcha, and Lemin's puzzle (an answer and its challenge id).
 */
import { sitekey, text, url, userAgent } from "../task_fields.ts";
import { agentBoundSolution, fieldsSolution, textSolution } from "../task_solution.ts";
import type { TaskTypeSpec } from "../task_type_spec.ts";

const site = {
  sitekey: sitekey({ required: true, v2: "websiteKey" }),
  pageurl: url({ required: true, v2: "websiteURL", code: "ERROR_PAGEURL" }),
};

const foxFields = { ...site, useragent: userAgent() };

export const CAPTCHAFOX = {
  type: "captchafox",
  kind: "token",
  title: "CaptchaFox: a token good with its proxy and user agent (proxy required)",
  fields: foxFields,
  proxy: "required",
  legacy: [{ name: "captchafox" }],
  v2: [{ name: "CaptchaFoxTask", proxy: "required" }],
  upstream: { method: "captchafox" },
  dialects: { "2captcha": [{ proxied: "CaptchaFoxTask" }] },
  solution: agentBoundSolution("token", "token"),
} as const satisfies TaskTypeSpec<"captchafox", typeof foxFields>;

const friendlyFields = { ...site, useragent: userAgent() };

export const FRIENDLY_CAPTCHA = {
  type: "friendly_captcha",
  kind: "token",
  title: "Friendly Captcha: a token",
  fields: friendlyFields,
  proxy: "optional",
  legacy: [{ name: "friendly_captcha" }],
  v2: [{ name: "FriendlyCaptchaTaskProxyless", proxy: "none" }, { name: "FriendlyCaptchaTask", proxy: "required" }],
  upstream: { method: "friendly_captcha" },
  dialects: {
    anticaptcha: [{ proxyless: "FriendlyCaptchaTaskProxyless", proxied: "FriendlyCaptchaTask", fields: { useragent: null } }],
    "2captcha": [{ proxyless: "FriendlyCaptchaTaskProxyless", proxied: "FriendlyCaptchaTask" }],
  },
  solution: textSolution(["token"]),
} as const satisfies TaskTypeSpec<"friendly_captcha", typeof friendlyFields>;

const leminFields = {
  captcha_id: text(1, 128, { required: true, v2: ["captchaId", "captcha_id"] }),
  div_id: text(1, 128, { required: true, v2: ["div_id", "divId"] }),
  pageurl: url({ required: true, v2: "websiteURL", code: "ERROR_PAGEURL" }),
  api_server: text(1, 253, { v2: ["leminApiServerSubdomain", "api_server"] }),
  useragent: userAgent(),
};

export const LEMIN = {
  type: "lemin",
  kind: "token",
  title: "Lemin cropped puzzle: answer and challenge_id",
  fields: leminFields,
  proxy: "optional",
  legacy: [{ name: "lemin" }],
  v2: [{ name: "LeminTaskProxyless", proxy: "none" }, { name: "LeminTask", proxy: "required" }],
  upstream: { method: "lemin" },
  // 2captcha.com/api-docs/lemin: captchaId, divId, leminApiServerSubdomain.
  dialects: { "2captcha": [{ proxyless: "LeminTaskProxyless", proxied: "LeminTask", fields: { div_id: "divId" } }] },
  // CaptchaAI's MCP server says challenge_uuid; 2captcha and Lemin's own verify API say challenge_id.
  solution: fieldsSolution(["answer", "challenge_id"], { aliases: { challenge_id: ["challenge_uuid"] } }),
} as const satisfies TaskTypeSpec<"lemin", typeof leminFields>;
