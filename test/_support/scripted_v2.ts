/**
 * A scripted JSON-API provider for startScriptedUpstream's server: createTask, getTaskResult,
 * getBalance and the reports in one dialect's spelling (anti-captcha's and 2captcha's numeric ids
 * and `cost`, CapSolver's UUIDs, its 400/401 refusals and its at-once ImageToTextTask answers), on
 * the test's clock. Answers can be replaced per method, once each, to script every error class.
 */
import type { ServerResponse } from "node:http";
import type { Clock } from "../../src/base/clock.ts";
import type { Dialect } from "../../src/tasks/task_dialects.ts";
import type { Recorded } from "./scripted_upstream.ts";

export interface V2Task {
  id: string;
  task: Record<string, unknown>;
  createdAt: number;
}

export interface ScriptedV2 {
  /** Pass to ScriptedUpstream.answer. */
  handler(req: Recorded, res: ServerResponse): void;
  tasks: Map<string, V2Task>;
  /** Report calls: [method, body]. */
  reports: [string, Record<string, unknown>][];
  /** The next call of `method` answers this (status, JSON body or raw text), once each, in order. */
  next(method: string, status: number, body: Record<string, unknown> | string): void;
  /** The next call of `method` is never answered. */
  hang(method: string): void;
}

export interface ScriptedV2Options {
  key: string;
  /** @default 10_000 */
  solveMs?: number;
  balance?: number;
}

/** What each family solves to, by the task type's name. */
function solutionFor(task: Record<string, unknown>): Record<string, unknown> {
  const type = String(task.type);
  if (type === "ImageToTextTask") return { text: "w9h5k" };
  if (type === "GridTask") return { click: [1, 5, 9] };
  if (/recaptcha/i.test(type)) return { gRecaptchaResponse: "03AGdB-token", userAgent: "UA/sim" };
  if (/turnstile/i.test(type)) return { token: "0.turnstile-token", userAgent: "UA/sim", type: "turnstile" };
  if (type === "AntiCloudflareTask") return { cookies: { cf_clearance: "cf-clearance-value" }, token: "cf-clearance-value", userAgent: "UA/sim" };
  if (/geetest/i.test(type)) {
    return task.version === 4 || task.captchaId !== undefined
      ? { captcha_id: "cid", lot_number: "ln-1", pass_token: "pt-1", gen_time: "1767225600", captcha_output: "co-1" }
      : { challenge: "ch-1", validate: "va-1", seccode: "va-1|jordan" };
  }
  if (type === "CaptchaFoxTask") return { token: "fox-token", userAgent: "UA/sim" };
  if (/friendly/i.test(type)) return { token: "friendly-token" };
  if (/lemin/i.test(type)) return { answer: "0xanswer", challenge_id: "challenge-uuid" };
  return { token: "token" };
}

export function scriptedV2(dialect: Dialect, clock: Clock, o: ScriptedV2Options): ScriptedV2 {
  const tasks = new Map<string, V2Task>();
  const reports: [string, Record<string, unknown>][] = [];
  const scripted = new Map<string, (({ status: number; body: Record<string, unknown> | string }) | "hang")[]>();
  let seq = 70_000;
  const capsolver = dialect === "capsolver";
  const send = (res: ServerResponse, status: number, body: Record<string, unknown> | string) => {
    res.writeHead(status, { "content-type": typeof body === "string" ? "text/plain" : "application/json" });
    res.end(typeof body === "string" ? body : JSON.stringify(body));
  };
  /** A refusal as the dialect sends it: CapSolver with HTTP 400 (401 for a key), the others with 200. */
  const refuse = (res: ServerResponse, code: string, description: string, status = capsolver ? 400 : 200) =>
    send(res, status, { errorId: capsolver ? 1 : 16, errorCode: code, errorDescription: description });
  return {
    tasks,
    reports,
    next: (method, status, body) => void scripted.set(method, [...(scripted.get(method) ?? []), { status, body }]),
    hang: (method) => void scripted.set(method, [...(scripted.get(method) ?? []), "hang"]),
    handler(req, res) {
      const method = req.url.replace(/^\//, "");
      const queued = scripted.get(method)?.shift();
      if (queued === "hang") return;
      if (queued) return send(res, queued.status, queued.body);
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(req.body) as Record<string, unknown>;
      } catch {
        return send(res, 400, "not json");
      }
      // A service that echoes the key it refuses: the client must redact it.
      if (body.clientKey !== o.key) return refuse(res, capsolver ? "ERROR_KEY_DENIED_ACCESS" : "ERROR_KEY_DOES_NOT_EXIST", `no such key ${String(body.clientKey)}`, capsolver ? 401 : 200);
      const id = String(body.taskId);
      switch (method) {
        case "createTask": {
          const task = body.task as Record<string, unknown>;
          const taskId = capsolver ? `5f0a${(seq++).toString(16)}-1c2d-4e5f-8a9b-0c1d2e3f4a5b` : seq++;
          tasks.set(String(taskId), { id: String(taskId), task, createdAt: clock.now() });
          // CapSolver answers an ImageToTextTask in createTask itself.
          if (capsolver && task.type === "ImageToTextTask") return send(res, 200, { errorId: 0, status: "ready", solution: solutionFor(task), taskId });
          return send(res, 200, { errorId: 0, taskId });
        }
        case "getTaskResult": {
          const t = tasks.get(id);
          if (!t) return refuse(res, capsolver ? "ERROR_TASKID_INVALID" : "ERROR_NO_SUCH_CAPCHA_ID", "no such task");
          if (clock.now() - t.createdAt < (o.solveMs ?? 10_000)) return send(res, 200, { errorId: 0, status: capsolver ? "idle" : "processing" });
          const cost = dialect === "2captcha" || dialect === "anticaptcha" ? { cost: "0.00299" } : {};
          return send(res, 200, { errorId: 0, status: "ready", solution: solutionFor(t.task), ...cost, ip: "203.0.113.7", createTime: 1, endTime: 2, solveCount: 1 });
        }
        case "getBalance":
          return send(res, 200, { errorId: 0, balance: o.balance ?? 12.5 });
        case "reportIncorrectImageCaptcha":
        case "reportIncorrectRecaptcha":
        case "reportCorrectRecaptcha":
        case "reportIncorrect":
        case "reportCorrect":
        case "feedbackTask":
          reports.push([method, body]);
          return send(res, 200, capsolver ? { errorId: 0, message: "ok" } : { errorId: 0, status: "success" });
        default:
          return send(res, 404, "no such method");
      }
    },
  };
}
