/** One error class with a stable `code`, as Node's lib/internal/errors.js: the message may change, the code should not. */

export type WorkerErrorCode =
  | "ERR_USAGE"
  | "ERR_CONFIG_INVALID"
  | "ERR_NO_API_KEY"
  | "ERR_UPSTREAM_TIMEOUT"
  | "ERR_UPSTREAM_NETWORK"
  | "ERR_UPSTREAM_HTTP"
  | "ERR_UPSTREAM_BAD_BODY"
  | "ERR_UPSTREAM_CODE"
  | "ERR_CHECK_TIMEOUT"
  | "ERR_CHECK_FAILED"
  | "ERR_BAD_REQUEST"
  | "ERR_BODY_TOO_LARGE"
  | "ERR_HEADERS_TOO_LARGE"
  | "ERR_UNSUPPORTED_MEDIA_TYPE"
  | "ERR_UNAUTHORIZED"
  | "ERR_NOT_FOUND"
  | "ERR_METHOD_NOT_ALLOWED"
  | "ERR_QUEUE_FULL"
  | "ERR_NOT_READY"
  | "ERR_DRAINING"
  | "ERR_CONFLICT"
  | "ERR_TIMEOUT"
  | "ERR_STATE_DIR"
  | "ERR_LISTEN"
  | "ERR_INTERNAL";

export class WorkerError extends Error {
  override readonly name = "WorkerError";
  readonly code: WorkerErrorCode;
  /** For input errors: the field, flag or variable at fault. */
  readonly field: string | undefined;

  constructor(code: WorkerErrorCode, message: string, options: { cause?: unknown; field?: string } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.field = options.field;
  }
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
