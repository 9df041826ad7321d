/**
 * Cloudflare: Turnstile widgets, solved for a token (`method=turnstile`), and the Challenge page
 * ("Just a moment..."), solved for a `cf_clearance` cookie that is good only with the proxy and the
 * user agent it was solved with (CaptchaAI's `method=cloudflare_challenge`, proxy required).
 */
import { sitekey, text, url, userAgent } from "../task_fields.ts";
import { agentBoundSolution, answerObject, textSolution } from "../task_solution.ts";
import type { TaskTypeSpec } from "../task_type_spec.ts";

const fields = {
  sitekey: sitekey({ required: true, v2: "websiteKey" }),
  pageurl: url({ required: true, v2: "websiteURL", code: "ERROR_PAGEURL" }),
  action: text(1, 100, { v2: "action" }),
  /** Turnstile's cData. */
  data: text(1, 1024, { v2: ["data", "cData"] }),
  /** Turnstile's chlPageData, on Challenge pages. */
  pagedata: text(1, 4096, { v2: ["pagedata", "chlPageData"] }),
  useragent: userAgent(),
};

export const TURNSTILE = {
  type: "turnstile",
  kind: "token",
  title: "Cloudflare Turnstile widget",
  fields,
  proxy: "optional",
  legacy: [{ name: "turnstile" }],
  v2: [
    { name: "TurnstileTaskProxyless", proxy: "none" },
    { name: "TurnstileTask", proxy: "required" },
    { name: "TurnstileTaskProxyLess", proxy: "none" },
    { name: "AntiTurnstileTaskProxyLess", proxy: "none" },
  ],
  upstream: { method: "turnstile" },
  dialects: {
    // anti-captcha: cData and chlPageData, and "custom User-Agent ... won't work" (its TurnstileTask page).
    anticaptcha: [{ proxyless: "TurnstileTaskProxyless", proxied: "TurnstileTask", fields: { data: "cData", pagedata: "chlPageData", useragent: null } }],
    // CapSolver: AntiTurnstileTaskProxyLess with metadata {action, cdata}; TurnstileTaskProxyLess is refused (capsolver-python#15).
    capsolver: [{ proxyless: "AntiTurnstileTaskProxyLess", fields: { action: "metadata.action", data: "metadata.cdata", pagedata: null, useragent: null } }],
    // CapMonster: one name with or without a proxy, pageAction; pageData (unconfirmed: its Challenge-page variant's name).
    capmonster: [{ proxyless: "TurnstileTask", proxied: "TurnstileTask", fields: { action: "pageAction", pagedata: "pageData" } }],
    "2captcha": [{ proxyless: "TurnstileTaskProxyless", proxied: "TurnstileTask" }],
  },
  solution: textSolution(["token"]),
} as const satisfies TaskTypeSpec<"turnstile", typeof fields>;

const challengeFields = {
  pageurl: url({ required: true, v2: "websiteURL", code: "ERROR_PAGEURL" }),
  useragent: userAgent(),
};

/** The cookie's value: the request itself, or `cf_clearance` in a cookie list or a `cookies` object. */
function clearanceOf(request: unknown): string | undefined {
  const obj = answerObject(request);
  const cookies = obj && typeof obj.cookies === "object" && obj.cookies !== null ? (obj.cookies as Record<string, unknown>) : obj;
  const v = cookies?.cf_clearance;
  if (typeof v === "string" && v !== "") return v;
  return obj === undefined && typeof request === "string" && request !== "" ? request : undefined;
}

export const CLOUDFLARE_CHALLENGE = {
  type: "cloudflare_challenge",
  kind: "token",
  title: "Cloudflare Challenge page: a cf_clearance cookie (proxy required)",
  fields: challengeFields,
  proxy: "required",
  // CaptchaAI's official SDK (2.0.x) and MCP server take HTTP or HTTPS proxies for it; a SOCKS one
  // would be refused ERROR_BAD_PROXY after the task was accepted.
  proxyTypes: ["HTTP", "HTTPS"],
  legacy: [{ name: "cloudflare_challenge" }],
  // CapSolver's name; 2captcha and anti-captcha have none (2captcha solves it as Turnstile with pagedata).
  v2: [{ name: "AntiCloudflareTask", proxy: "required" }, { name: "CloudflareChallengeTask", proxy: "required" }],
  upstream: { method: "cloudflare_challenge" },
  // CapSolver's AntiCloudflareTask (proxy required) answers cookies.cf_clearance; the others have no such task.
  dialects: { capsolver: [{ proxied: "AntiCloudflareTask" }] },
  solution: agentBoundSolution("cf_clearance", "cf_clearance", clearanceOf),
} as const satisfies TaskTypeSpec<"cloudflare_challenge", typeof challengeFields>;
