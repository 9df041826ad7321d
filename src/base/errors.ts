/**
 * One error class with a stable `code`, as Node's lib/internal/errors.js: the message may change,
 * the code should not. Every code is registered once, in ERROR_CODES, with its message template
 * where it has a fixed one; its HTTP form (status and headers) lives at the edge, in http/problem.ts.
 */

/**
 * The only list of codes. A template's `{name}` is filled from the error's `data`; `undefined`:
 * the code has no fixed wording, every thrower says what failed.
 */
export const ERROR_CODES = {
  ERR_USAGE: undefined,
  ERR_CONFIG_INVALID: undefined,
  ERR_NO_API_KEY: undefined,
  ERR_UPSTREAM_CODE: "The upstream refused: {code}.",
  ERR_CHECK_TIMEOUT: "No answer within {timeoutMs}ms.",
  ERR_CHECK_FAILED: undefined,
  ERR_BAD_REQUEST: undefined,
  ERR_BODY_TOO_LARGE: "The body is over the limit of {limitBytes} bytes.",
  ERR_HEADERS_TOO_LARGE: "The request line and headers are over the limit.",
  ERR_UNSUPPORTED_MEDIA_TYPE: undefined,
  ERR_EXPECTATION_FAILED: "Only Expect: 100-continue is understood.",
  ERR_UNAUTHORIZED: "The task API needs Authorization: Bearer <token>.",
  ERR_NOT_FOUND: "No resource at {path}.",
  ERR_METHOD_NOT_ALLOWED: "{method} is not allowed here; allowed: {allow}.",
  ERR_QUEUE_FULL: "The queue is full ({queueMax} tasks waiting).",
  ERR_CLIENT_LIMIT: "Client {client} holds {limit} open tasks, its max_in_flight; ask again when one ends.",
  ERR_BUSY: "Too many request bodies are being received at once; try again shortly.",
  ERR_NOT_READY: undefined,
  ERR_DRAINING: "The worker is draining and takes no new tasks.",
  ERR_OWNER_UNAVAILABLE: "The task's owner (node {node}) does not answer; ask again.",
  ERR_PEER_UNAUTHORIZED: "A forwarded request needs the peers' token (--peer-token-file).",
  ERR_CONFLICT: undefined,
  ERR_TIMEOUT: "The request did not arrive in time.",
  ERR_STATE_DIR: undefined,
  ERR_STATE_DIR_BUSY: undefined,
  ERR_LISTEN: "Cannot listen{purpose} on {address}: {reason}{hint}",
  ERR_INTERNAL: "The request failed inside the worker.",
} as const satisfies Record<string, string | undefined>;

export type WorkerErrorCode = keyof typeof ERROR_CODES;

/** Values a template names, and what the edge needs to answer (e.g. `allow` for a 405). */
export type ErrorData = Readonly<Record<string, string | number>>;

export interface WorkerErrorOptions {
  cause?: unknown;
  /** For input errors: the field, flag or variable at fault. */
  field?: string;
  data?: ErrorData;
}

export class WorkerError extends Error {
  override readonly name = "WorkerError";
  readonly code: WorkerErrorCode;
  /** For input errors: the field, flag or variable at fault. */
  readonly field: string | undefined;
  readonly data: ErrorData;

  /** `message` undefined: the code's template filled from `options.data`. */
  constructor(code: WorkerErrorCode, message?: string, options: WorkerErrorOptions = {}) {
    const data = options.data ?? {};
    super(message ?? formatErrorMessage(code, data), options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.field = options.field;
    this.data = data;
  }
}

/** The code's template with `{name}` filled from `data` (a name without a value stays as written). */
export function formatErrorMessage(code: WorkerErrorCode, data: ErrorData = {}): string {
  const template: string | undefined = ERROR_CODES[code];
  if (template === undefined) return code;
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => (Object.hasOwn(data, name) ? String(data[name]) : whole));
}

/** True when `err` is a WorkerError, optionally with the given code. */
export function isWorkerError(err: unknown, code?: WorkerErrorCode): err is WorkerError {
  return err instanceof WorkerError && (code === undefined || err.code === code);
}

/** A one-line description of any thrown value, for logs and problem details. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
