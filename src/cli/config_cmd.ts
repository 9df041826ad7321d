/** `captcha-worker config`: validates exactly what `run` would and prints it as JSON, every key redacted. */
import type { FlagValues } from "../config/config.ts";
import { OPTIONS } from "../config/options.ts";
import { describeConfig, parseConfig } from "../config/parse_config.ts";
import { redactKey } from "../config/key_sources.ts";
import { describeProviders, loadProviders } from "../config/providers.ts";
import { TASK_TYPES } from "../tasks/task_catalogue.ts";
import { EXIT_OK, type Runtime } from "../base/runtime.ts";
import { demoConfig } from "../app/demo.ts";

export function runConfigCommand(flags: FlagValues, rt: Runtime): number {
  const parsed = parseConfig(flags, rt.env);
  const { sources } = parsed;
  // As run takes it: the demo's own defaults (a 5 s balance TTL; a text log when stderr is a terminal), their source "demo".
  const config = demoConfig(parsed.config, sources, { stderrIsTTY: rt.stderrIsTTY === true });
  const providers = loadProviders(config, flags, rt, TASK_TYPES);
  const values = describeConfig(config);
  const before = describeConfig(parsed.config);
  const options: Record<string, { value: unknown; source: string; env: string }> = {};
  for (const spec of OPTIONS) {
    const byDemo = JSON.stringify(values[spec.flag]) !== JSON.stringify(before[spec.flag]);
    options[spec.flag] = { value: values[spec.flag], source: byDemo ? "demo" : sources[spec.key], env: spec.env };
  }
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
