/**
 * The task API (SPEC §5): submit, read with an optional wait (RFC 7240 `Prefer: wait=N` or
 * `?wait=N`), report. A waiting client that goes away drops only its wait, never the task.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { WorkerError } from "../base/errors.ts";
import type { SolverPool } from "../solver/pool.ts";
import { isEnded, type Task } from "../tasks/task.ts";
import { parseTaskInput } from "./task_input.ts";
import { DEFAULT_BODY_BUDGET, readJsonBody } from "./body.ts";
import { ByteBudget } from "../base/byte_budget.ts";
import { sendJson } from "./respond.ts";
import { serverTiming, taskView } from "./task_json.ts";
import type { Router } from "./router.ts";

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
  clientKeys?: { find(key: string | undefined): unknown } | undefined;
  /** @default 2 MiB */
  bodyLimitBytes?: number;
  /** Bytes of task bodies read at once, all connections together. @default 64 MiB */
  bodyBudgetBytes?: number;
}

export const MAX_WAIT_S = 120;
/** What a client waiting on a task kept across a restart is told at shutdown. */
const RETRY_AFTER_SHUTDOWN_S = 10;

export function registerTaskRoutes(router: Router, opts: TaskRoutesOptions): void {
  const authorized = bearerChecker(opts.apiToken, opts.clientKeys);
  const bodies = new ByteBudget(opts.bodyBudgetBytes ?? DEFAULT_BODY_BUDGET);
  const guard = (req: IncomingMessage) => {
    if (!authorized(req.headers.authorization)) {
      throw new WorkerError("ERR_UNAUTHORIZED", undefined, { field: "authorization" });
    }
  };

  router.on("POST", "/v1/tasks", async (req, res, _params, url) => {
    guard(req);
    const wait = waitSeconds(req, url);
    const params = parseTaskInput(await readJsonBody(req, opts.bodyLimitBytes, bodies));
    const refusal = opts.admission();
    if (refusal) throw new WorkerError(refusal.code, refusal.detail);
    const task = await opts.pool.accept(params.type, params);
    res.setHeader("location", `/v1/tasks/${task.id}`);
    if (wait === undefined) return sendJson(res, 202, { id: task.id, status: task.status });
    await answerAfterWait(req, res, opts.pool, task, wait);
  });

  router.on("GET", "/v1/tasks/:id", async (req, res, params, url) => {
    guard(req);
    const wait = waitSeconds(req, url);
    const task = find(opts.pool, params.id!);
    if (wait === undefined) return sendTask(res, task);
    await answerAfterWait(req, res, opts.pool, task, wait);
  });

  router.on("POST", "/v1/tasks/:id/report", async (req, res, params) => {
    guard(req);
    const body = await readJsonBody(req, 4096);
    const correct = typeof body === "object" && body !== null ? (body as Record<string, unknown>).correct : undefined;
    if (typeof correct !== "boolean") throw new WorkerError("ERR_BAD_REQUEST", "Invalid correct: expected true or false.", { field: "correct" });
    const task = find(opts.pool, params.id!);
    const outcome = await opts.pool.report(task, correct);
    if (outcome.kind !== "ok") {
      const code = "code" in outcome ? outcome.code : outcome.kind;
      throw new WorkerError("ERR_UPSTREAM_CODE", undefined, { data: { code } });
    }
    sendJson(res, 200, { id: task.id, reported: task.reported });
  });
}

function find(pool: SolverPool, id: string): Task {
  const task = id.length <= 64 ? pool.tasks.get(id) : undefined;
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

/** `?wait=N` or `Prefer: wait=N` (RFC 7240), seconds, 0 to 120; undefined when neither is given. */
export function waitSeconds(req: IncomingMessage, url: URL): number | undefined {
  const fromQuery = url.searchParams.get("wait");
  const fromPrefer = /(?:^|[,;\s])wait\s*=\s*"?([^",;\s]*)/i.exec(String(req.headers.prefer ?? ""))?.[1];
  const raw = fromQuery ?? fromPrefer;
  if (raw === undefined || raw === null) return undefined;
  if (!/^\d{1,6}$/.test(raw)) {
    throw new WorkerError("ERR_BAD_REQUEST", `Invalid wait: expected whole seconds from 0 to ${MAX_WAIT_S}.`, { field: "wait" });
  }
  // RFC 7240 lets a server honour less than asked; a query value over the cap is the caller's mistake.
  const n = Number(raw);
  if (fromQuery !== null && n > MAX_WAIT_S) {
    throw new WorkerError("ERR_BAD_REQUEST", `Invalid wait: expected whole seconds from 0 to ${MAX_WAIT_S}.`, { field: "wait" });
  }
  return Math.min(n, MAX_WAIT_S);
}

/**
 * Compares tokens in constant time (both sides hashed first, so lengths leak nothing either). A
 * client key from --client-keys-file is a token too; with neither, the API is open.
 */
export function bearerChecker(token: string | undefined, clientKeys?: { find(key: string | undefined): unknown }): (header: string | undefined) => boolean {
  if (token === undefined && clientKeys === undefined) return () => true;
  const { createHash, timingSafeEqual } = process.getBuiltinModule("node:crypto"); // only with a token: node:crypto is not loaded at start
  const expected = token === undefined ? undefined : createHash("sha256").update(token).digest();
  return (header) => {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
    const given = createHash("sha256").update(m?.[1] ?? "").digest();
    const byToken = expected !== undefined && timingSafeEqual(given, expected);
    const byClient = clientKeys !== undefined && clientKeys.find(m?.[1]) !== undefined;
    return (byToken || byClient) && m !== null;
  };
}
