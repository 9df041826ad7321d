/** Normal image captchas: a picture of text to type (2captcha API: "Normal CAPTCHA"; CaptchaAI: image captcha). */
import { bool, image, int, pattern, text } from "../task_fields.ts";
import type { TaskTypeSpec } from "../task_type_spec.ts";

const fields = {
  image: image({ required: true, legacy: ["body", "file"], v2: "body", upstream: "body", code: { missing: "ERROR_ZERO_CAPTCHA_FILESIZE", empty: "ERROR_ZERO_CAPTCHA_FILESIZE", too_large: "ERROR_TOO_BIG_CAPTCHA_FILESIZE", not_base64: "ERROR_IMAGE_TYPE_NOT_SUPPORTED", invalid: "ERROR_IMAGE_TYPE_NOT_SUPPORTED" } }),
  phrase: bool({ v2: "phrase" }),
  regsense: bool({ v2: "case" }),
  /** 0 any, 1 digits, 2 letters, 3 digits or letters, 4 digits and letters. */
  numeric: int(0, 4, { v2: "numeric" }),
  calc: bool({ v2: "math" }),
  min_len: int(0, 20, { v2: "minLength" }),
  max_len: int(0, 20, { v2: "maxLength" }),
  lang: pattern(/^[a-z]{2,3}$/i, "a 2 or 3 letter language code", { lower: true, v2: "lang" }),
  /** 0 any, 1 Cyrillic, 2 Latin. */
  language: int(0, 2),
  textinstructions: text(1, 140, { v2: "comment" }),
};

export const IMAGE = {
  type: "image",
  kind: "image",
  title: "Normal image: type the text in a picture",
  fields,
  check: (p) => (typeof p.min_len === "number" && typeof p.max_len === "number" && p.max_len > 0 && p.min_len > p.max_len ? { field: "min_len", why: "must not exceed max_len" } : undefined),
  legacy: { methods: ["base64", "post"] },
  v2: [{ name: "ImageToTextTask" }],
  upstream: { method: "base64" },
  solution: { v2: (s) => ({ text: s }) },
} as const satisfies TaskTypeSpec<"image", typeof fields>;
