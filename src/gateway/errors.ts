/**
 * 2captcha's error codes as the gateway answers them, from the registry (error_registry.ts): the
 * string of the legacy API and the errorId/errorCode/errorDescription of API v2.
 */
import { gatewayFailureCode, PROTOCOL_CODES, type ProtocolCode } from "../base/error_registry.ts";

export type GatewayCode = ProtocolCode;

/** A refusal in 2captcha's terms; both APIs render it (legacy: the code string; v2: errorId and code). */
export class GatewayError extends Error {
  override readonly name = "GatewayError";
  constructor(readonly code: GatewayCode) {
    super(PROTOCOL_CODES[code].meaning);
  }
}

export const errorIdOf = (code: GatewayCode): number => PROTOCOL_CODES[code].errorId;

/** API v2's body for a refusal: its errorId, its v2 spelling and its description. */
export function v2Error(code: GatewayCode): { errorId: number; errorCode: string; errorDescription: string } {
  const row = PROTOCOL_CODES[code];
  const spelled = (row.v2 ?? code) as GatewayCode;
  return { errorId: PROTOCOL_CODES[spelled]?.errorId ?? row.errorId, errorCode: spelled, errorDescription: PROTOCOL_CODES[spelled]?.meaning ?? row.meaning };
}

/** How a failed task reads to a 2captcha client (the registry says which codes pass as they are). */
export const taskFailureCode = gatewayFailureCode;
