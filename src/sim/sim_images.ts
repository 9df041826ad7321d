/**
 * The image limits CaptchaAI documents on its error page (docs.captchaai.com, error handling): an
 * image under 100 bytes is ERROR_ZERO_CAPTCHA_FILESIZE (the older page's limit; the newer says
 * 1 KB), one over 1024 KB ERROR_TOO_BIG_CAPTCHA_FILESIZE, base64 that cannot be read ERROR_UPLOAD,
 * and a file that is no jpg, png or gif ERROR_WRONG_FILE_EXTENSION (told by its magic bytes).
 */

export const MIN_IMAGE_BYTES = 100;
export const MAX_IMAGE_BYTES = 1024 * 1024;

/** PNG (RFC 2083 §12.11), JPEG (SOI and a marker), GIF87a/GIF89a. */
const MAGIC: readonly Buffer[] = [
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  Buffer.from([0xff, 0xd8, 0xff]),
  Buffer.from("GIF87a", "latin1"),
  Buffer.from("GIF89a", "latin1"),
];

/**
 * The code CaptchaAI answers for an image sent as base64 (a `data:image/...;base64,` prefix
 * stripped, line breaks dropped, a space read as the `+` a form left unencoded), or undefined when
 * it takes it.
 */
export function imageRefusal(raw: string | undefined): string | undefined {
  if (raw === undefined) return "ERROR_ZERO_CAPTCHA_FILESIZE";
  const b64 = (raw.startsWith("data:") ? raw.slice(raw.indexOf(",") + 1) : raw).replace(/[\r\n\t]+/g, "").replaceAll(" ", "+");
  if (b64 === "") return "ERROR_ZERO_CAPTCHA_FILESIZE";
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(b64) || b64.length % 4 === 1) return "ERROR_UPLOAD";
  // The size from the length alone: a 1.4 MB string need not be decoded to be refused.
  const size = Math.floor((b64.replace(/=+$/, "").length * 3) / 4);
  if (size < MIN_IMAGE_BYTES) return "ERROR_ZERO_CAPTCHA_FILESIZE";
  if (size > MAX_IMAGE_BYTES) return "ERROR_TOO_BIG_CAPTCHA_FILESIZE";
  const head = Buffer.from(b64.slice(0, 12), "base64");
  return MAGIC.some((m) => head.subarray(0, m.length).equals(m)) ? undefined : "ERROR_WRONG_FILE_EXTENSION";
}
