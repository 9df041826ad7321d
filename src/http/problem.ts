/**
 * Errors become HTTP only here: each code's HTTP form (status, title, headers) as the registry
 * gives it, and RFC 9457 problem details with a stable `code` and, for bad input, `field`.
 */
import type { ServerResponse } from "node:http";
import { WORKER_CODES, type HttpForm as RegistryHttpForm } from "../base/error_registry.ts";
import { WorkerError, type WorkerErrorCode } from "../base/errors.ts";
import { lingerBeforeClose } from "./linger.ts";

/** A code's HTTP form as headers: the registry's data (error_registry.ts) rendered for one error. */
export interface HttpForm {
  status: number;
  title: string;
  /** Headers the answer needs beyond the problem's own (RFC 9110 §10.2.3 `Retry-After`, §11.6.1 `WWW-Authenticate`, §10.2.1 `Allow`). */
  headers?: (err: WorkerError) => Record<string, string>;
}

function httpForm(row: RegistryHttpForm): HttpForm {
  const { status, title, retryAfterS, close, allow, bearerChallenge } = row;
  if (retryAfterS === undefined && !close && !allow && !bearerChallenge) return { status, title };
  return {
    status,
    title,
    headers: (err) => {
      const h: Record<string, string> = {};
      // "data": the error says when (a refusal that never ends has none).
      const after = retryAfterS === "data" ? err.data.retryAfterS : retryAfterS;
      if (after !== undefined) h["retry-after"] = String(after);
      if (allow) h.allow = String(err.data.allow ?? "");
      if (bearerChallenge) h["www-authenticate"] = 'Bearer realm="captcha-worker"';
      if (close) h.connection = "close";
      return h;
    },
  };
}

/** Every worker code's HTTP form, from the registry (hono's HTTPException.getResponse idea). */
export const HTTP_FORMS: Readonly<Record<WorkerErrorCode, HttpForm>> = Object.fromEntries(
  Object.entries(WORKER_CODES).map(([code, row]) => [code, httpForm(row.http)]),
) as Record<WorkerErrorCode, HttpForm>;

export interface Problem {
  status: number;
  title: string;
  code: WorkerErrorCode;
  detail: string;
  field?: string;
  headers: Record<string, string>;
}

/** Turns any thrown value into a problem; anything but a WorkerError becomes a 500 without internals. */
export function problemFromError(err: unknown): Problem {
  const e = err instanceof WorkerError ? err : new WorkerError("ERR_INTERNAL");
  const form = HTTP_FORMS[e.code];
  const p: Problem = { status: form.status, title: form.title, code: e.code, detail: e.message, headers: form.headers?.(e) ?? {} };
  if (e.field !== undefined) p.field = e.field;
  return p;
}

/**
 * Writes `application/problem+json` (RFC 9457) with `type`, `title`, `status`, `detail`, `code`,
 * `field`. The status line's reason phrase is the title (RFC 9110's: node:http would say "Payload
 * Too Large" for 413), so one phrase is on the wire.
 */
export function sendProblem(res: ServerResponse, err: unknown): void {
  const problem = problemFromError(err);
  const text = problemJson(problem);
  if (res.headersSent) return void res.destroy();
  const closing = (problem.headers as Record<string, string>).connection === "close" || res.getHeader("connection") === "close";
  if (closing) lingerBeforeClose(res);
  res.writeHead(problem.status, problem.title, {
    "content-type": "application/problem+json",
    "content-length": Buffer.byteLength(text),
    "cache-control": "no-store",
    ...problem.headers,
  });
  res.end(res.req.method === "HEAD" ? undefined : text);
}

/**
 * A whole HTTP/1.1 problem answer for a connection the HTTP parser gave up on (bad request line,
 * headers too large, request timeout), where no ServerResponse exists to write it. `head`: the
 * request was HEAD, so the answer carries no body (RFC 9110 §9.3.2).
 */
export function rawProblemResponse(err: WorkerError, head = false): string {
  const problem = problemFromError(err);
  const text = problemJson(problem);
  const headers: Record<string, string | number> = {
    "content-type": "application/problem+json",
    "content-length": Buffer.byteLength(text),
    "cache-control": "no-store",
    ...problem.headers,
    connection: "close",
  };
  const lines = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`);
  return `HTTP/1.1 ${problem.status} ${problem.title}\r\n${lines.join("")}\r\n${head ? "" : text}`;
}

function problemJson(problem: Problem): string {
  const body: Record<string, unknown> = {
    type: `https://captcha-worker.invalid/problems/${problem.code.toLowerCase().replaceAll("_", "-")}`,
    title: problem.title,
    status: problem.status,
    detail: problem.detail,
    code: problem.code,
  };
  if (problem.field !== undefined) body.field = problem.field;
  return JSON.stringify(body);
}
