/** The task kinds the protocol knows and how each becomes in.php form fields (2captcha API reference). */

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

export type UpstreamTask = ImageParams | RecaptchaV2Params | RecaptchaV3Params | TurnstileParams;

/** The in.php fields for `task` (without key, json and soft_id, which the client adds). */
export function taskToForm(task: UpstreamTask): Record<string, string> {
  switch (task.type) {
    case "image": {
      const f: Record<string, string> = { method: "base64", body: task.image };
      if (task.phrase !== undefined) f.phrase = task.phrase ? "1" : "0";
      if (task.regsense !== undefined) f.regsense = task.regsense ? "1" : "0";
      if (task.numeric !== undefined) f.numeric = String(task.numeric);
      if (task.calc !== undefined) f.calc = task.calc ? "1" : "0";
      if (task.min_len !== undefined) f.min_len = String(task.min_len);
      if (task.max_len !== undefined) f.max_len = String(task.max_len);
      if (task.lang !== undefined) f.lang = task.lang;
      if (task.textinstructions !== undefined) f.textinstructions = task.textinstructions;
      return f;
    }
    case "recaptcha_v2": {
      const f: Record<string, string> = { method: "userrecaptcha", googlekey: task.sitekey, pageurl: task.pageurl };
      if (task.invisible !== undefined) f.invisible = task.invisible ? "1" : "0";
      return f;
    }
    case "recaptcha_v3": {
      const f: Record<string, string> = { method: "userrecaptcha", version: "v3", googlekey: task.sitekey, pageurl: task.pageurl };
      if (task.action !== undefined) f.action = task.action;
      if (task.min_score !== undefined) f.min_score = String(task.min_score);
      return f;
    }
    case "turnstile":
      return { method: "turnstile", sitekey: task.sitekey, pageurl: task.pageurl };
  }
}
