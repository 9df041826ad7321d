/** `captcha-worker config`: validates exactly what `run` would and prints it as JSON, the key redacted. */
import type { FlagValues } from "../config/config.ts";
import { OPTIONS } from "../config/options.ts";
import { describeConfig, parseConfig } from "../config/parse_config.ts";
import { redactKey } from "../config/key_sources.ts";
import { loadApiKey } from "../config/load_key.ts";
import { EXIT_OK, type Runtime } from "../base/runtime.ts";

export function runConfigCommand(flags: FlagValues, rt: Runtime): number {
  const { config, sources } = parseConfig(flags, rt.env);
  const key = loadApiKey(config, flags, rt);
  const values = describeConfig(config);
  const options: Record<string, { value: unknown; source: string; env: string }> = {};
  for (const spec of OPTIONS) options[spec.flag] = { value: values[spec.flag], source: sources[spec.key], env: spec.env };
  const out = {
    options,
    api_key: { value: redactKey(key), source: key?.source ?? "none" },
  };
  rt.stdout(JSON.stringify(out, null, 2) + "\n");
  return EXIT_OK;
}
