/**
 * Image captchas (CaptchaAI's and 2captcha's `method=base64` / `post`): a picture of text to type, a
 * click grid (`recaptcha=1`: which cells match the instructions) and BLS's nine cells (`method=bls`,
 * CaptchaAI's own: which cells show the code).
 */
import { bool, image, imageList, int, pattern, text } from "../task_fields.ts";
import { textSolution, type SolutionSpec } from "../task_solution.ts";
import type { DialectName, TaskTypeSpec } from "../task_type_spec.ts";

const picture = () =>
  image({ required: true, legacy: ["body", "file"], v2: "body", upstream: "body", code: { missing: "ERROR_ZERO_CAPTCHA_FILESIZE", empty: "ERROR_ZERO_CAPTCHA_FILESIZE", too_large: "ERROR_TOO_BIG_CAPTCHA_FILESIZE", not_base64: "ERROR_IMAGE_TYPE_NOT_SUPPORTED", invalid: "ERROR_IMAGE_TYPE_NOT_SUPPORTED" } });

const fields = {
  image: picture(),
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

/** ImageToTextTask everywhere; CapSolver's takes the image alone (docs.capsolver.com, ImageToTextTask), 2captcha's language is a createTask field. */
const imageTask = (fields: DialectName["fields"]): readonly DialectName[] => [{ proxyless: "ImageToTextTask", fields: { lang: null, ...fields } }];

export const IMAGE = {
  type: "image",
  kind: "image",
  title: "Normal image: type the text in a picture",
  fields,
  check: (p) => (typeof p.min_len === "number" && typeof p.max_len === "number" && p.max_len > 0 && p.min_len > p.max_len ? { field: "min_len", why: "must not exceed max_len" } : undefined),
  proxy: "none",
  legacy: [{ name: "base64", when: { recaptcha: ["", "0"] } }, { name: "post", when: { recaptcha: ["", "0"] } }],
  v2: [{ name: "ImageToTextTask" }],
  upstream: { method: "base64" },
  dialects: {
    anticaptcha: imageTask({}),
    "2captcha": imageTask({}),
    capmonster: imageTask({ phrase: null, min_len: null, max_len: null, textinstructions: null }),
    capsolver: imageTask({ phrase: null, regsense: null, numeric: null, calc: null, min_len: null, max_len: null, textinstructions: null }),
  },
  solution: textSolution(["text"]),
} as const satisfies TaskTypeSpec<"image", typeof fields>;

const gridFields = {
  image: picture(),
  textinstructions: text(1, 140, { v2: "comment" }),
  /** An image of what to click, instead of words. */
  imginstructions: image({ v2: "imgInstructions" }),
  rows: int(1, 10, { legacy: "recaptcharows", v2: "rows" }),
  cols: int(1, 10, { legacy: "recaptchacols", v2: "columns" }),
};

/** 2captcha numbers a grid's cells from 1, left to right, top to bottom (`click:3/8/9`); the JSON API lists them. */
const cells = (s: string) => (/^click:/i.test(s) ? s.slice(6) : s).replace(/[[\]\s]/g, "").split(/[/,]/).filter((c) => c !== "").map(Number);

/**
 * The cells as 2captcha's legacy answer gives them (`click:3/8/9`), and as the JSON API lists them
 * (`{"click":[3,8,9]}`; 2captcha.com/api-docs/grid: "1 is top left tile").
 */
const gridSolution: SolutionSpec = {
  ...textSolution(["text"]),
  parse: (request, fields) => {
    const list = typeof request === "object" && request !== null && !Array.isArray(request) ? (request as Record<string, unknown>).click : undefined;
    if (list === undefined) return textSolution(["text"]).parse(request, fields);
    const cellList = Array.isArray(list) ? list : typeof list === "string" ? cells(list) : [];
    return cellList.length > 0 && cellList.every((c) => Number.isInteger(c) && (c as number) >= 0) ? { value: `click:${cellList.join("/")}` } : undefined;
  },
  v2: (s) => ({ click: cells(String(s.value)) }),
};

export const GRID = {
  type: "grid",
  kind: "image",
  title: "Grid image: which cells show what the instructions ask (reCAPTCHA-style)",
  fields: gridFields,
  check: (p) => (p.textinstructions === undefined && p.imginstructions === undefined ? { field: "textinstructions", why: "is required (or imginstructions)" } : undefined),
  proxy: "none",
  legacy: [{ name: "base64", when: { recaptcha: ["1"] } }, { name: "post", when: { recaptcha: ["1"] } }],
  v2: [{ name: "GridTask" }],
  upstream: { method: "base64", fixed: { recaptcha: "1" } },
  // 2captcha's GridTask only (2captcha.com/api-docs/grid); anti-captcha has no grid type, CapSolver's classification differs.
  dialects: { "2captcha": [{ proxyless: "GridTask" }] },
  solution: gridSolution,
} as const satisfies TaskTypeSpec<"grid", typeof gridFields>;

const CELLS = Array.from({ length: 9 }, (_, i) => `image_base64_${i + 1}`);
const blsFields = {
  /** The number the page asks for (CaptchaAI's `instructions`). */
  instructions: pattern(/^\d{1,10}$/, "1 to 10 digits", { required: true, v2: "instructions" }),
  images: imageList(9, { required: true, legacy: CELLS, v2: "images", code: "ERROR_ZERO_CAPTCHA_FILESIZE" }),
};

export const BLS = {
  type: "bls",
  kind: "image",
  title: "BLS: which of nine cells show the number asked for (CaptchaAI's method=bls)",
  fields: blsFields,
  proxy: "none",
  legacy: [{ name: "bls" }],
  // No JSON-API service names BLS: the worker's own name for it.
  v2: [{ name: "BlsTask" }],
  upstream: { method: "bls" },
  dialects: {},
  solution: gridSolution,
} as const satisfies TaskTypeSpec<"bls", typeof blsFields>;
