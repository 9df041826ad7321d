/** `captcha-worker config`: validates exactly what `run` would and prints it as JSON, every key redacted. */
import type { FlagValues } from "../config/config.ts";
import { OPTIONS } from "../config/options.ts";
import { describeConfig, parseConfig } from "../config/parse_config.ts";
import { redactKey } from "../config/key_sources.ts";
import { describeProviders, loadProviders } from "../config/providers.ts";
import { TASK_TYPES } from "../tasks/task_catalogue.ts";
import { EXIT_OK, type Runtime } from "../base/runtime.ts";

export function runConfigCommand(flags: FlagValues, rt: Runtime): number {
  const { config, sources } = parseConfig(flags, rt.env);
  const providers = loadProviders(config, flags, rt, TASK_TYPES);
  const values = describeConfig(config);
  const options: Record<string, { value: unknown; source: string; env: string }> = {};
  for (const spec of OPTIONS) options[spec.flag] = { value: values[spec.flag], source: sources[spec.key], env: spec.env };
  // The CaptchaAI key's own sources serve the default provider only; with a providers file they are not read.
  const first = providers[0]!;
  const captchaai = config.providersFile === undefined && first.key !== "" ? first : undefined;
  const out = {
    options,
    api_key: { value: captchaai ? redactKey({ value: captchaai.key }) : null, source: captchaai?.keySource ?? "none" },
    providers: describeProviders(providers),
  };
  rt.stdout(JSON.stringify(out, null, 2) + "\n");
  return EXIT_OK;
}
