/** Where the CaptchaAI key comes from: flag file, variable, variable file, systemd credential; never echoed. */
import { join } from "node:path";
import { WorkerError } from "../base/errors.ts";

export type KeySource =
  | "flag:--api-key-file"
  | "env:CAPTCHAAI_API_KEY"
  | "env:CAPTCHAAI_API_KEY_FILE"
  | "env:CAPTCHA_WORKER_API_KEY_FILE"
  | "systemd-credential"
  | "demo";

export interface ApiKey {
  value: string;
  source: KeySource;
  /** Where it came from, for messages: `--api-key-file /etc/key`, `CAPTCHAAI_API_KEY`; never the key. */
  origin: string;
  /** The file it was read from; undefined: a variable (fixed for the life of the process). */
  path?: string;
}

export const CREDENTIAL_NAME = "captchaai-api-key";
export const KEY_SOURCES_HELP =
  "set CAPTCHAAI_API_KEY, or CAPTCHAAI_API_KEY_FILE / --api-key-file naming a file that holds it, " +
  `or a systemd credential named ${CREDENTIAL_NAME} (LoadCredential=, read from $CREDENTIALS_DIRECTORY); or pass --demo`;

export interface ResolveKeyOptions {
  /** --api-key-file as given on the command line. */
  flagFile: string | undefined;
  env: Record<string, string | undefined>;
  readFile: (path: string) => string;
  exists: (path: string) => boolean;
}

/**
 * Finds the key, first match wins: --api-key-file, CAPTCHAAI_API_KEY, CAPTCHAAI_API_KEY_FILE
 * (or CAPTCHA_WORKER_API_KEY_FILE), $CREDENTIALS_DIRECTORY/captchaai-api-key. Undefined when none is set.
 */
export function resolveApiKey(opts: ResolveKeyOptions): ApiKey | undefined {
  const { env } = opts;
  if (opts.flagFile !== undefined) return fromFile(opts, opts.flagFile, "flag:--api-key-file", "--api-key-file");
  if (env.CAPTCHAAI_API_KEY !== undefined && env.CAPTCHAAI_API_KEY !== "") {
    return { value: checkKey(env.CAPTCHAAI_API_KEY, "CAPTCHAAI_API_KEY"), source: "env:CAPTCHAAI_API_KEY", origin: "CAPTCHAAI_API_KEY" };
  }
  if (env.CAPTCHAAI_API_KEY_FILE) return fromFile(opts, env.CAPTCHAAI_API_KEY_FILE, "env:CAPTCHAAI_API_KEY_FILE", "CAPTCHAAI_API_KEY_FILE");
  if (env.CAPTCHA_WORKER_API_KEY_FILE) {
    return fromFile(opts, env.CAPTCHA_WORKER_API_KEY_FILE, "env:CAPTCHA_WORKER_API_KEY_FILE", "CAPTCHA_WORKER_API_KEY_FILE");
  }
  if (env.CREDENTIALS_DIRECTORY) {
    const credential = join(env.CREDENTIALS_DIRECTORY, CREDENTIAL_NAME);
    if (opts.exists(credential)) return fromFile(opts, credential, "systemd-credential", "$CREDENTIALS_DIRECTORY/" + CREDENTIAL_NAME, `the systemd credential ${CREDENTIAL_NAME}`);
  }
  return undefined;
}

function fromFile(opts: ResolveKeyOptions, path: string, source: KeySource, field: string, name = field): ApiKey {
  let text: string;
  try {
    text = opts.readFile(path);
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? "unreadable";
    throw new WorkerError("ERR_CONFIG_INVALID", `Invalid ${field}: cannot read key file ${JSON.stringify(path)} (${reason})`, {
      field,
      cause: err,
    });
  }
  return { value: checkKey(text.trim(), `${field} (${path})`), source, origin: `${name} ${path}`, path };
}

/** A key is one token of printable ASCII; its value is never put into the message. */
function checkKey(value: string, field: string): string {
  const problem = keyProblem(value, "the CaptchaAI key");
  if (problem !== undefined) throw new WorkerError("ERR_CONFIG_INVALID", `Invalid ${field}: ${problem}`, { field });
  return value;
}

/**
 * Why `value` (a key file's trimmed text) is no key, in words that never quote it; undefined when it
 * is one: one token of 1 to 256 printable ASCII characters. `what` names the key (`the CaptchaAI key`).
 */
export function keyProblem(value: string, what: string): string | undefined {
  if (value.length === 0) return `${what} is empty`;
  if (value.length > 256 || !/^[\x21-\x7e]+$/.test(value)) {
    return `expected one line of 1 to 256 printable characters without spaces, got ${value.length} characters that are not`;
  }
  return undefined;
}

/** How the key is shown anywhere outside the process. */
export function redactKey(key: ApiKey | Pick<ApiKey, "value"> | undefined): string | null {
  return key ? `[REDACTED: ${key.value.length} characters]` : null;
}
