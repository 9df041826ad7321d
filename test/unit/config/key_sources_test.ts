import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { isWorkerError } from "../../../src/base/errors.ts";
import { redactKey, resolveApiKey, type ResolveKeyOptions } from "../../../src/config/key_sources.ts";

const KEY = "0123456789abcdef0123456789abcdef";

function opts(env: Record<string, string>, files: Record<string, string> = {}, flagFile?: string): ResolveKeyOptions {
  return {
    flagFile,
    env,
    readFile: (p) => {
      if (p in files) return files[p]!;
      throw Object.assign(new Error(`ENOENT ${p}`), { code: "ENOENT" });
    },
    exists: (p) => p in files,
  };
}

describe("resolveApiKey", () => {
  test("reads CAPTCHAAI_API_KEY", () => {
    assert.deepEqual(resolveApiKey(opts({ CAPTCHAAI_API_KEY: KEY })), { value: KEY, source: "env:CAPTCHAAI_API_KEY", origin: "CAPTCHAAI_API_KEY" });
  });

  test("reads CAPTCHAAI_API_KEY_FILE and trims the trailing newline", () => {
    const key = resolveApiKey(opts({ CAPTCHAAI_API_KEY_FILE: "/k" }, { "/k": KEY + "\n" }));
    assert.deepEqual(key, { value: KEY, source: "env:CAPTCHAAI_API_KEY_FILE", origin: "CAPTCHAAI_API_KEY_FILE /k", path: "/k" });
  });

  test("reads CAPTCHA_WORKER_API_KEY_FILE, the table's own variable for --api-key-file", () => {
    const key = resolveApiKey(opts({ CAPTCHA_WORKER_API_KEY_FILE: "/k" }, { "/k": KEY }));
    assert.equal(key?.source, "env:CAPTCHA_WORKER_API_KEY_FILE");
  });

  test("reads the systemd credential from $CREDENTIALS_DIRECTORY", () => {
    const key = resolveApiKey(opts({ CREDENTIALS_DIRECTORY: "/run/credentials/captcha-worker.service" }, {
      "/run/credentials/captcha-worker.service/captchaai-api-key": KEY,
    }));
    assert.deepEqual(key, { value: KEY, source: "systemd-credential", origin: "the systemd credential captchaai-api-key /run/credentials/captcha-worker.service/captchaai-api-key",
      path: "/run/credentials/captcha-worker.service/captchaai-api-key",
    });
  });

  test("--api-key-file wins over the variables, which win over the credential", () => {
    const files = { "/flag": "flagkey", "/envfile": "envfilekey", "/creds/captchaai-api-key": "credkey" };
    const env = { CAPTCHAAI_API_KEY: "envkey", CAPTCHAAI_API_KEY_FILE: "/envfile", CREDENTIALS_DIRECTORY: "/creds" };
    assert.equal(resolveApiKey(opts(env, files, "/flag"))?.value, "flagkey");
    assert.equal(resolveApiKey(opts(env, files, "/flag"))?.origin, "--api-key-file /flag", "named for messages, the key never");
    assert.equal(resolveApiKey(opts(env, files))?.value, "envkey");
    assert.equal(resolveApiKey(opts({ ...env, CAPTCHAAI_API_KEY: "" }, files))?.value, "envfilekey");
    assert.equal(resolveApiKey(opts({ CREDENTIALS_DIRECTORY: "/creds" }, files))?.value, "credkey");
  });

  test("is undefined with no source, and when the credential directory lacks the file", () => {
    assert.equal(resolveApiKey(opts({})), undefined);
    assert.equal(resolveApiKey(opts({ CREDENTIALS_DIRECTORY: "/creds" })), undefined);
  });

  test("an unreadable key file is a config error naming the source and path", () => {
    assert.throws(
      () => resolveApiKey(opts({ CAPTCHAAI_API_KEY_FILE: "/missing" })),
      (err: unknown) => isWorkerError(err, "ERR_CONFIG_INVALID") && err.field === "CAPTCHAAI_API_KEY_FILE" && /\/missing/.test(err.message) && /ENOENT/.test(err.message),
    );
  });

  test("an empty or multi-word key is refused without echoing it", () => {
    assert.throws(() => resolveApiKey(opts({ CAPTCHAAI_API_KEY_FILE: "/k" }, { "/k": "\n" })), (e: unknown) => isWorkerError(e, "ERR_CONFIG_INVALID"));
    const secret = "top secret value";
    assert.throws(
      () => resolveApiKey(opts({ CAPTCHAAI_API_KEY: secret })),
      (err: unknown) => isWorkerError(err, "ERR_CONFIG_INVALID") && err.field === "CAPTCHAAI_API_KEY" && !err.message.includes("secret"),
    );
  });
});

describe("redactKey", () => {
  test("shows only the length", () => {
    const shown = redactKey({ value: KEY, source: "env:CAPTCHAAI_API_KEY", origin: "CAPTCHAAI_API_KEY" });
    assert.equal(shown, "[REDACTED: 32 characters]");
    assert.equal(redactKey(undefined), null);
  });
});
