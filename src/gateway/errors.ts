/**
 * 2captcha's error codes as the gateway answers them, from the registry (error_registry.ts): the
 * string of the legacy API and the errorId/errorCode/errorDescription of API v2.
 */
import { gatewayFailureCode, PROTOCOL_CODES, type ProtocolCode } from "../base/error_registry.ts";
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
