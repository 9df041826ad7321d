/**
 * One error class with a stable `code`, as Node's lib/internal/errors.js: the message may change,
 * the code should not. Every code is registered once, in error_registry.ts, with its message
 * template where it has a fixed one and the form each API gives it (rendered at the edges).
 */
import { WORKER_CODES, type WorkerErrorCode } from "./error_registry.ts";

/**
 * The worker's codes with their message templates, from the one registry (error_registry.ts): a
 * template's `{name}` is filled from the error's `data`; `undefined`: the code has no fixed wording,
 * every thrower says what failed.
 */
export const ERROR_CODES: Readonly<Record<WorkerErrorCode, string | undefined>> = Object.fromEntries(
  Object.entries(WORKER_CODES).map(([code, row]) => [code, row.template]),
) as Record<WorkerErrorCode, string | undefined>;

export type { WorkerErrorCode };

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
