/**
 * 2captcha's error codes as the gateway answers them: the string of the legacy API and the
 * errorId/errorDescription of API v2 (2captcha's API v2 error table), one row per code.
 */

export const CODES = {
  ERROR_KEY_DOES_NOT_EXIST: [1, "The client key does not exist."],
  ERROR_NO_SLOT_AVAILABLE: [2, "No slot available: the worker is not ready or its queue is full; retry later."],
  ERROR_ZERO_CAPTCHA_FILESIZE: [3, "The image is empty."],
  ERROR_TOO_BIG_CAPTCHA_FILESIZE: [4, "The image is over the size limit."],
  ERROR_ZERO_BALANCE: [10, "The balance is zero."],
  ERROR_CAPTCHA_UNSOLVABLE: [12, "The captcha could not be solved."],
  ERROR_BAD_DUPLICATES: [13, "Not enough matching answers."],
  ERROR_NO_SUCH_METHOD: [14, "No such method."],
  ERROR_IMAGE_TYPE_NOT_SUPPORTED: [15, "The image is not valid base64 or not an image."],
  ERROR_NO_SUCH_CAPCHA_ID: [16, "No such task id."],
  ERROR_TASK_ABSENT: [22, "The task is missing."],
  ERROR_TASK_NOT_SUPPORTED: [23, "This task type is not supported."],
  ERROR_RECAPTCHA_INVALID_SITEKEY: [31, "The sitekey is missing or malformed."],
  ERROR_BAD_PARAMETERS: [110, "A parameter is missing or malformed."],
  ERROR_GOOGLEKEY: [110, "The googlekey (sitekey) is missing or malformed."],
  ERROR_PAGEURL: [110, "The pageurl is missing or malformed."],
  ERROR_WRONG_ID_FORMAT: [16, "The id must be digits only."],
  ERROR_WRONG_CAPTCHA_ID: [16, "No such task id."],
  ERROR_EMPTY_ACTION: [110, "The action is missing."],
  ERROR_DUPLICATE_REPORT: [110, "The task was already reported."],
  ERROR_REPORT_NOT_RECORDED: [110, "The report could not be recorded."],
  ERROR_CALLBACK_NOT_ALLOWED: [110, "Callbacks are allowed only to hosts the operator named (--callback-allow)."],
} as const satisfies Record<string, readonly [number, string]>;

export type GatewayCode = keyof typeof CODES;

/** A refusal in 2captcha's terms; both APIs render it (legacy: the code string; v2: errorId and code). */
export class GatewayError extends Error {
  override readonly name = "GatewayError";
  constructor(readonly code: GatewayCode) {
    super(CODES[code][1]);
  }
}

export const errorIdOf = (code: GatewayCode): number => CODES[code][0];

/** How a failed task reads to a 2captcha client: its own per-task codes pass, the worker's reasons (timeout, shutdown) read as unsolvable. */
export function taskFailureCode(code: string | undefined): GatewayCode {
  return code === "ERROR_BAD_DUPLICATES" ? "ERROR_BAD_DUPLICATES" : "ERROR_CAPTCHA_UNSOLVABLE";
}
