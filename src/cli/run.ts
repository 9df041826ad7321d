/**
 * `captcha-worker run`: argument handling only: the configuration, the key and the API token (and no
 * task API open to the network without one, see config/exposure.ts), then
 * the worker (app/run_app.ts) until a signal stops it; its result is the exit code.
 */
import type { FlagValues } from "../config/config.ts";
import { WorkerError } from "../base/errors.ts";
import { loadApiKey, loadApiToken, loadPeerToken } from "../config/load_key.ts";
import { parseConfig } from "../config/parse_config.ts";
import { loadProviders, rereadProviders } from "../config/providers.ts";
import { TASK_TYPES } from "../tasks/task_catalogue.ts";
import { checkExposure } from "../config/exposure.ts";
import { prepareStateDir } from "../config/state_dir.ts";
import type { Runtime } from "../base/runtime.ts";
import { runApp } from "../app/run_app.ts";
import { demoConfig } from "../app/demo.ts";

/** Resolves the configuration and secrets (exit 78 on a bad one), then runs the worker; resolves with its exit code. */
export async function runRunCommand(flags: FlagValues, rt: Runtime): Promise<number> {
  const parsed = parseConfig(flags, rt.env);
  // The demo's own defaults where the command line left them: a text log on a terminal, a short balance TTL.
  const config = demoConfig(parsed.config, parsed.sources, { stderrIsTTY: rt.stderrIsTTY === true });
  if (config.demoOverflow && !config.demo) throw new WorkerError("ERR_CONFIG_INVALID", "Invalid --demo-overflow (env CAPTCHA_WORKER_DEMO_OVERFLOW): only with --demo", { field: "--demo-overflow" });
  if (config.stateDir !== undefined) prepareStateDir(config.stateDir);
  // Every provider and its key (docs/providers.md), checked before anything starts: a bad providers file exits 78.
  const providers = config.providersFile === undefined ? undefined : loadProviders(config, flags, rt, TASK_TYPES);
  const key = providers ? { value: providers[0]!.key, origin: providers[0]!.keyOrigin, source: "key-file" as const } : loadApiKey(config, flags, rt);
  const apiToken = loadApiToken(config, rt);
  const peerToken = loadPeerToken(config, rt);
  // A credential: the bearer token, or the gateway's client keys (they authenticate /v1/tasks too).
  checkExposure(config, apiToken !== undefined || config.clientKeysFile !== undefined);
  // A key from a file (flag, variable or systemd credential) is re-read on SIGHUP; one from a variable cannot change.
  const fromFile = !providers && key !== undefined && key.source !== "env:CAPTCHAAI_API_KEY" && key.source !== "demo";
  const reloadApiKey = fromFile ? () => loadApiKey(config, flags, rt)?.value : undefined;
  // The files those reloads read are also re-read when they change on disk (docs/configuration.md,
  // The CaptchaAI key): the providers file and the key files its last good read named, or the
  // CaptchaAI key's file.
  const filesOf = (ps: readonly { keyFile: string | undefined }[]) => [config.providersFile!, ...ps.flatMap((p) => (p.keyFile === undefined ? [] : [p.keyFile]))];
  let keyFiles: string[] = providers ? filesOf(providers) : fromFile && "path" in key && key.path !== undefined ? [key.path] : [];
  // With a providers file, SIGHUP re-reads it and every key file (docs/providers.md); a bad file keeps the providers in use.
  const reread = providers
    ? () => {
        const r = rereadProviders(config, flags, rt, TASK_TYPES);
        if (r.ok) keyFiles = filesOf(r.providers);
        return r;
      }
    : undefined;
  return runApp({ config, apiKey: key?.value, keyOrigin: key?.origin, reloadApiKey, keyFiles: () => keyFiles, apiToken, peerToken, providers, rereadProviders: reread, runtime: rt, invocation: invocationOf(rt.env, config) });
}

/**
 * How a person starts this run again with another flag, for hints: through an npm script (`npm start`
 * passes the flags after `--` on to the worker), else the command itself. npm names the script in
 * `npm_lifecycle_event`; `npx` sets it too (to `npx`), but flags follow the command there as usual.
 * A demo's hint keeps it a demo (`npm start` runs `--demo` itself; `--demo-overflow` is repeated), as
 * the demo banner's "Another address" line does: without `--demo` the pasted line exits 78, no key.
 */
export function invocationOf(env: Record<string, string | undefined>, demo: { demo: boolean; demoOverflow: boolean } = { demo: false, demoOverflow: false }): string {
  const script = env.npm_lifecycle_event;
  const overflow = demo.demo && demo.demoOverflow ? " --demo-overflow" : "";
  if (script === undefined || script === "" || script === "npx" || env.npm_command === "exec") return `captcha-worker run${demo.demo ? " --demo" : ""}${overflow}`;
  return script === "start" ? `npm start --${overflow}` : `npm run ${script} --${overflow}`;
}
