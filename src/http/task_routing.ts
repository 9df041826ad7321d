/**
 * The seam between the read routes (/v1/tasks/{id}, the gateway's res.php and getTaskResult, the
 * reports) and the cluster (docs/cluster.md): a read of a task another node owns is handed to the router,
 * which forwards it to the owner and writes the owner's answer, or says why it could not. A read of
 * several nodes' tasks at once (the gateway's `ids=`) asks each owner a question of its own and
 * gets the answers back to assemble.
 */
import type { IncomingMessage, ServerResponse } from "node:http";

export type RouteOutcome =
  /** This node answers: it owns the id, the request was forwarded to it already, or there are no peers. */
  | { kind: "local" }
  /** The answer was written (the owner's, a refused peer token, or this node's wrong --peers). */
  | { kind: "answered" }
  /** The owner did not answer. `final`: the task's deadline has passed, so it cannot end any more. */
  | { kind: "unreachable"; final: boolean; retryAfterS: number }
  /** The id names a node that is not in --peers. */
  | { kind: "unknown_node" }
  /**
   * Not forwarded: the client already has `limit` waiting reads forwarded at once (docs/cluster.md
   * out). The task API answers 429 with Retry-After; the gateway's reads never wait, so never get it.
   */
  | { kind: "busy"; limit: number; retryAfterS: number };

/** A read that waits: how long, and for whom (the cap counts per caller, whichever credential spelling it sends). */
export interface ForwardedWait {
  seconds: number;
  /** The caller's stable name: a client's name, or the operator. */
  caller: string;
}

/** A request for one owner about some of its tasks: POST `path` with `form` as its urlencoded body. */
export interface OwnerQuestion {
  /** The tasks asked about, all of one node. */
  ids: readonly string[];
  path: string;
  form: URLSearchParams;
}

export type AskOutcome =
  /** This node answers these ids itself (its own, a forwarded request, or no peers). */
  | { kind: "local" }
  /** The owner's answer (a 2xx; anything else counts as no answer). */
  | { kind: "answer"; body: string }
  /** The owner did not answer; `final[i]`: ids[i]'s deadline has passed. */
  | { kind: "unreachable"; final: readonly boolean[] }
  | { kind: "unknown_node" };

export interface TaskRouting {
  /**
   * Routes a read of task `id`. `body`: the bytes the route has already read (the gateway's
   * parameters); without it a POST's body is streamed to the owner unread. `wait`: the wait the
   * owner will honour (the task API's, as http/wait_param.ts reads it), which lengthens the
   * forward's bound and counts toward its caller's cap of forwarded waits. @default no wait
   */
  route(id: string, req: IncomingMessage, res: ServerResponse, body?: Buffer, wait?: ForwardedWait): Promise<RouteOutcome>;
  /**
   * Asks each question's owner concurrently, one request per question. "answered": `req` is a
   * forwarded request with a wrong peer token, refused on `res`; otherwise one outcome per question.
   */
  ask(questions: readonly OwnerQuestion[], req: IncomingMessage, res: ServerResponse): Promise<{ kind: "answered" } | { kind: "asked"; outcomes: AskOutcome[] }>;
}

/** A request as a route has read it, for forwarding it to a task's owner. `body`: the bytes already read, if any. */
export interface RequestCtx {
  req: IncomingMessage;
  res: ServerResponse;
  body?: Buffer | undefined;
}

/** The answer went out from elsewhere (the owner's, forwarded; or a peer token refused). */
export const ANSWERED = Symbol("answered");

/**
 * How one API answers a read or report it could not route to the task's owner: the id names a node
 * not in --peers; the owner did not answer before the task's deadline (the task cannot end any more);
 * the owner did not answer yet (the task may still end: ask again in `retryAfterS`). Each may throw
 * the API's own error instead of returning an answer.
 */
export interface UnroutedAnswers<T> {
  unknownNode: (id: string) => T;
  final: (id: string) => T;
  pending: (id: string, retryAfterS: number) => T;
  /** The caller already has `limit` waiting reads forwarded (only reads that wait, the task API's, can be). */
  busy?: (id: string, limit: number, retryAfterS: number) => T;
}

/**
 * Routes a read of task `id`: undefined when this node answers it, ANSWERED when the answer was
 * written elsewhere, else the API's answer from `answers`.
 */
export async function routeElsewhere<T>(routing: TaskRouting | undefined, id: string, ctx: RequestCtx, answers: UnroutedAnswers<T>, wait?: ForwardedWait): Promise<T | typeof ANSWERED | undefined> {
  if (!routing) return undefined;
  const r = await routing.route(id, ctx.req, ctx.res, ctx.body, wait);
  switch (r.kind) {
    case "local":
      return undefined;
    case "answered":
      return ANSWERED;
    case "unknown_node":
      return answers.unknownNode(id);
    case "unreachable":
      return r.final ? answers.final(id) : answers.pending(id, r.retryAfterS);
    case "busy":
      return answers.busy ? answers.busy(id, r.limit, r.retryAfterS) : answers.pending(id, r.retryAfterS);
  }
}
