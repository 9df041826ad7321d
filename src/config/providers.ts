/**
 * The effective providers (docs/providers.md): the providers file's, each key read from its
 * key-file as the CaptchaAI key is read (the file's text trimmed, one token of printable ASCII); or,
 * without the file, one provider `captchaai` from --upstream, the CaptchaAI key's sources and
 * --threads, exactly as before the file existed. `run` and `config` load them at start (a bad file
 * exits 78 naming the line and the field); a reload (SIGHUP) re-reads the file and every key, and a
 * bad file then is an error value: the providers in use stay. No message holds a key.
 */
import type { Runtime } from "../base/runtime.ts";
import type { Config, FlagValues } from "./config.ts";
import { formatDuration } from "./duration.ts";
import { keyProblem, redactKey, type KeySource } from "./key_sources.ts";
import { loadApiKey } from "./load_key.ts";
import {
  DEFAULT_AFTER_MS,
  parseProvidersFile,
  providersFileError,
  type ProviderApi,
  type ProviderFields,
  type ProviderLine,
} from "./providers_file.ts";
import { WorkerError } from "../base/errors.ts";

export { DEFAULT_AFTER_MS, FORMAT as PROVIDERS_FILE_FORMAT, LEGACY_DIALECTS, V2_DIALECTS, resolveKeyFile } from "./providers_file.ts";
export type { LegacyDialect, ProviderApi, ProviderFields, ProviderProtocol, V2Dialect } from "./providers_file.ts";

/** Where a provider's key came from: a line's key-file, or one of the CaptchaAI key's sources (the default provider). */
export type ProviderKeySource = "key-file" | KeySource;

/** One solving account, ready to use: `T` is a task type name of the catalogue. */
export type ProviderSpec<T extends string = string> = ProviderApi &
  ProviderFields<T> & {
    /** The account's key: never logged, echoed or put in a URL. "" only for --demo without a key (the demo's simulator key replaces it). */
    key: string;
    /** Where the key came from, for messages and `config`: `key-file /etc/x`, `--api-key-file /run/k`, `CAPTCHAAI_API_KEY`. Never the key. */
    keyOrigin: string;
    keySource: ProviderKeySource;
    /** The file the key was read from, re-read on reload; undefined: a variable (or the demo), fixed for the life of the process. */
    keyFile: string | undefined;
    /** Its line in the providers file; undefined: the default provider (no file). */
    line: number | undefined;
  };

/** The default provider's name: its check stays `captchaai_api` and its issues carry no provider tag. */
export const DEFAULT_PROVIDER_NAME = "captchaai";

/** What loading needs of the process. */
export type ProvidersRuntime = Pick<Runtime, "env" | "readFile" | "exists">;

type ProvidersConfig = Pick<Config, "providersFile" | "upstream" | "threads" | "demo">;

/**
 * The providers in order of preference, each with its key. Throws ERR_CONFIG_INVALID (exit 78) for
 * a file that cannot be read or parsed or a key file that cannot be read (naming the file, the line
 * and the field), and ERR_NO_API_KEY without the file, a CaptchaAI key and --demo, as before.
 * `types`: the catalogue's type names (tasks/task_catalogue.ts TASK_TYPES).
 */
export function loadProviders<T extends string>(config: ProvidersConfig, flags: FlagValues, rt: ProvidersRuntime, types: readonly T[]): ProviderSpec<T>[] {
  if (config.providersFile === undefined) return [defaultProvider(config, flags, rt)];
  const path = config.providersFile;
  let text: string;
  try {
    text = rt.readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? "unreadable";
    throw new WorkerError("ERR_CONFIG_INVALID", `Invalid --providers-file: cannot read ${JSON.stringify(path)} (${code})`, { field: "--providers-file", cause: err });
  }
  return providersFromText(text, { path, types, env: rt.env, readFile: rt.readFile });
}

/** What a reload answers: the new providers, or why the file (or a key) could not be used, in words holding no key. */
export type ProvidersReload<T extends string = string> = { ok: true; providers: ProviderSpec<T>[] } | { ok: false; error: string };

export interface ReloadProvidersOptions<T extends string> {
  /** The providers file's path, for messages and relative key-files. */
  path: string;
  types: readonly T[];
  /** $CREDENTIALS_DIRECTORY is read from it. */
  env: Record<string, string | undefined>;
  /** Reads a key file (sync: a few small files). */
  readFile: (path: string) => string;
}

/**
 * The providers of a providers file's new text, every key re-read; never throws for a bad file or
 * key: the caller keeps the providers in use and logs `error`. A key from a systemd credential
 * changes only when the service restarts (systemd copies credentials at start).
 */
export function reloadProviders<T extends string>(text: string, o: ReloadProvidersOptions<T>): ProvidersReload<T> {
  try {
    return { ok: true, providers: providersFromText(text, o) };
  } catch (err) {
    if (err instanceof WorkerError) return { ok: false, error: err.message };
    throw err;
  }
}

/**
 * SIGHUP's whole re-read: the providers file (when --providers-file is set) and every key, or,
 * without the file, the CaptchaAI key of the default provider. Never throws for bad input.
 */
export function rereadProviders<T extends string>(config: ProvidersConfig, flags: FlagValues, rt: ProvidersRuntime, types: readonly T[]): ProvidersReload<T> {
  try {
    return { ok: true, providers: loadProviders(config, flags, rt, types) };
  } catch (err) {
    if (err instanceof WorkerError) return { ok: false, error: err.message };
    throw err;
  }
}

/** USD one solve of `type` costs on `p`: its price.TYPE, else its price, per 1000; 0 on a thread plan. */
export function solvePriceUsd<T extends string>(p: Pick<ProviderSpec<T>, "price" | "typePrices">, type: T): number {
  return (p.typePrices[type] ?? p.price ?? 0) / 1000;
}

/** Whether `p` may take tasks of `type` (types=; all when not given). */
export function takesType<T extends string>(p: Pick<ProviderSpec<T>, "types">, type: T): boolean {
  return p.types === undefined || p.types.includes(type);
}

/** The providers as `config` prints them: every field as written in the file, the key redacted with where it came from. */
export function describeProviders(providers: readonly ProviderSpec[]): Record<string, unknown>[] {
  return providers.map((p) => ({
    name: p.name,
    protocol: p.protocol,
    dialect: p.dialect,
    url: p.url.href,
    threads: p.threads ?? null,
    price: p.price ?? null,
    prices: { ...p.typePrices },
    after: formatDuration(p.afterMs),
    daily_budget: p.dailyBudgetUsd ?? null,
    types: p.types === undefined ? "all" : [...p.types],
    key: p.key === "" ? null : redactKey({ value: p.key }),
    key_source: p.keySource,
    key_origin: p.keyOrigin,
    line: p.line ?? null,
  }));
}

function providersFromText<T extends string>(text: string, o: ReloadProvidersOptions<T>): ProviderSpec<T>[] {
  const lines = parseProvidersFile(text, { path: o.path, types: o.types, credentialsDirectory: o.env.CREDENTIALS_DIRECTORY || undefined });
  return lines.map((line) => withKey(line, o));
}

/** The line with its key read from key-file; ERR_CONFIG_INVALID naming the line and the key file's path, never the key. */
function withKey<T extends string>(p: ProviderLine<T>, o: { path: string; readFile: (path: string) => string }): ProviderSpec<T> {
  let text: string;
  try {
    text = o.readFile(p.keyFile);
  } catch (err) {
    // The path is not quoted: a key pasted as key-file= would be printed (docs/providers.md, Keys: no value from the file is quoted).
    throw providersFileError(o.path, p.line, "key-file", `cannot read the file it names (${(err as NodeJS.ErrnoException).code ?? "unreadable"})`);
  }
  const key = text.trim();
  const problem = keyProblem(key, "the key");
  if (problem !== undefined) throw providersFileError(o.path, p.line, "key-file", `the file it names: ${problem}`);
  return { ...p, key, keyOrigin: `key-file ${p.keyFile}`, keySource: "key-file", keyFile: p.keyFile, line: p.line };
}

/** Without the file: CaptchaAI at --upstream, the key from its sources, a thread plan of --threads. */
function defaultProvider<T extends string>(config: ProvidersConfig, flags: FlagValues, rt: ProvidersRuntime): ProviderSpec<T> {
  const key = loadApiKey(config, flags, rt);
  return {
    protocol: "legacy",
    dialect: "captchaai",
    name: DEFAULT_PROVIDER_NAME,
    url: config.upstream,
    threads: config.threads,
    price: undefined,
    typePrices: {} as Partial<Record<T, number>>,
    afterMs: DEFAULT_AFTER_MS,
    dailyBudgetUsd: undefined,
    types: undefined,
    key: key?.value ?? "",
    keyOrigin: key?.origin ?? "the demo's simulator",
    keySource: key?.source ?? "demo",
    keyFile: key?.path,
    line: undefined,
  };
}
