/**
 * The in.php methods the simulator takes, each with the parameters CaptchaAI documents as required
 * (docs.captchaai.com; its examples repository; its MCP server) and the code it answers a form
 * without them: a missing pageurl ERROR_PAGEURL, a missing googlekey ERROR_GOOGLEKEY, a malformed
 * proxy ERROR_BAD_PROXY, an image outside the limits its own code (sim_images.ts), anything else
 * missing or malformed ERROR_BAD_PARAMETERS. docs/simulator.md, lists them.
 */
import type { Params } from "../upstream/protocol_params.ts";
import type { AnswerShape } from "./sim_answers.ts";
import { imageRefusal } from "./sim_images.ts";

/** A submit the simulator takes: its kind (solve time), its answer's shape, and the user agent answered beside it. */
export interface SimSubmit {
  kind: "image" | "token";
  shape: AnswerShape;
  /** Answered as a top-level `user_agent` (json=1): the task's own, or a default Chrome one. */
  userAgent?: string | undefined;
}

/** The method names `--unsupported` matches for a form: its `method`, and `grid` (recaptcha=1) or `geetest_v4` (version=4). */
export function methodNames(p: Params): string[] {
  const method = value(p, "method") ?? "";
  if ((method === "base64" || method === "post") && flag(p, "recaptcha")) return [method, "grid"];
  if (method === "geetest" && value(p, "version") === "4") return [method, "geetest_v4"];
  return [method];
}

/** The form read as CaptchaAI's method says: the task to create, or the code refusing it. */
export function readSubmit(p: Params, defaultUserAgent: string): SimSubmit | { code: string } {
  const method = value(p, "method");
  const ua = userAgent(p);
  if (typeof ua === "object") return ua;
  switch (method) {
    case undefined:
      return { code: "ERROR_ZERO_CAPTCHA_FILESIZE" }; // 2captcha reads a form without a method as an upload without a file
    case "base64":
    case "post":
      return image(p, method === "base64" ? "body" : "file");
    case "bls":
      return bls(p);
    case "userrecaptcha": {
      if (!value(p, "googlekey")) return { code: "ERROR_GOOGLEKEY" };
      const version = value(p, "version") ?? "v2";
      if (version !== "v2" && version !== "v3") return bad();
      const score = value(p, "min_score");
      if (score !== undefined && !(/^\d?\.\d+$|^[01]$/.test(score) && Number(score) >= 0.1 && Number(score) <= 0.9)) return bad();
      if (!optionalFlags(p, "invisible", "enterprise")) return bad();
      return checked(p, [], { kind: "token", shape: { kind: "token", prefix: "03AFcWeA" } });
    }
    case "turnstile":
      return checked(p, ["sitekey"], { kind: "token", shape: { kind: "token", prefix: "0." }, userAgent: ua ?? defaultUserAgent });
    case "cloudflare_challenge": {
      const type = value(p, "proxytype")?.toUpperCase();
      if (type !== undefined && type !== "HTTP" && type !== "HTTPS") return { code: "ERROR_BAD_PROXY" };
      return checked(p, ["proxy", "proxytype"], { kind: "token", shape: { kind: "cf_clearance" }, userAgent: ua ?? defaultUserAgent });
    }
    case "geetest": {
      const gt = value(p, "gt");
      if (gt === undefined || !/^[A-Za-z0-9]{1,64}$/.test(gt)) return bad();
      if (!host(value(p, "api_server"))) return bad();
      if (value(p, "version") === "4") return checked(p, [], { kind: "token", shape: { kind: "geetest_v4", captchaId: gt } });
      const challenge = value(p, "challenge");
      if (challenge === undefined || !/^[A-Za-z0-9]{1,128}$/.test(challenge)) return bad();
      return checked(p, [], { kind: "token", shape: { kind: "geetest", challenge } });
    }
    case "captchafox":
      return checked(p, ["sitekey", "proxy", "proxytype"], { kind: "token", shape: { kind: "token", prefix: "fox_" }, userAgent: ua ?? defaultUserAgent });
    case "friendly_captcha":
      return checked(p, ["sitekey"], { kind: "token", shape: { kind: "token", prefix: "" } });
    case "lemin":
      if (!host(value(p, "api_server"))) return bad();
      return checked(p, ["captcha_id", "div_id"], { kind: "token", shape: { kind: "lemin" } });
    default:
      return bad();
  }
}

const bad = () => ({ code: "ERROR_BAD_PARAMETERS" });

/** A parameter's text, trimmed; an empty one counts as absent. */
function value(p: Params, name: string): string | undefined {
  const v = p.get(name)?.trim();
  return v === undefined || v === "" ? undefined : v;
}

function flag(p: Params, name: string): boolean {
  const v = value(p, name)?.toLowerCase();
  return v === "1" || v === "true";
}

function optionalFlags(p: Params, ...names: string[]): boolean {
  return names.every((n) => value(p, n) === undefined || /^(?:0|1|true|false)$/i.test(value(p, n)!));
}

/** `userAgent` (or 2captcha's `useragent`): undefined, the text, or a refusal for a malformed one. */
function userAgent(p: Params): string | undefined | { code: string } {
  const ua = value(p, "userAgent") ?? value(p, "useragent");
  if (ua === undefined) return undefined;
  return ua.length <= 1024 && !/[\x00-\x1f\x7f]/.test(ua) ? ua : bad();
}

/** What every token method checks: pageurl, the method's `required` parameters, and a proxy if one is sent. */
function checked(p: Params, required: readonly string[], ok: SimSubmit): SimSubmit | { code: string } {
  if (!validUrl(value(p, "pageurl"))) return { code: "ERROR_PAGEURL" };
  for (const name of required) if (value(p, name) === undefined) return bad();
  const proxy = value(p, "proxy");
  if (proxy !== undefined && !validProxy(proxy)) return { code: "ERROR_BAD_PROXY" };
  const type = value(p, "proxytype");
  if (type !== undefined && !/^(?:HTTPS?|SOCKS[45])$/i.test(type)) return { code: "ERROR_BAD_PROXY" };
  return ok;
}

/** A normal image, or with recaptcha=1 a grid: an instruction (text or image) and optional rows and columns (1 to 10). */
function image(p: Params, field: "body" | "file"): SimSubmit | { code: string } {
  const refused = imageRefusal(p.get(field));
  if (refused) return { code: refused };
  if (!flag(p, "recaptcha")) return { kind: "image", shape: { kind: "text" } };
  const text = value(p, "textinstructions");
  const img = value(p, "imginstructions");
  if (text === undefined && img === undefined) return bad();
  if (img !== undefined) {
    const r = imageRefusal(img);
    if (r) return { code: r };
  }
  const size = (name: string): number | undefined => {
    const v = value(p, name) ?? "3";
    return /^\d{1,2}$/.test(v) && Number(v) >= 1 && Number(v) <= 10 ? Number(v) : undefined;
  };
  const rows = size("recaptcharows");
  const cols = size("recaptchacols");
  if (rows === undefined || cols === undefined) return bad();
  return { kind: "image", shape: { kind: "grid", cells: rows * cols } };
}

/** BLS: the page's numeric code as `instructions` and the nine cells as image_base64_1..9 (data URIs or base64). */
function bls(p: Params): SimSubmit | { code: string } {
  if (!/^\d{1,16}$/.test(value(p, "instructions") ?? "")) return bad();
  for (let i = 1; i <= 9; i++) {
    const cell = p.get(`image_base64_${i}`);
    if (cell === undefined || cell.trim() === "") return bad();
    const refused = imageRefusal(cell.trim());
    if (refused) return { code: refused };
  }
  return { kind: "image", shape: { kind: "bls" } };
}

function validUrl(raw: string | undefined): boolean {
  if (!raw) return false;
  try {
    return /^https?:$/.test(new URL(raw).protocol);
  } catch {
    return false;
  }
}

/** A host name, an IPv4 address or a bracketed IPv6 one; an http(s) URL (api_server as 2captcha's docs give it) or none at all. */
function host(raw: string | undefined): boolean {
  if (raw === undefined) return true;
  const h = /^https?:\/\//i.test(raw) ? raw.replace(/^https?:\/\//i, "").replace(/\/.*$/, "") : raw;
  return /^(?:\[[0-9a-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?)(?::\d{1,5})?$/i.test(h);
}

/** `login:password@host:port` or `host:port` (CaptchaAI's and 2captcha's proxy format), port 1 to 65535. */
export function validProxy(raw: string): boolean {
  const at = raw.lastIndexOf("@");
  if (at >= 0) {
    const creds = raw.slice(0, at);
    const colon = creds.indexOf(":");
    if (colon <= 0 || colon === creds.length - 1 || /[\s]/.test(creds)) return false;
  }
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?):(\d{1,5})$/.exec(raw.slice(at + 1));
  return m !== null && Number(m[2]) >= 1 && Number(m[2]) <= 65535;
}
