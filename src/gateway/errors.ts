/**
 * 2captcha's error codes as the gateway answers them, from the registry (error_registry.ts): the
 * string of the legacy API and the errorId/errorCode/errorDescription of API v2.
 */
import { gatewayFailureCode, PROTOCOL_CODES, WORKER_CODES, type ProtocolCode } from "../base/error_registry.ts";
import { isWorkerError } from "../base/errors.ts";
import type { Logger } from "../base/log.ts";
import { describeRefusal, type TaskRefusal } from "../tasks/task_input.ts";

export type GatewayCode = ProtocolCode;

/** A refusal in 2captcha's terms; both APIs render it (legacy: the code string; v2: errorId and code). */
export class GatewayError extends Error {
  override readonly name = "GatewayError";
  /** `detail`: what was wrong, naming the field (2captcha's json=1 `error_text`); the code's meaning without one. */
  constructor(readonly code: GatewayCode, readonly detail?: string) {
    super(detail ?? PROTOCOL_CODES[code].meaning);
  }
}

export const errorIdOf = (code: GatewayCode): number => PROTOCOL_CODES[code].errorId;

/** API v2's body for a refusal: its errorId, its v2 spelling and its description. */
export function v2Error(code: GatewayCode, detail?: string): { errorId: number; errorCode: string; errorDescription: string } {
  const row = PROTOCOL_CODES[code];
  const spelled = (row.v2 ?? code) as GatewayCode;
  return { errorId: PROTOCOL_CODES[spelled]?.errorId ?? row.errorId, errorCode: spelled, errorDescription: detail ?? PROTOCOL_CODES[spelled]?.meaning ?? row.meaning };
}

/** A refused task in 2captcha's terms: its code, and the sentence naming the field as this API named it. */
export function refusalError(r: TaskRefusal): GatewayError {
  return new GatewayError(r.code, describeRefusal(r));
}

/** How a failed task reads to a 2captcha client (the registry says which codes pass as they are). */
export const taskFailureCode = gatewayFailureCode;

/**
 * What a gateway route threw, as a 2captcha answer: a GatewayError as it is; a worker error (a body
 * too large, the body budget full, a refusal at intake) as the registry reads it, closing the
 * connection where its HTTP form does; anything else is unexpected (logged) and reads as no slot.
 */
export function gatewayAnswerOf(err: unknown, log: Logger, path: string | undefined): { code: GatewayCode; detail?: string | undefined; close: boolean } {
  if (err instanceof GatewayError) return { code: err.code, detail: err.detail, close: false };
  if (isWorkerError(err)) {
    const row = WORKER_CODES[err.code];
    if (row.http.status >= 500 && row.http.status !== 503) log.error("gateway request failed", { err, path: path?.slice(0, 200) });
    return { code: row.gateway, close: row.http.close === true };
  }
  log.error("gateway request failed", { err, path: path?.slice(0, 200) });
  return { code: "ERROR_NO_SLOT_AVAILABLE", close: false };
}
