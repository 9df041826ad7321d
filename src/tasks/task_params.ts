/** What a client asks to be solved, per task type: the parameters the protocol knows (2captcha API reference). */

export interface ImageParams {
  type: "image";
  /** Base64 of the image, without a data: prefix. */
  image: string;
  phrase?: boolean;
  regsense?: boolean;
  /** 0 any, 1 digits, 2 letters, 3 digits or letters, 4 digits and letters (2captcha's `numeric`). */
  numeric?: number;
  calc?: boolean;
  min_len?: number;
  max_len?: number;
  lang?: string;
  /** 0 any, 1 Cyrillic, 2 Latin (2captcha's `language`). */
  language?: number;
  textinstructions?: string;
}

export interface RecaptchaV2Params {
  type: "recaptcha_v2";
  sitekey: string;
  pageurl: string;
  invisible?: boolean;
  enterprise?: boolean;
}

export interface RecaptchaV3Params {
  type: "recaptcha_v3";
  sitekey: string;
  pageurl: string;
  action?: string;
  min_score?: number;
  enterprise?: boolean;
}

export interface TurnstileParams {
  type: "turnstile";
  sitekey: string;
  pageurl: string;
  action?: string;
  /** Turnstile's cData. */
  data?: string;
}

/**
 * Who asked and where to tell them, for gateway tasks (SPEC §11): kept with the parameters so the
 * journal's accept record carries both across a restart. Never sent upstream.
 */
export interface TaskOrigin {
  /** The client's name from --client-keys-file. */
  client?: string;
  /** Where the result is POSTed when the task ends, in the form of the API it came in by. */
  callback?: { url: string; format: "pingback" | "v2" };
}

export type TaskParams = (ImageParams | RecaptchaV2Params | RecaptchaV3Params | TurnstileParams) & TaskOrigin;
