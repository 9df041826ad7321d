/**
 * The task API (docs/task-api.md): submit, read with an optional wait (RFC 7240 `Prefer: wait=N` or
 * `?wait=N`), report. A waiting client that goes away drops only its wait, never the task.
 */
import type { TaskFailureCode } from "../base/error_registry.ts";
import type { IncomingMessage, ServerResponse } from "node:http";
import { isWorkerError, WorkerError, type WorkerErrorCode } from "../base/errors.ts";
import type { ClientMetrics } from "../metrics/client_metrics.ts";
import type { SolverPool } from "../solver/pool.ts";
import { isEnded, type Task } from "../tasks/task.ts";
import { describeRefusal, readNativeTask } from "../tasks/task_input.ts";
import { DEFAULT_BODY_BUDGET, readJsonBody } from "./body.ts";
import { ByteBudget } from "../base/byte_budget.ts";
import { sendJson } from "./respond.ts";
import { namesProviders, serverTiming, taskView } from "./task_json.ts";
import type { Router } from "./router.ts";
import { isTaskId, nodeOfTaskId } from "../tasks/task_id.ts";
import { sha256, digestsMatch } from "../base/secret_match.ts";
import { waitSeconds } from "./wait_param.ts";
import { ANSWERED, routeElsewhere, type TaskRouting, type UnroutedAnswers } from "./task_routing.ts";
import { OPERATOR, type Caller, type SubmitTask } from "../intake/submit_task.ts";

export interface TaskRoutesOptions {
  pool: SolverPool;
  /** The one intake every API submits through (admission, the client's limit, acceptance, counts). */
  submit: SubmitTask;
  /** Bearer token required on the task API, if set. */
  apiToken?: string | undefined;
  /** The gateway's client keys (--client-keys-file): each is also a bearer token here, and with them a token is required. */
  clientKeys?: { find(key: string | undefined): { name: string; maxInFlight?: number | undefined } | undefined } | undefined;
  /** @default 2 MiB */
  bodyLimitBytes?: number;
  /** Bytes of task bodies read at once, all connections together. @default DEFAULT_BODY_BUDGET (16 MiB) */
  bodyBudgetBytes?: number;
  /** The budget itself, when other routes (the gateway) read against the same one. */
  bodies?: ByteBudget;
  /** Reads of a peer's task go to the owner (--peers, docs/cluster.md). @default every task is this node's */
  routing?: TaskRouting | undefined;
}

/** What a client waiting on a task kept across a restart is told at shutdown. */
const RETRY_AFTER_SHUTDOWN_S = 10;

export function registerTaskRoutes(router: Router, opts: TaskRoutesOptions): void {
  const authorized = bearerChecker(opts.apiToken, opts.clientKeys);
  const bodies = opts.bodies ?? new ByteBudget(opts.bodyBudgetBytes ?? DEFAULT_BODY_BUDGET);
  const guard = (req: IncomingMessage): Caller => {
    const caller = authorized(req.headers.authorization);
    if (caller === undefined) throw new WorkerError("ERR_UNAUTHORIZED", undefined, { field: "authorization" });
    return caller;
  };

  router.on("POST", "/v1/tasks", async (req, res, _params, url) => {
    const caller = guard(req);
    const wait = waitSeconds(req, url);
    const verdict = readNativeTask(await readJsonBody(req, opts.bodyLimitBytes, bodies));
    if (!verdict.ok) throw new WorkerError("ERR_BAD_REQUEST", describeRefusal(verdict.refusal), { field: verdict.refusal.field });
    const task = await opts.submit(caller, verdict.params);
    res.setHeader("location", `/v1/tasks/${task.id}`);
    if (wait === undefined) return sendJson(res, 202, { id: task.id, status: task.status });
    await answerAfterWait(req, res, opts.pool, task, wait);
  });

  router.on("GET", "/v1/tasks/:id", async (req, res, params, url) => {
    const caller = guard(req);
    const wait = waitSeconds(req, url);
    if (await routedElsewhere(opts.routing, caller, params.id!, req, res, wait ?? 0)) return;
    const task = ownTask(caller, find(opts.pool, params.id!));
    if (wait === undefined) return sendTask(res, task, opts.pool);
    await answerAfterWait(req, res, opts.pool, task, wait);
  });

  router.on("POST", "/v1/tasks/:id/report", async (req, res, params) => {
    const caller = guard(req);
    if (await routedElsewhere(opts.routing, caller, params.id!, req, res, "report")) return;
    const body = await readJsonBody(req, 4096);
    const correct = typeof body === "object" && body !== null ? (body as Record<string, unknown>).correct : undefined;
    if (typeof correct !== "boolean") throw new WorkerError("ERR_BAD_REQUEST", "Invalid correct: expected true or false.", { field: "correct" });
    const task = ownTask(caller, find(opts.pool, params.id!));
    const outcome = await opts.pool.report(task, correct);
    if (outcome.kind !== "ok") {
      const code = "code" in outcome ? outcome.code : outcome.kind;
      // A second report (the pool sends a task's report upstream once) is the client's mistake, not an upstream fault.
      if (code === "ERROR_DUPLICATE_REPORT") {
        throw new WorkerError("ERR_CONFLICT", `Task ${task.id} was already reported${task.reported ? ` (${task.reported})` : ""}; a task is reported once.`);
      }
      throw new WorkerError("ERR_UPSTREAM_CODE", undefined, { data: { code } });
    }
    sendJson(res, 200, { id: task.id, reported: task.reported });
  });
}

/**
 * True when the request was answered elsewhere (forwarded to the owner, or a peer token refused);
 * else the task is this node's. What the task API answers when the owner could not be asked: see
 * UNROUTED.
 */
async function routedElsewhere(routing: TaskRouting | undefined, caller: Caller, id: string, req: IncomingMessage, res: ServerResponse, waitS: number | "report"): Promise<boolean> {
  if (!isTaskId(id)) return false;
  const wait = waitS !== "report" && waitS > 0 ? { seconds: waitS, caller: callerName(caller) } : undefined;
  const answers = waitS === "report" ? UNROUTED.report : { ...UNROUTED.read, busy: tooManyWaits(caller) };
  const r = await routeElsewhere(routing, id, { req, res }, answers, wait);
  if (r === ANSWERED) return true;
  if (r === undefined) return false;
  sendJson(res, 200, r);
  return true;
}

const ownerOf = (id: string) => nodeOfTaskId(id) ?? -1;
const pending = (id: string, retryAfterS: number): never => {
  throw new WorkerError("ERR_OWNER_UNAVAILABLE", undefined, { data: { node: ownerOf(id), retryAfterS } });
};
/** The caller's stable name for the cap of forwarded waits (whichever credential spelling it sent). */
const callerName = (caller: Caller) => (caller.kind === "client" ? `client ${caller.name}` : "operator");
const tooManyWaits = (caller: Caller) => (_id: string, limit: number): never => {
  throw new WorkerError("ERR_TOO_MANY_WAITS", undefined, { data: { caller: caller.kind === "client" ? `Client ${caller.name}` : "The operator's token", limit } });
};
const unknownNode = (): never => {
  throw new WorkerError("ERR_NOT_FOUND", "No such task (its node is not one of --peers).");
};

/**
 * A read or report of a peer's task its owner did not answer: 503 with Retry-After while the task may
 * still end; past its deadline the final answer (a read: failed with `owner_unavailable`; a report:
 * 502). An id naming a node not in --peers: 404.
 */
const UNROUTED: Record<"read" | "report", UnroutedAnswers<Record<string, unknown>>> = {
  read: {
    unknownNode,
    pending,
    final: (id) => ({ id, status: "failed", error: { code: "owner_unavailable" satisfies TaskFailureCode, message: `The task's owner (node ${ownerOf(id)}) did not answer before the task's deadline.` } }),
  },
  report: {
    unknownNode,
    pending,
    final: () => {
      throw new WorkerError("ERR_UPSTREAM_CODE", undefined, { data: { code: "owner_unavailable" satisfies TaskFailureCode } });
    },
  },
};

/**
 * The one answer for a task a caller cannot read: unknown, forgotten, or another client's, alike byte
 * for byte but for the id, so a 404 tells a client nothing of other clients' tasks.
 */
function noTask(id: string): WorkerError {
  return new WorkerError("ERR_NOT_FOUND", `No task ${id.slice(0, 64)} (unknown, forgotten an hour after it ended, or another client's).`);
}

function find(pool: SolverPool, id: string): Task {
  const task = isTaskId(id) ? pool.find(id) : undefined;
  if (!task) throw noTask(id);
  return task;
}

/** Holds the answer until the task ends or `waitS` passes; a client gone away just stops waiting. */
async function answerAfterWait(
  req: IncomingMessage,
  res: ServerResponse,
  pool: SolverPool,
  task: Task,
  waitS: number,
): Promise<void> {
  if (!isEnded(task) && waitS > 0) {
    const gone = new AbortController();
    const onClose = () => gone.abort();
    res.once("close", onClose);
    await pool.wait(task.id, waitS * 1000, gone.signal);
    res.off("close", onClose);
    if (gone.signal.aborted || res.destroyed) return;
  }
  res.setHeader("preference-applied", `wait=${waitS}`);
  if (!isEnded(task) && pool.released) {
    // The worker is stopping: the task is kept for the next start (or ends with `shutdown`); ask again later.
    res.setHeader("retry-after", String(RETRY_AFTER_SHUTDOWN_S));
    res.setHeader("connection", "close");
  }
  sendTask(res, task, pool);
}

/** A task as GET answers it, with `Server-Timing` once it has ended. */
function sendTask(res: ServerResponse, task: Task, pool: Pick<SolverPool, "providers">): void {
  const timing = serverTiming(task);
  if (timing) res.setHeader("server-timing", timing);
  sendJson(res, 200, taskView(task, namesProviders(pool.providers)));
}

/**
 * Compares tokens in constant time (both sides hashed first, so lengths leak nothing either). A
 * client key from --client-keys-file is a token too; with neither, the API is open.
 */
export function bearerChecker(token: string | undefined, clientKeys?: TaskRoutesOptions["clientKeys"]): (header: string | undefined) => Caller | undefined {
  if (token === undefined && clientKeys === undefined) return () => OPERATOR;
  const expected = token === undefined ? undefined : sha256(token); // only with a token: node:crypto is not loaded at start
  return (header) => {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
    if (m === null) return undefined;
    if (expected !== undefined && digestsMatch(sha256(m[1]!), expected)) return OPERATOR;
    const client = clientKeys?.find(m[1]);
    return client === undefined ? undefined : { kind: "client", name: client.name, maxInFlight: client.maxInFlight };
  };
}


/** A client sees only its own tasks; another's answers as unknown (404), so ids reveal nothing. */
function ownTask(caller: Caller, task: Task): Task {
  if (caller.kind === "client" && task.params.client !== caller.name) throw noTask(task.id);
  return task;
}
