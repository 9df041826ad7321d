/**
 * The seam between the read routes (/v1/tasks/{id}, the gateway's res.php and getTaskResult, the
 * reports) and the cluster (SPEC §12): a read of a task another node owns is handed to the router,
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
   * Not forwarded: the client already has `limit` waiting reads forwarded at once (README, Scaling
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
