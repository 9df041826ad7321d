/** Errors become HTTP only here: RFC 9457 problem details with a stable `code` and, for bad input, `field`. */
import type { ServerResponse } from "node:http";
import type { WorkerErrorCode } from "../base/errors.ts";
import { WorkerError } from "../base/errors.ts";

/** One mapping from error code to HTTP status (hono's HTTPException.getResponse idea). */
const STATUS: Partial<Record<WorkerErrorCode, number>> = {
  ERR_BAD_REQUEST: 400,
  ERR_UNAUTHORIZED: 401,
  ERR_NOT_FOUND: 404,
  ERR_METHOD_NOT_ALLOWED: 405,
  ERR_TIMEOUT: 408,
  ERR_CONFLICT: 409,
  ERR_BODY_TOO_LARGE: 413,
  ERR_UNSUPPORTED_MEDIA_TYPE: 415,
  ERR_QUEUE_FULL: 429,
  ERR_HEADERS_TOO_LARGE: 431,
  ERR_NOT_READY: 503,
  ERR_DRAINING: 503,
  ERR_STATE_DIR: 503,
  ERR_UPSTREAM_CODE: 502,
};

const TITLES: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  404: "Not Found",
  405: "Method Not Allowed",
  408: "Request Timeout",
  409: "Conflict",
  413: "Content Too Large",
  415: "Unsupported Media Type",
  429: "Too Many Requests",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Unavailable",
};

export interface Problem {
  status: number;
  code: string;
  detail: string;
  field?: string;
  headers?: Record<string, string>;
}

export function statusForCode(code: string): number {
  return STATUS[code as WorkerErrorCode] ?? 500;
}

/** Turns any thrown value into a problem; unknown errors become a 500 without internals. */
export function problemFromError(err: unknown): Problem {
  if (err instanceof WorkerError) {
    const p: Problem = { status: statusForCode(err.code), code: err.code, detail: err.message };
    if (err.field !== undefined) p.field = err.field;
    return p;
  }
  return { status: 500, code: "ERR_INTERNAL", detail: "The request failed inside the worker." };
}

/** Writes `application/problem+json` (RFC 9457) with `type`, `title`, `status`, `detail`, `code`, `field`. */
export function sendProblem(res: ServerResponse, problem: Problem): void {
  const text = problemJson(problem);
  if (res.headersSent) return void res.destroy();
  res.writeHead(problem.status, {
    "content-type": "application/problem+json",
    "content-length": Buffer.byteLength(text),
    "cache-control": "no-store",
    // A body refused part-way is not read to its end: close instead of draining megabytes.
    ...(problem.status === 413 ? { connection: "close" } : {}),
    ...problem.headers,
  });
  res.end(res.req.method === "HEAD" ? undefined : text);
}

/**
 * A whole HTTP/1.1 problem answer for a connection the HTTP parser gave up on (bad request line,
 * headers too large, request timeout), where no ServerResponse exists to write it. `head`: the
 * request was HEAD, so the answer carries no body (RFC 9110 §9.3.2).
 */
export function rawProblemResponse(code: WorkerErrorCode, detail: string, head = false): string {
  const status = statusForCode(code);
  const text = problemJson({ status, code, detail });
  return `HTTP/1.1 ${status} ${TITLES[status] ?? "Error"}\r\ncontent-type: application/problem+json\r\ncontent-length: ${Buffer.byteLength(text)}\r\ncache-control: no-store\r\nconnection: close\r\n\r\n${head ? "" : text}`;
}

function problemJson(problem: Problem): string {
  const body: Record<string, unknown> = {
    type: `https://captcha-worker.invalid/problems/${problem.code.toLowerCase().replaceAll("_", "-")}`,
    title: TITLES[problem.status] ?? "Error",
    status: problem.status,
    detail: problem.detail,
    code: problem.code,
  };
  if (problem.field !== undefined) body.field = problem.field;
  return JSON.stringify(body);
}
