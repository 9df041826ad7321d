/**
 * 2captcha's legacy API (docs/gateway.md): /in.php submits, /res.php reads (get, get2, ids=), the balance
 * and reports. Parameters come from the query, a form, multipart (a `file` part) or a JSON body;
 * `json=1` answers {"status","request"}, otherwise `OK|...` or the bare code as text, always 200.
 */
import type { ByteBudget } from "../base/byte_budget.ts";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "../base/log.ts";
import { readParams, type Params } from "../upstream/protocol_params.ts";
import type { Task } from "../tasks/task.ts";
import { readBody } from "../http/body.ts";
import { sendText } from "../http/respond.ts";
import type { RouteSpec } from "../http/router.ts";
import { ANSWERED, routeElsewhere, type AskOutcome, type RequestCtx, type TaskRouting, type UnroutedAnswers } from "../http/task_routing.ts";
import { gatewayAnswerOf, GatewayError, refusalError, taskFailureCode } from "./errors.ts";
import type { Gateway } from "./gateway.ts";
import { costText } from "./v2_result.ts";
import { readLegacyTask } from "../tasks/task_input.ts";
import { solutionIn, solutionText } from "../tasks/task_catalogue.ts";
import { textFlag } from "../tasks/task_fields.ts";
import { isTaskId, nodeOfTaskId } from "../tasks/task_id.ts";

/** Image uploads as multipart, form or base64 in JSON: room for the largest image and the envelope around it. */
export const BODY_LIMIT_BYTES = 3 * 1024 * 1024;

/** Most ids one `get` answers (`ids=1,2,3`). */
export const MAX_IDS = 100;
/** Most peer questions (one per owner node) one client's `ids=` reads have out at once. */
export const PEER_QUESTIONS_PER_CLIENT = 16;
/** An owner not asked, or whose answer did not read: its ids are not ready (until their deadline, as one id's read). */
const PENDING: AskOutcome = { kind: "unreachable", final: [] };

/** A reply's request as one line of text (json=0): a list is its parts joined by `|`, as 2captcha's `ids=` answer. */
const textOf = (request: Reply["request"]): string => (Array.isArray(request) ? request.join("|") : solutionText(request as Record<string, unknown> | string));

/** An owner's `answers=list` answer (`{"status":1,"request":[...]}`), one text per id; undefined when it is not that. */
function listOf(body: string, count: number): string[] | undefined {
  try {
    const v = JSON.parse(body) as { request?: unknown };
    const list = v.request;
    return Array.isArray(list) && list.length === count && list.every((x) => typeof x === "string") ? (list as string[]) : undefined;
  } catch {
    return undefined;
  }
}

export interface LegacyOptions {
  gateway: Gateway;
  log: Logger;
  /** Checks a pingback URL; returns the code to refuse it with, or undefined to take it. */
  checkCallback?: (url: string) => "ERROR_BAD_PARAMETERS" | undefined;
  /** Reads of a peer's task go to the owner (--peers, docs/cluster.md). */
  routing?: TaskRouting | undefined;
  /** The worker's budget for request bodies being read, shared with the task API. */
  bodies?: ByteBudget;
}

interface Reply {
  ok: boolean;
  /** Text, or a solution's several values (json=1 carries them as an object, json=0 as JSON text); `answers=list`: one text per id. */
  request: string | Readonly<Record<string, unknown>> | readonly string[];
  /** The user agent a solution was made with (2captcha's json=1 `useragent`, beside the request). */
  useragent?: string | undefined;
  /** Plain text without `OK|` (getbalance and the report answers). */
  bare?: boolean;
  /** get2's price. */
  price?: string;
  /** json=1's `error_text` (2captcha's): what was wrong, naming the field. */
  errorText?: string | undefined;
}

/** The legacy routes, mounted with renderLegacyError (the router answers what they throw in 2captcha's terms). */
export function legacyRoutes(o: LegacyOptions): RouteSpec[] {
  const handle = (endpoint: (p: Params, ctx: RequestCtx) => Promise<Reply | typeof ANSWERED>) => async (req: IncomingMessage, res: ServerResponse, _: Record<string, string>, url: URL) => {
    // Until the body is read, an error answers in the form the query asks for (json=1).
    PARAMS.set(req, readParams(url, "", Buffer.alloc(0)));
    const body = req.method === "GET" || req.method === "HEAD" ? undefined : await readBody(req, BODY_LIMIT_BYTES, o.bodies);
    const params = readParams(url, String(req.headers["content-type"] ?? ""), body ?? Buffer.alloc(0));
    PARAMS.set(req, params);
    if (req.method === "HEAD") return reply(res, params, { ok: false, request: "" });
    const r = await endpoint(params, { req, res, body });
    if (r !== ANSWERED) reply(res, params, r);
  };

  /** A read of a peer's task, forwarded to its owner: undefined when this node answers (see UNROUTED). */
  const routed = (id: string, ctx: RequestCtx, report: boolean) => routeElsewhere(o.routing, id, ctx, report ? UNROUTED.report : UNROUTED.read);

  const submit = async (p: Params): Promise<Reply> => {
    const client = o.gateway.authenticate(p.get("key"));
    const verdict = readLegacyTask(p);
    if (!verdict.ok) throw refusalError(verdict.refusal);
    const params = verdict.params;
    const pingback = p.get("pingback");
    if (pingback) {
      const refused = o.checkCallback ? o.checkCallback(pingback) : "ERROR_BAD_PARAMETERS";
      if (refused) throw new GatewayError(refused);
      params.callback = { url: pingback, format: "pingback" };
    }
    const task = await o.gateway.submit(client, params);
    return { ok: true, request: task.id };
  };

  const read = async (p: Params, ctx: RequestCtx): Promise<Reply | typeof ANSWERED> => {
    const client = o.gateway.authenticate(p.get("key"));
    const action = p.get("action") ?? "";
    switch (action) {
      case "get":
      case "get2": {
        const ids = p.get("ids");
        if (ids !== undefined && action === "get") return readMany(client, p.get("key") ?? "", ids, ctx, p.get("answers") === "list");
        const id = p.get("id") ?? "";
        if (!isTaskId(id)) throw new GatewayError("ERROR_WRONG_ID_FORMAT");
        const elsewhere = await routed(id, ctx, false);
        if (elsewhere) return elsewhere;
        const task = o.gateway.find(client, id);
        if (!task) throw new GatewayError("ERROR_WRONG_CAPTCHA_ID");
        const r = result(task);
        // What the solve cost at its provider (docs/providers.md); "0" on a thread plan, paid by the thread.
        return action === "get2" && r.ok ? { ...r, price: costText(task) } : r;
      }
      case "getbalance":
        return { ok: true, request: String(o.gateway.balance()), bare: true };
      case "reportgood":
      case "reportbad": {
        const id = p.get("id") ?? "";
        if (!isTaskId(id)) throw new GatewayError("ERROR_WRONG_ID_FORMAT");
        const elsewhere = await routed(id, ctx, true);
        if (elsewhere) return elsewhere;
        const answer = await o.gateway.report(client, id, action === "reportgood");
        return { ok: answer === "OK_REPORT_RECORDED", request: answer, bare: true };
      }
      case "":
        throw new GatewayError("ERROR_EMPTY_ACTION");
      default:
        throw new GatewayError("ERROR_BAD_PARAMETERS");
    }

  };

  /**
   * `ids=`: this node's ids answered here, each other node asked for its own (one request per owner,
   * `res.php?action=get&ids=...&answers=list` with the client's key, all at once: the owner answers a
   * JSON list, one answer per id, so a solution holding "|" splits cleanly), the answers put back in
   * the client's order. An owner that does not answer, or answers what is not one answer per id: its
   * ids read as routed() reads one id. A client has at most PEER_QUESTIONS_PER_CLIENT questions out
   * at once; an owner past that is not asked (its ids read CAPCHA_NOT_READY).
   */
  const readMany = async (client: ReturnType<Gateway["authenticate"]>, key: string, ids: string, ctx: RequestCtx, asList: boolean): Promise<Reply | typeof ANSWERED> => {
    const list = ids.split(",").map((s) => s.trim());
    if (list.length > MAX_IDS || list.some((id) => !isTaskId(id))) throw new GatewayError("ERROR_WRONG_ID_FORMAT");
    const byNode = new Map<number | undefined, string[]>();
    for (const id of list) {
      const node = nodeOfTaskId(id);
      const group = byNode.get(node);
      if (group) group.push(id);
      else byNode.set(node, [id]);
    }
    const groups = [...byNode.values()];
    const asked = await askBounded(client.name, groups.map((g) => ({ ids: g, form: { key, action: "get", ids: g.join(","), json: "1", answers: "list" } })), ctx);
    if (asked === ANSWERED) return ANSWERED;
    const answers = new Map<string, string>();
    asked.forEach((r, n) => {
      const group = groups[n]!;
      const parts = r.kind === "answer" ? listOf(r.body, group.length) : undefined;
      group.forEach((id, i) => answers.set(id, parts ? parts[i]! : answerOf(client, id, r.kind === "answer" ? PENDING : r, i)));
    });
    const request = list.map((id) => answers.get(id)!);
    return asList ? { ok: true, request } : { ok: true, request: request.join("|"), bare: true };
  };

  /** How `get` reads one of this node's own ids. */
  const localAnswer = (client: ReturnType<Gateway["authenticate"]>, id: string): string => {
    const task = o.gateway.find(client, id);
    return task ? textOf(result(task).request) : "ERROR_WRONG_CAPTCHA_ID";
  };

  /** ask(), at most PEER_QUESTIONS_PER_CLIENT out at once per client: the questions past it are not sent (their ids read CAPCHA_NOT_READY). */
  const askBounded = async (name: string, questions: { ids: string[]; form: Record<string, string> }[], ctx: RequestCtx): Promise<AskOutcome[] | typeof ANSWERED> => {
    const out = questionsOut.get(name) ?? 0;
    const room = Math.max(0, PEER_QUESTIONS_PER_CLIENT - out);
    const sent = questions.slice(0, room);
    questionsOut.set(name, out + sent.length);
    try {
      const asked = await ask(sent, ctx);
      return asked === ANSWERED ? ANSWERED : [...asked, ...questions.slice(room).map(() => PENDING)];
    } finally {
      const left = (questionsOut.get(name) ?? sent.length) - sent.length;
      if (left > 0) questionsOut.set(name, left);
      else questionsOut.delete(name);
    }
  };
  /** Peer questions each client has out now. */
  const questionsOut = new Map<string, number>();

  /** Asks each owner its question (POST /res.php); a node's own ids come back "local". */
  const ask = async (questions: { ids: string[]; form: Record<string, string> }[], ctx: RequestCtx): Promise<AskOutcome[] | typeof ANSWERED> => {
    const qs = questions.map((q) => ({ ids: q.ids, path: "/res.php", form: new URLSearchParams(q.form) }));
    if (!o.routing) return qs.map(() => ({ kind: "local" }));
    const r = await o.routing.ask(qs, ctx.req, ctx.res);
    return r.kind === "answered" ? ANSWERED : r.outcomes;
  };

  /** Id `i` of an owner's question as `get` reads it when the owner did not give its answer. */
  const answerOf = (client: ReturnType<Gateway["authenticate"]>, id: string, r: AskOutcome, i: number): string => {
    if (r.kind === "local") return localAnswer(client, id);
    return r.kind === "unknown_node" || (r.kind === "unreachable" && r.final[i]) ? "ERROR_WRONG_CAPTCHA_ID" : "CAPCHA_NOT_READY";
  };

  return [
    { method: "GET", path: "/in.php", handler: handle(submit) },
    { method: "POST", path: "/in.php", handler: handle(submit) },
    { method: "GET", path: "/res.php", handler: handle(read) },
    { method: "POST", path: "/res.php", handler: handle(read) },
  ];
}

/**
 * A read or report of a peer's task its owner did not answer: CAPCHA_NOT_READY (a report:
 * ERROR_REPORT_NOT_RECORDED) while the task may still end, then ERROR_WRONG_CAPTCHA_ID, as for an id
 * of a node not in --peers.
 */
const gone = (): never => {
  throw new GatewayError("ERROR_WRONG_CAPTCHA_ID");
};
const UNROUTED: Record<"read" | "report", UnroutedAnswers<Reply>> = {
  read: { unknownNode: gone, final: gone, pending: () => ({ ok: false, request: "CAPCHA_NOT_READY" }) },
  report: { unknownNode: gone, final: gone, pending: () => ({ ok: false, request: "ERROR_REPORT_NOT_RECORDED", bare: true }) },
};

/** Each request's parameters, for the error renderer (json=1, header_acao). */
const PARAMS = new WeakMap<IncomingMessage, Params>();

/** Answers what a legacy route threw as 2captcha does: the code (and json=1's error_text), always 200. */
export function renderLegacyError(res: ServerResponse, err: unknown, log: Logger): void {
  const a = gatewayAnswerOf(err, log, res.req.url);
  reply(res, PARAMS.get(res.req) ?? new Map(), { ok: false, request: a.code, errorText: a.detail }, a.close);
}

/** A task as `get` answers it. */
function result(task: Task): Reply {
  if (task.status === "solved") return { ok: true, request: solutionIn(task, "legacy") ?? "", useragent: task.useragent };
  if (task.status === "failed") return { ok: false, request: taskFailureCode(task.error?.code) };
  return { ok: false, request: "CAPCHA_NOT_READY" };
}

/** Writes a 200 (2captcha answers errors with 200 too), with `Access-Control-Allow-Origin: *` when asked. */
function reply(res: ServerResponse, params: Params, r: Reply, close = false): void {
  const headers: Record<string, string> = {};
  if (textFlag(params.get("header_acao") ?? "") === true) headers["access-control-allow-origin"] = "*";
  if (close) headers.connection = "close";
  if (textFlag(params.get("json") ?? "") === true) {
    const body: Record<string, unknown> = { status: r.ok ? 1 : 0, request: r.request };
    if (r.useragent !== undefined) body.useragent = r.useragent;
    if (r.price !== undefined) body.price = r.price;
    if (r.errorText !== undefined) body.error_text = r.errorText;
    return sendText(res, 200, JSON.stringify(body), "application/json", headers);
  }
  const request = textOf(r.request);
  const text = !r.ok || r.bare ? request : r.price !== undefined ? `OK|${request}|${r.price}` : `OK|${request}`;
  sendText(res, 200, text, "text/plain; charset=utf-8", headers);
}
