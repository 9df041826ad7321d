/**
 * 2captcha's JSON API v2: createTask, getTaskResult, getBalance, reportCorrect and reportIncorrect,
 * with anti-captcha's report names too. Task objects are read through the task catalogue, as every
 * API's tasks are; errors carry errorId, errorCode and errorDescription.
 */
import type { ByteBudget } from "../base/byte_budget.ts";
import type { ServerResponse } from "node:http";
import type { Logger } from "../base/log.ts";
import { readBody } from "../http/body.ts";
import { sendText } from "../http/respond.ts";
import type { RouteSpec } from "../http/router.ts";
import { ANSWERED, routeElsewhere, type RequestCtx, type TaskRouting, type UnroutedAnswers } from "../http/task_routing.ts";
import { gatewayAnswerOf, GatewayError, refusalError, taskFailureCode, v2Error } from "./errors.ts";
import type { Gateway } from "./gateway.ts";
import { BODY_LIMIT_BYTES } from "./legacy.ts";
import { readV2Task } from "../tasks/task_input.ts";
import { isTaskId } from "../tasks/task_id.ts";
import { taskResultBody } from "./v2_result.ts";

export interface V2Options {
  gateway: Gateway;
  log: Logger;
  /** Checks a callbackUrl; returns the code to refuse it with, or undefined to take it. */
  checkCallback?: (url: string) => "ERROR_BAD_PARAMETERS" | undefined;
  /** Reads of a peer's task go to the owner (--peers, docs/cluster.md). */
  routing?: TaskRouting | undefined;
  /** The worker's budget for request bodies being read, shared with the task API. */
  bodies?: ByteBudget;
}

type Body = Record<string, unknown>;

/** The JSON API's routes, mounted with renderV2Error (the router answers what they throw as errorId/errorCode). */
export function v2Routes(o: V2Options): RouteSpec[] {
  const route = (path: string, fn: (body: Body, ctx: RequestCtx) => Promise<Body | typeof ANSWERED> | Body): RouteSpec => ({
    method: "POST",
    path,
    handler: async (req, res) => {
      const raw = await readBody(req, BODY_LIMIT_BYTES, o.bodies);
      let body: unknown;
      try {
        body = JSON.parse(raw.toString("utf8"));
      } catch {
        body = undefined;
      }
      // 2captcha answers a body it cannot read as a request without a key.
      if (typeof body !== "object" || body === null || Array.isArray(body)) throw new GatewayError("ERROR_KEY_DOES_NOT_EXIST");
      const answer = await fn(body as Body, { req, res, body: raw });
      if (answer !== ANSWERED) sendText(res, 200, JSON.stringify({ errorId: 0, ...answer }), "application/json");
    },
  });
  const client = (b: Body) => o.gateway.authenticate(typeof b.clientKey === "string" ? b.clientKey : undefined);
  const taskOf = (b: Body) => {
    const c = client(b);
    const id = typeof b.taskId === "number" ? String(b.taskId) : typeof b.taskId === "string" ? b.taskId : "";
    const task = isTaskId(id) ? o.gateway.find(c, id) : undefined;
    if (!task) throw new GatewayError("ERROR_NO_SUCH_CAPCHA_ID");
    return { c, id, task };
  };
  /** A read of a peer's task, forwarded to its owner: undefined when this node answers (see UNROUTED). */
  const routed = async (b: Body, ctx: RequestCtx, report: boolean): Promise<Body | typeof ANSWERED | undefined> => {
    if (!o.routing) return undefined;
    client(b);
    const id = typeof b.taskId === "number" ? String(b.taskId) : typeof b.taskId === "string" ? b.taskId : "";
    if (!isTaskId(id)) return undefined;
    return routeElsewhere(o.routing, id, ctx, report ? UNROUTED.report : UNROUTED.read);
  };
  const report = (correct: boolean) => async (b: Body, ctx: RequestCtx) => {
    const elsewhere = await routed(b, ctx, true);
    if (elsewhere) return elsewhere;
    const { c, id } = taskOf(b);
    const answer = await o.gateway.report(c, id, correct);
    if (answer !== "OK_REPORT_RECORDED") throw new GatewayError(answer);
    return { status: "success" };
  };

  return [
    route("/createTask", async (b) => {
      const c = client(b);
      const verdict = readV2Task(b.task);
      if (!verdict.ok) throw refusalError(verdict.refusal);
      const params = verdict.params;
      if (b.callbackUrl !== undefined && b.callbackUrl !== "") {
        const refused = typeof b.callbackUrl !== "string" ? "ERROR_BAD_PARAMETERS" : o.checkCallback ? o.checkCallback(b.callbackUrl) : "ERROR_BAD_PARAMETERS";
        if (refused) throw new GatewayError(refused);
        params.callback = { url: b.callbackUrl as string, format: "v2" };
      }
      const task = await o.gateway.submit(c, params);
      return { taskId: Number(task.id) };
    }),
    route("/getTaskResult", async (b, ctx) => {
      const elsewhere = await routed(b, ctx, false);
      if (elsewhere) return elsewhere;
      const { task } = taskOf(b);
      if (task.status === "failed") throw new GatewayError(taskFailureCode(task.error?.code));
      return taskResultBody(task);
    }),
    route("/getBalance", (b) => {
      client(b);
      return { balance: o.gateway.balance() };
    }),
    route("/reportCorrect", report(true)),
    route("/reportIncorrect", report(false)),
    route("/reportCorrectRecaptcha", report(true)),
    route("/reportIncorrectRecaptcha", report(false)),
    route("/reportIncorrectImageCaptcha", report(false)),
  ];
}

/**
 * A read or report of a peer's task its owner did not answer: `processing` (a report:
 * ERROR_REPORT_NOT_RECORDED) while the task may still end, then ERROR_NO_SUCH_CAPCHA_ID, as for an
 * id of a node not in --peers.
 */
const fails = (code: "ERROR_NO_SUCH_CAPCHA_ID" | "ERROR_REPORT_NOT_RECORDED") => (): never => {
  throw new GatewayError(code);
};
const UNROUTED: Record<"read" | "report", UnroutedAnswers<Body>> = {
  read: { unknownNode: fails("ERROR_NO_SUCH_CAPCHA_ID"), final: fails("ERROR_NO_SUCH_CAPCHA_ID"), pending: () => ({ status: "processing" }) },
  report: { unknownNode: fails("ERROR_NO_SUCH_CAPCHA_ID"), final: fails("ERROR_NO_SUCH_CAPCHA_ID"), pending: fails("ERROR_REPORT_NOT_RECORDED") },
};

/** Answers what a JSON-API route threw as 2captcha does: errorId, errorCode and errorDescription, with status 200. */
export function renderV2Error(res: ServerResponse, err: unknown, log: Logger): void {
  const a = gatewayAnswerOf(err, log, res.req.url);
  sendText(res, 200, JSON.stringify(v2Error(a.code, a.detail)), "application/json", a.close ? { connection: "close" } : undefined);
}
