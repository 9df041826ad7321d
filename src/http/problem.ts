/**
 * Errors become HTTP only here: one table from each code to its whole HTTP form (status, title,
 * headers), and RFC 9457 problem details with a stable `code` and, for bad input, `field`.
 */
import type { ServerResponse } from "node:http";
import { WorkerError, type WorkerErrorCode } from "../base/errors.ts";
import { lingerBeforeClose } from "../base/linger.ts";

/** How long a client should wait before trying again, by why it was refused. */
const RETRY_AFTER_QUEUE_FULL_S = 5;
const RETRY_AFTER_UNAVAILABLE_S = 10;
const RETRY_AFTER_BUSY_S = 1;

export interface HttpForm {
  status: number;
  title: string;
  /** Headers the answer needs beyond the problem's own (RFC 9110 §10.2.3 `Retry-After`, §11.6.1 `WWW-Authenticate`, §10.2.1 `Allow`). */
  headers?: (err: WorkerError) => Record<string, string>;
}

const retryAfter = (seconds: number) => () => ({ "retry-after": String(seconds) });
const INTERNAL: HttpForm = { status: 500, title: "Internal Server Error" };
const UNAVAILABLE: HttpForm = { status: 503, title: "Service Unavailable", headers: retryAfter(RETRY_AFTER_UNAVAILABLE_S) };

/**
 * Every code's HTTP form (hono's HTTPException.getResponse idea). Codes that never reach a client
 * (usage, configuration, listen, checks) answer as the 500 they would be if one did.
 */
export const HTTP_FORMS: Readonly<Record<WorkerErrorCode, HttpForm>> = {
  ERR_USAGE: INTERNAL,
  ERR_CONFIG_INVALID: INTERNAL,
  ERR_NO_API_KEY: INTERNAL,
  ERR_CHECK_TIMEOUT: INTERNAL,
  ERR_CHECK_FAILED: INTERNAL,
  ERR_LISTEN: INTERNAL,
  ERR_INTERNAL: INTERNAL,
  ERR_BAD_REQUEST: { status: 400, title: "Bad Request" },
  ERR_UNAUTHORIZED: { status: 401, title: "Unauthorized", headers: () => ({ "www-authenticate": 'Bearer realm="captcha-worker"' }) },
  ERR_NOT_FOUND: { status: 404, title: "Not Found" },
  // A forwarded request (SPEC §12) without the peers' token: refused before any task is read.
  ERR_PEER_UNAUTHORIZED: { status: 403, title: "Forbidden", headers: () => ({ connection: "close" }) },
  ERR_METHOD_NOT_ALLOWED: { status: 405, title: "Method Not Allowed", headers: (err) => ({ allow: String(err.data.allow ?? "") }) },
  ERR_TIMEOUT: { status: 408, title: "Request Timeout" },
  ERR_CONFLICT: { status: 409, title: "Conflict" },
  // A body refused part-way is not read to its end: close instead of draining megabytes.
  ERR_BODY_TOO_LARGE: { status: 413, title: "Content Too Large", headers: () => ({ connection: "close" }) },
  ERR_UNSUPPORTED_MEDIA_TYPE: { status: 415, title: "Unsupported Media Type" },
  // The body the client held back is not read: close rather than parse it as the next request.
  ERR_EXPECTATION_FAILED: { status: 417, title: "Expectation Failed", headers: () => ({ connection: "close" }) },
  ERR_QUEUE_FULL: { status: 429, title: "Too Many Requests", headers: retryAfter(RETRY_AFTER_QUEUE_FULL_S) },
  ERR_CLIENT_LIMIT: { status: 429, title: "Too Many Requests", headers: retryAfter(RETRY_AFTER_QUEUE_FULL_S) },
  ERR_HEADERS_TOO_LARGE: { status: 431, title: "Request Header Fields Too Large" },
  ERR_UPSTREAM_CODE: { status: 502, title: "Bad Gateway" },
  ERR_NOT_READY: UNAVAILABLE,
  ERR_DRAINING: UNAVAILABLE,
  // A peer owns the task and does not answer (SPEC §12): poll again, the task may still end.
  ERR_OWNER_UNAVAILABLE: { status: 503, title: "Service Unavailable", headers: (err) => ({ "retry-after": String(err.data.retryAfterS ?? RETRY_AFTER_UNAVAILABLE_S) }) },
  // The body is not read: close rather than drain it.
  ERR_BUSY: { status: 503, title: "Service Unavailable", headers: () => ({ "retry-after": String(RETRY_AFTER_BUSY_S), connection: "close" }) },
  ERR_STATE_DIR: UNAVAILABLE,
  ERR_STATE_DIR_BUSY: UNAVAILABLE,
};

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
