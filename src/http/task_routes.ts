/**
 * The task API (SPEC §5): submit, read with an optional wait (RFC 7240 `Prefer: wait=N` or
 * `?wait=N`), report. A waiting client that goes away drops only its wait, never the task.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { isWorkerError, WorkerError, type WorkerErrorCode } from "../base/errors.ts";
import type { ClientMetrics } from "../metrics/client_metrics.ts";
import type { SolverPool } from "../solver/pool.ts";
import { isEnded, type Task } from "../tasks/task.ts";
import { describeRefusal, readNativeTask } from "../tasks/task_input.ts";
import { DEFAULT_BODY_BUDGET, readJsonBody } from "./body.ts";
import { ByteBudget } from "../base/byte_budget.ts";
import { sendJson } from "./respond.ts";
import { serverTiming, taskView } from "./task_json.ts";
import type { Router } from "./router.ts";
import { isTaskId, nodeOfTaskId } from "../tasks/task_id.ts";
import { sha256, digestsMatch } from "../base/secret_match.ts";
import { waitSeconds } from "./wait_param.ts";
import type { TaskRouting } from "./task_routing.ts";

/** Why the worker takes no task now; undefined when it does. */
export interface Refusal {
  code: "ERR_NOT_READY" | "ERR_DRAINING";
  detail: string;
}

export interface TaskRoutesOptions {
  pool: SolverPool;
  /** Checked on every submit (readiness, draining). */
  admission: () => Refusal | undefined;
  /** Bearer token required on the task API, if set. */
  apiToken?: string | undefined;
  /** The gateway's client keys (--client-keys-file): each is also a bearer token here, and with them a token is required. */
  clientKeys?: { find(key: string | undefined): { name: string; maxInFlight?: number | undefined } | undefined } | undefined;
  /** @default 2 MiB */
  bodyLimitBytes?: number;
  /** Bytes of task bodies read at once, all connections together. @default 64 MiB */
  bodyBudgetBytes?: number;
  /** The budget itself, when other routes (the gateway) read against the same one. */
  bodies?: ByteBudget;
  /** Per-client counters, shared with the gateway (with --client-keys-file). */
  clientMetrics?: Pick<ClientMetrics, "accepted" | "refused"> | undefined;
  /** Reads of a peer's task go to the owner (--peers, SPEC §12). @default every task is this node's */
  routing?: TaskRouting | undefined;
}

/** A submit refused for want of capacity: counted per client as the gateway's ERROR_NO_SLOT_AVAILABLE is. */
const REFUSALS: readonly WorkerErrorCode[] = ["ERR_NOT_READY", "ERR_DRAINING", "ERR_QUEUE_FULL", "ERR_CLIENT_LIMIT", "ERR_STATE_DIR"];
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
    const input = verdict.params;
    // A client's task is its own: the gateway's reads and the checks below know it by this name.
    const params = caller.kind === "client" ? { ...input, client: caller.name } : input;
    let task: Task;
    try {
      const refusal = opts.admission();
      if (refusal) throw new WorkerError(refusal.code, refusal.detail);
      // No await between this check and accept's synchronous admission: two requests at once cannot both pass.
      if (caller.kind === "client" && opts.pool.tasks.atClientLimit(caller.name, caller.maxInFlight)) {
        throw new WorkerError("ERR_CLIENT_LIMIT", undefined, { data: { client: caller.name, limit: caller.maxInFlight! } });
      }
      task = await opts.pool.accept(params.type, params);
    } catch (err) {
      if (caller.kind === "client" && REFUSALS.some((code) => isWorkerError(err, code))) opts.clientMetrics?.refused(caller.name);
      throw err;
    }
    if (caller.kind === "client") opts.clientMetrics?.accepted(caller.name);
    res.setHeader("location", `/v1/tasks/${task.id}`);
    if (wait === undefined) return sendJson(res, 202, { id: task.id, status: task.status });
    await answerAfterWait(req, res, opts.pool, task, wait);
  });

  router.on("GET", "/v1/tasks/:id", async (req, res, params, url) => {
    const caller = guard(req);
    const wait = waitSeconds(req, url);
    if (await routedElsewhere(opts.routing, caller, params.id!, req, res, wait ?? 0)) return;
    const task = ownTask(caller, find(opts.pool, params.id!));
    if (wait === undefined) return sendTask(res, task);
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
 * `waitS`: a read's wait (0 for none), or "report".
 * An owner that does not answer: 503 with Retry-After while the task may still end; past its
 * deadline the final answer (a read: failed with `owner_unavailable`; a report: 502). An id naming
 * a node not in --peers: 404. A wait past the caller's cap of forwarded waits: 429 with Retry-After.
 */
async function routedElsewhere(routing: TaskRouting | undefined, caller: Caller, id: string, req: IncomingMessage, res: ServerResponse, waitS: number | "report"): Promise<boolean> {
  const wait = waitS !== "report" && waitS > 0 ? { seconds: waitS, caller: caller.kind === "client" ? `client ${caller.name}` : "operator" } : undefined;
  const r = routing && isTaskId(id) ? await routing.route(id, req, res, undefined, wait) : { kind: "local" as const };
  const kind = waitS === "report" ? "report" : "read";
  if (r.kind === "local") return false;
  if (r.kind === "answered") return true;
  if (r.kind === "unknown_node") throw new WorkerError("ERR_NOT_FOUND", "No such task (its node is not one of --peers).");
  if (r.kind === "busy") throw new WorkerError("ERR_TOO_MANY_WAITS", undefined, { data: { caller: caller.kind === "client" ? `Client ${caller.name}` : "The operator's token", limit: r.limit } });
  const node = nodeOfTaskId(id) ?? -1;
  if (!r.final) throw new WorkerError("ERR_OWNER_UNAVAILABLE", undefined, { data: { node, retryAfterS: r.retryAfterS } });
  if (kind === "report") throw new WorkerError("ERR_UPSTREAM_CODE", undefined, { data: { code: "owner_unavailable" } });
  sendJson(res, 200, {
    id,
    status: "failed",
    error: { code: "owner_unavailable", message: `The task's owner (node ${node}) did not answer before the task's deadline.` },
  });
  return true;
}

function find(pool: SolverPool, id: string): Task {
  const task = isTaskId(id) ? pool.tasks.get(id) : undefined;
  if (!task) throw new WorkerError("ERR_NOT_FOUND", "No such task (unknown, or finished long enough ago to be forgotten).");
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
    await pool.tasks.wait(task.id, waitS * 1000, gone.signal);
    res.off("close", onClose);
    if (gone.signal.aborted || res.destroyed) return;
  }
  res.setHeader("preference-applied", `wait=${waitS}`);
  if (!isEnded(task) && pool.tasks.released) {
    // The worker is stopping: the task is kept for the next start (or ends with `shutdown`); ask again later.
    res.setHeader("retry-after", String(RETRY_AFTER_SHUTDOWN_S));
    res.setHeader("connection", "close");
  }
  sendTask(res, task);
}

/** A task as GET answers it, with `Server-Timing` once it has ended. */
function sendTask(res: ServerResponse, task: Task): void {
  const timing = serverTiming(task);
  if (timing) res.setHeader("server-timing", timing);
  sendJson(res, 200, taskView(task));
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

/** Who is asking: the operator (the API token, or an open API), or one client of --client-keys-file. */
export type Caller = { kind: "operator" } | { kind: "client"; name: string; maxInFlight?: number | undefined };
const OPERATOR: Caller = { kind: "operator" };

/** A client sees only its own tasks; another's answers as unknown (404), so ids reveal nothing. */
function ownTask(caller: Caller, task: Task): Task {
  if (caller.kind === "client" && task.params.client !== caller.name) throw new WorkerError("ERR_NOT_FOUND", `No task ${task.id}.`);
  return task;
}
