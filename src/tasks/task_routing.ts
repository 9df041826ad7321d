/**
 * The seam between the read routes (/v1/tasks/{id}, the gateway's res.php and getTaskResult, the
 * reports) and the cluster (SPEC §12): a read of a task another node owns is handed to the router,
 * which forwards it to the owner and writes the owner's answer, or says why it could not.
 */
import type { IncomingMessage, ServerResponse } from "node:http";

export type RouteOutcome =
  /** This node answers: it owns the id, the request was forwarded to it already, or there are no peers. */
  | { kind: "local" }
  /** The answer was written (the owner's, or a refused peer token). */
  | { kind: "answered" }
  /** The owner did not answer. `final`: the task's deadline has passed, so it cannot end any more. */
  | { kind: "unreachable"; final: boolean; retryAfterS: number }
  /** The id names a node that is not in --peers. */
  | { kind: "unknown_node" };

export interface TaskRouting {
  /**
   * Routes a read of task `id`. `body`: the bytes the route has already read (the gateway's
   * parameters); without it a POST's body is streamed to the owner unread.
   */
  route(id: string, req: IncomingMessage, res: ServerResponse, body?: Buffer): Promise<RouteOutcome>;
}
