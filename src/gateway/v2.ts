/**
 * 2captcha's JSON API v2 (SPEC §11): createTask, getTaskResult, getBalance, reportCorrect and
 * reportIncorrect, with anti-captcha's report names too. Task objects map onto the legacy names
 * (task_params.ts), so both APIs validate alike; errors carry errorId, errorCode and errorDescription.
 */
import type { ByteBudget } from "../base/byte_budget.ts";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { TaskRouting } from "../http/task_routing.ts";
import type { Logger } from "../base/log.ts";
import { readBody, send, type GatewayRoute } from "./_http.ts";
import { GatewayError, refusalError, taskFailureCode, v2Error, type GatewayCode } from "./errors.ts";
import type { Gateway } from "./gateway.ts";
import { readV2Task } from "../tasks/task_input.ts";
import { isTaskId } from "../tasks/task_id.ts";
import { taskResultBody } from "./v2_result.ts";

export interface V2Options {
  gateway: Gateway;
  log: Logger;
  /** Checks a callbackUrl; returns the code to refuse it with, or undefined to take it. */
  checkCallback?: (url: string) => "ERROR_BAD_PARAMETERS" | undefined;
  /** Reads of a peer's task go to the owner (--peers, SPEC §12). */
  routing?: TaskRouting | undefined;
  /** The worker's budget for request bodies being read, shared with the task API. */
  bodies?: ByteBudget;
}

type Body = Record<string, unknown>;
/** The request as read, for forwarding it to a task's owner. */
type Ctx = { req: IncomingMessage; res: ServerResponse; raw: Buffer };
/** The answer went out from elsewhere (the owner's, forwarded). */
const ANSWERED = Symbol("answered");

export function v2Routes(o: V2Options): GatewayRoute[] {
  const route = (path: string, fn: (body: Body, ctx: Ctx) => Promise<Body | typeof ANSWERED> | Body): GatewayRoute => ({
    method: "POST",
    path,
    handler: async (req, res, _params, url) => {
      const raw = await readBody(req, o.bodies);
      if (raw === "gone") return;
      if (raw === "too_large") return fail(res, "ERROR_TOO_BIG_CAPTCHA_FILESIZE", true);
      if (raw === "busy") return fail(res, "ERROR_NO_SLOT_AVAILABLE", true);
      let body: unknown;
      try {
        body = JSON.parse(raw.toString("utf8"));
      } catch {
        body = undefined;
      }
      if (typeof body !== "object" || body === null || Array.isArray(body)) return fail(res, "ERROR_KEY_DOES_NOT_EXIST");
      try {
        const answer = await fn(body as Body, { req, res, raw });
        if (answer !== ANSWERED) send(res, JSON.stringify({ errorId: 0, ...answer }), "application/json");
      } catch (err) {
        if (!(err instanceof GatewayError)) o.log.error("gateway request failed", { err, path: url.pathname });
        if (err instanceof GatewayError) fail(res, err.code, false, err.detail);
        else fail(res, "ERROR_NO_SLOT_AVAILABLE");
      }
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
  /**
   * A read of a peer's task, forwarded to its owner: undefined when this node answers. An owner that
   * does not answer: `processing` (a report: ERROR_REPORT_NOT_RECORDED) while the task may still end,
   * then ERROR_NO_SUCH_CAPCHA_ID, as for an id of a node not in --peers.
   */
  const routed = async (b: Body, ctx: Ctx, report: boolean): Promise<Body | typeof ANSWERED | undefined> => {
    if (!o.routing) return undefined;
    client(b);
    const id = typeof b.taskId === "number" ? String(b.taskId) : typeof b.taskId === "string" ? b.taskId : "";
    if (!isTaskId(id)) return undefined;
    const r = await o.routing.route(id, ctx.req, ctx.res, ctx.raw);
    if (r.kind === "local") return undefined;
    if (r.kind === "answered") return ANSWERED;
    if (r.kind === "unknown_node" || (r.kind === "unreachable" && r.final)) throw new GatewayError("ERROR_NO_SUCH_CAPCHA_ID");
    if (report) throw new GatewayError("ERROR_REPORT_NOT_RECORDED");
    return { status: "processing" };
  };
  const report = (correct: boolean) => async (b: Body, ctx: Ctx) => {
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

function fail(res: ServerResponse, legacy: GatewayCode, close = false, detail?: string): void {
  send(res, JSON.stringify(v2Error(legacy, detail)), "application/json", { close });
}
