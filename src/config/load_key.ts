/** The key rule shared by run and config: a key from one of its sources, or --demo, else exit 78. */
import type { Config, FlagValues } from "./config.ts";
import { WorkerError } from "../base/errors.ts";
import { KEY_SOURCES_HELP, resolveApiKey, type ApiKey } from "./key_sources.ts";
import type { Runtime } from "../base/runtime.ts";

/** The key, or undefined in demo mode without one; throws ERR_NO_API_KEY otherwise. */
export function loadApiKey(config: Config, flags: FlagValues, rt: Runtime): ApiKey | undefined {
  const flagFile = typeof flags["api-key-file"] === "string" ? flags["api-key-file"] : undefined;
  const key = resolveApiKey({ flagFile, env: rt.env, readFile: rt.readFile, exists: rt.exists });
  if (!key && !config.demo) {
    throw new WorkerError("ERR_NO_API_KEY", `No CaptchaAI key: ${KEY_SOURCES_HELP}.`, { field: "CAPTCHAAI_API_KEY" });
  }
  return key;
}
