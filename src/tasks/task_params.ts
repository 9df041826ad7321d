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
  textinstructions?: string;
}

export interface RecaptchaV2Params {
  type: "recaptcha_v2";
  sitekey: string;
  pageurl: string;
  invisible?: boolean;
}

export interface RecaptchaV3Params {
  type: "recaptcha_v3";
  sitekey: string;
  pageurl: string;
  action?: string;
  min_score?: number;
}

export interface TurnstileParams {
  type: "turnstile";
  sitekey: string;
  pageurl: string;
}

export type TaskParams = ImageParams | RecaptchaV2Params | RecaptchaV3Params | TurnstileParams;
