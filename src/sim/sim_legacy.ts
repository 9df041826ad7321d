/**
 * The in.php/res.php protocol (docs/simulator.md) as CaptchaAI and 2captcha answer it: submits read
 * by each method's documented parameters (sim_methods.ts), `json=1` and plain answers, polls,
 * balance and reports. What differs between the two is the dialect's row (sim_dialects.ts): the
 * methods 2captcha does not serve, its capacity code, its billing per solve and `action=get2`.
 */
import type { ServerResponse } from "node:http";
import { readParams, type Params } from "../upstream/protocol_params.ts";
import { BALANCE, POLL, REPORT, SUBMIT } from "../upstream/endpoints.ts";
import { DEFAULT_USER_AGENT, type SimAnswer } from "./sim_answers.ts";
import { methodNames, readSubmit } from "./sim_methods.ts";
import { cannotPay, recordedValue, type SimContext, type SimProtocol } from "./sim_protocol.ts";

export function createLegacyProtocol(ctx: SimContext): SimProtocol {
  const { clock, tasks, access, spec } = ctx;

  function answer(res: ServerResponse, path: string, params: Params, from: string): void {
    const key = params.get("key") ?? "";
    const refused = access.check(from, key);
    if (refused === "banned") ctx.count("bannedRequests");
    if (refused) return reply(res, params, false, refused === "banned" ? spec.keys.banned! : spec.keys[refused]);
    if (path === "/in.php") return submit(res, key, params);
    const action = params.get("action") ?? "";
    switch (action) {
      case "getbalance":
        return reply(res, params, true, tasks.balanceUsd.toFixed(5).replace(/0+$/, "").replace(/\.$/, ".0"), true);
      case "get":
      case "get2": {
        // get2 is get with the task's price beside the answer (2captcha's API, res.php); CaptchaAI has none.
        if (action === "get2" && !spec.get2) return reply(res, params, false, "ERROR_BAD_PARAMETERS");
        const task = tasks.get(params.get("id") ?? "", key);
        if (!task) return reply(res, params, false, "ERROR_WRONG_CAPTCHA_ID");
        if (clock.now() < task.readyAt) return reply(res, params, false, "CAPCHA_NOT_READY");
        if (task.unsolvable) {
          if (spec.chargesUnsolvable) tasks.charge(task);
          return reply(res, params, false, "ERROR_CAPTCHA_UNSOLVABLE");
        }
        tasks.deliver(task);
        const price = action === "get2" ? priceText(tasks.prices[task.kind]) : undefined;
        return reply(res, params, true, task.answer, false, task.userAgent, price);
      }
      case "reportgood":
      case "reportbad": {
        const task = tasks.get(params.get("id") ?? "", key);
        if (!task || !task.delivered) return reply(res, params, false, "ERROR_WRONG_CAPTCHA_ID");
        if (task.reported) return reply(res, params, false, "ERROR_DUPLICATE_REPORT");
        task.reported = true;
        return reply(res, params, true, "OK_REPORT_RECORDED", true);
      }
      case "":
        return reply(res, params, false, "ERROR_EMPTY_ACTION");
      default:
        return reply(res, params, false, "ERROR_BAD_PARAMETERS");
    }
  }

  function submit(res: ServerResponse, key: string, params: Params): void {
    const names = methodNames(params);
    if (names.some((m) => spec.notServed.includes(m))) {
      ctx.count("unsupportedRefusals");
      return reply(res, params, false, spec.unsupportedCode);
    }
    const off = ctx.unsupported();
    if (names.some((m) => off.methods.includes(m))) {
      ctx.count("unsupportedRefusals");
      return reply(res, params, false, off.code);
    }
    const read = readSubmit(params, DEFAULT_USER_AGENT);
    if ("code" in read) return reply(res, params, false, read.code);
    if (cannotPay(ctx, read.kind)) return reply(res, params, false, "ERROR_ZERO_BALANCE");
    if (tasks.busy(key) >= tasks.threads) {
      ctx.count("capacityRefusals");
      return reply(res, params, false, ctx.capacityCode());
    }
    const task = tasks.create(key, read.kind, read.shape, read.userAgent);
    ctx.count("submitted");
    reply(res, params, true, task.id);
  }

  return {
    read(url, contentType, body) {
      if (url.pathname !== "/in.php" && url.pathname !== "/res.php") return undefined;
      const params = readParams(url, contentType, body);
      const path = url.pathname;
      const submitted = path === "/in.php" ? Object.fromEntries([...params].filter(([k]) => k !== "key").map(([k, v]) => [k, recordedValue(v)])) : undefined;
      return {
        selector: selectorOf(path, params.get("action"), spec.get2),
        keyInQuery: url.searchParams.has("key"),
        ...(submitted ? { submitted } : {}),
        answer: (res, from) => answer(res, path, params, from),
        refuse: (res, code) => reply(res, params, false, code),
      };
    },
  };
}

/** A price as 2captcha's get2 gives it: USD per solve as decimal text. */
function priceText(usd: number): string {
  return String(Math.round(usd * 1e6) / 1e6);
}

/**
 * The protocol's two answer forms: `json=1` (an object solution as it is, a `user_agent` beside it
 * when the task has one, get2's `price`) or plain `OK|...` (an object as JSON text; get2's
 * `OK|answer|price`) / bare code (getbalance and reports bare).
 */
function reply(res: ServerResponse, params: Params, ok: boolean, request: SimAnswer, bare = false, userAgent?: string, price?: string): void {
  if (res.destroyed) return;
  const json = params.get("json") === "1";
  const text = typeof request === "string" ? request : JSON.stringify(request);
  const extra = { ...(userAgent === undefined ? {} : { user_agent: userAgent }), ...(price === undefined ? {} : { price }) };
  const body = json ? JSON.stringify({ status: ok ? 1 : 0, request, ...extra }) : ok && !bare ? `OK|${text}${price === undefined ? "" : `|${price}`}` : text;
  res.writeHead(200, { "content-type": json ? "application/json" : "text/plain", "content-length": Buffer.byteLength(body) });
  res.end(body);
}

function selectorOf(path: string, action: string | undefined, get2: boolean): string {
  if (path === "/in.php") return SUBMIT;
  if (action === "get" || (get2 && action === "get2")) return POLL;
  if (action === "getbalance") return BALANCE;
  if (action === "reportgood" || action === "reportbad") return REPORT;
  return "res.php:other";
}
