/**
 * The createTask protocol (docs/simulator.md) in anti-captcha's and CapSolver's dialects: JSON POSTs
 * of `createTask`, `getTaskResult`, `getBalance` and the dialect's reports below the base URL, the
 * key only in the body (`clientKey`). Tasks are read in the dialect's names (sim_v2_tasks.ts) and
 * answered in its forms (sim_v2_answers.ts); accounts, solve times, answers, billing, the thread
 * cap and bans are the simulator's own, shared with in.php (sim_tasks.ts, sim_access.ts). Each
 * method counts and faults under the in.php role it plays (createTask as `in.php`, getTaskResult as
 * `res.php:get`, ...), as the worker's client names them in its metrics.
 */
import type { ServerResponse } from "node:http";
import { PROTOCOL_CODES, isProtocolCode } from "../base/error_registry.ts";
import { catalogueEntry, type TaskType } from "../tasks/task_catalogue.ts";
import type { Dialect } from "../tasks/task_dialects.ts";
import { BALANCE, POLL, REPORT, SUBMIT, type Endpoint } from "../upstream/endpoints.ts";
import { DEFAULT_USER_AGENT } from "./sim_answers.ts";
import { cannotPay, recordedValue, type SimContext, type SimProtocol } from "./sim_protocol.ts";
import { sendJson, sendRefusal, solutionObject } from "./sim_v2_answers.ts";
import { readDialectTask, type V2Refused } from "./sim_v2_tasks.ts";
import type { SimTask } from "./sim_tasks.ts";

/** Each dialect's methods and the role each plays: anti-captcha's reports (anti-captcha.com/apidoc/methods), CapSolver's feedbackTask. */
const METHODS: Readonly<Record<"anticaptcha" | "capsolver", Readonly<Record<string, Endpoint>>>> = {
  anticaptcha: {
    createTask: SUBMIT, getTaskResult: POLL, getBalance: BALANCE,
    reportIncorrectImageCaptcha: REPORT, reportIncorrectRecaptcha: REPORT, reportCorrectRecaptcha: REPORT, reportIncorrectHcaptcha: REPORT,
  },
  capsolver: { createTask: SUBMIT, getTaskResult: POLL, getBalance: BALANCE, feedbackTask: REPORT },
};

/** What a poll of an id the service does not hold answers. */
const NO_SUCH_TASK: Readonly<Record<"anticaptcha" | "capsolver", string>> = { anticaptcha: "ERROR_NO_SUCH_CAPCHA_ID", capsolver: "ERROR_TASKID_INVALID" };

export function createV2Protocol(ctx: SimContext): SimProtocol {
  const { clock, tasks, access, spec } = ctx;
  const dialect = spec.name === "capsolver" ? "capsolver" : "anticaptcha";
  const methods = METHODS[dialect];
  const refuse = (res: ServerResponse, code: string, description?: string, extra?: Record<string, unknown>) => sendRefusal(res, dialect, code, description, extra);
  /** anti-captcha's ids are numbers (its client checks `taskId > 0`); CapSolver's UUIDs. */
  const wireId = (t: SimTask) => (spec.ids === "number" ? Number(t.id) : t.id);

  function createTask(res: ServerResponse, key: string, body: Record<string, unknown>): void {
    const read = readDialectTask(body.task, dialect, DEFAULT_USER_AGENT);
    if (!read.ok) return refuseTask(res, read);
    const entry = catalogueEntry(read.type)!;
    const off = ctx.unsupported();
    if ([read.type, entry.upstream.method].some((m) => off.methods.includes(m))) return refuseUnsupported(res, String((body.task as Record<string, unknown>).type), off.code);
    if (cannotPay(ctx, read.kind)) return refuse(res, "ERROR_ZERO_BALANCE");
    if (tasks.busy(key) >= tasks.threads) {
      ctx.count("capacityRefusals");
      return refuse(res, ctx.capacityCode());
    }
    // CapSolver answers recognition tasks in createTask itself (docs.capsolver.com, ImageToTextTask: "synchronous").
    const atOnce = dialect === "capsolver" && read.type === "image";
    const task = tasks.create(key, read.kind, read.shape, read.userAgent, atOnce);
    task.type = read.type;
    ctx.count("submitted");
    if (!atOnce) return sendJson(res, 200, { errorId: 0, taskId: wireId(task), ...(dialect === "capsolver" ? { status: "idle" } : {}) });
    if (task.unsolvable) return unsolvable(res, task);
    tasks.deliver(task);
    sendJson(res, 200, { errorId: 0, status: "ready", solution: solutionObject(read.type, task.answer, task.userAgent, dialect), taskId: task.id });
  }

  /**
   * A type not taken: anti-captcha's ERROR_TASK_NOT_SUPPORTED; CapSolver's ERROR_INVALID_TASK_DATA
   * with its words (capsolver-python#15). `code`: the control API's, a code or words in its place.
   */
  function refuseUnsupported(res: ServerResponse, typeName: string, code = spec.unsupportedCode): void {
    ctx.count("unsupportedRefusals");
    if (!/^[A-Z0-9_]+$/.test(code)) return refuse(res, spec.unsupportedCode, code);
    const words = code === spec.unsupportedCode && dialect === "capsolver" ? `unsupported captcha type, please check if the type is correct: ${typeName.slice(0, 64)}` : undefined;
    refuse(res, code, words);
  }

  /** A type the dialect does not name, or values it refuses. */
  function refuseTask(res: ServerResponse, r: V2Refused): void {
    if (r.unsupported) return refuseUnsupported(res, r.typeName);
    // anti-captcha spells some codes its own way (the registry's v2 column); CapSolver has one code for bad task data.
    if (dialect === "capsolver") return refuse(res, r.code === "ERROR_ZERO_CAPTCHA_FILESIZE" || r.code === "ERROR_TOO_BIG_CAPTCHA_FILESIZE" ? r.code : "ERROR_INVALID_TASK_DATA", r.description);
    refuse(res, isProtocolCode(r.code) ? (PROTOCOL_CODES[r.code].v2 ?? r.code) : r.code, r.description);
  }

  function unsolvable(res: ServerResponse, task: SimTask): void {
    if (spec.chargesUnsolvable) tasks.charge(task);
    refuse(res, "ERROR_CAPTCHA_UNSOLVABLE", undefined, dialect === "capsolver" ? { status: "failed" } : {});
  }

  function getTaskResult(res: ServerResponse, key: string, body: Record<string, unknown>, from: string): void {
    const task = tasks.get(idOf(body.taskId), key);
    if (!task || task.type === undefined) return refuse(res, NO_SUCH_TASK[dialect]);
    const now = clock.now();
    if (now < task.readyAt) {
      // CapSolver: idle while waiting to be scheduled, then processing (its getTaskResult page).
      const idle = dialect === "capsolver" && now < task.createdAt + (task.readyAt - task.createdAt) / 5;
      return sendJson(res, 200, { errorId: 0, status: idle ? "idle" : "processing", ...(dialect === "capsolver" ? { taskId: task.id } : {}) });
    }
    if (task.unsolvable) return unsolvable(res, task);
    tasks.deliver(task);
    const solution = solutionObject(task.type as TaskType, task.answer, task.userAgent, dialect);
    if (dialect === "capsolver") return sendJson(res, 200, { errorId: 0, taskId: task.id, status: "ready", solution });
    // anti-captcha's getTaskResult: cost in USD as decimal text, the address that created it, Unix times, workers tried.
    sendJson(res, 200, {
      errorId: 0, status: "ready", solution, cost: tasks.prices[task.kind].toFixed(6), ip: from,
      createTime: Math.floor(task.createdAt / 1000), endTime: Math.floor(task.readyAt / 1000), solveCount: 1,
    });
  }

  function report(res: ServerResponse, key: string, body: Record<string, unknown>): void {
    const task = tasks.get(idOf(body.taskId), key);
    if (!task || !task.delivered) return refuse(res, NO_SUCH_TASK[dialect]);
    task.reported = true;
    sendJson(res, 200, dialect === "capsolver" ? { errorId: 0, message: "ok" } : { errorId: 0, status: "success" });
  }

  function answer(res: ServerResponse, method: string, body: Record<string, unknown>, from: string): void {
    const key = typeof body.clientKey === "string" ? body.clientKey : "";
    const refused = access.check(from, key);
    if (refused === "banned") ctx.count("bannedRequests");
    if (refused) return refuse(res, refused === "banned" ? spec.keys.banned! : spec.keys[refused]);
    switch (methods[method]) {
      case SUBMIT:
        return createTask(res, key, body);
      case POLL:
        return getTaskResult(res, key, body, from);
      case BALANCE:
        return sendJson(res, 200, { errorId: 0, balance: Math.round(tasks.balanceUsd * 1e6) / 1e6, ...(dialect === "capsolver" ? { packages: [] } : {}) });
      default:
        return report(res, key, body);
    }
  }

  return {
    read(url, _contentType, raw) {
      const method = url.pathname.slice(1);
      if (!Object.hasOwn(methods, method)) return undefined;
      const body = objectOf(raw);
      const task = methods[method] === SUBMIT && typeof body.task === "object" && body.task !== null ? (body.task as Record<string, unknown>) : undefined;
      return {
        selector: methods[method]!,
        keyInQuery: url.searchParams.has("clientKey") || url.searchParams.has("key"),
        ...(methods[method] === SUBMIT ? { submitted: flatten(task ?? {}) } : {}),
        answer: (res, from) => answer(res, method, body, from),
        refuse: (res, code) => refuse(res, code),
      };
    },
  };
}

/** A taskId as the service keys it: a number or a UUID, as text. */
function idOf(v: unknown): string {
  return typeof v === "number" || typeof v === "string" ? String(v) : "";
}

/** The JSON body, or an empty object for anything else (then refused for its missing key). */
function objectOf(raw: Buffer): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(raw.toString("utf8"));
    return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** A task object as /__sim/submits records it: dotted names for nested values (`metadata.cdata`), every value as text. */
function flatten(obj: Record<string, unknown>, prefix = "", out: Record<string, string> = {}): Record<string, string> {
  for (const [k, v] of Object.entries(obj)) {
    if (typeof v === "object" && v !== null && !Array.isArray(v)) flatten(v as Record<string, unknown>, `${prefix}${k}.`, out);
    else out[`${prefix}${k}`] = recordedValue(typeof v === "string" ? v : JSON.stringify(v));
  }
  return out;
}
