/**
 * The providers file (docs/providers.md): the solving accounts, one a line in order of preference,
 * `NAME PROTOCOL URL key-file=PATH [dialect=D] [threads=N] [price=USD] [price.TYPE=USD ...]
 * [after=DUR] [daily-budget=USD] [types=TYPE,...]`, `#` comments. Parsing is pure: the text, the
 * file's path, $CREDENTIALS_DIRECTORY and the catalogue's type names in; the providers, or an error
 * naming the line and the field, out. Reading the keys is providers.ts's. No message quotes a value
 * of the file (a key pasted in the wrong place must not reach a log): it names fields, and a
 * misspelt field or type only when it is too short to be a key.
 */
import { dirname, isAbsolute, join, resolve } from "node:path";
import { didYouMean } from "../base/did_you_mean.ts";
import { WorkerError } from "../base/errors.ts";
import * as v from "./_values.ts";

/** `legacy`: in.php/res.php (CaptchaAI, 2captcha, ruCaptcha, ...); `v2`: createTask/getTaskResult/getBalance. */
export const PROTOCOLS = ["legacy", "v2"] as const;
export type ProviderProtocol = (typeof PROTOCOLS)[number];
/** in.php dialects: CaptchaAI's (ERROR_ZERO_BALANCE: no free thread on the plan) and 2captcha's (per solve). */
export const LEGACY_DIALECTS = ["captchaai", "2captcha"] as const;
export type LegacyDialect = (typeof LEGACY_DIALECTS)[number];
/** createTask dialects: task type names and error codes differ (anti-captcha.com, capsolver.com, capmonster.cloud, api.2captcha.com). */
export const V2_DIALECTS = ["anticaptcha", "capsolver", "capmonster", "2captcha"] as const;
export type V2Dialect = (typeof V2_DIALECTS)[number];

/** The protocol and the dialect spoken in it: only pairs that exist. */
export type ProviderApi = { protocol: "legacy"; dialect: LegacyDialect } | { protocol: "v2"; dialect: V2Dialect };

/** What a provider's line says besides its key; `T` a task type name of the catalogue. */
export interface ProviderFields<T extends string = string> {
  /** `[a-z0-9][a-z0-9_-]{0,31}`, unique: metric label, check key (`NAME_api`), journal field. */
  name: string;
  /** Base URL ending in `/` (in.php or createTask below it). */
  url: URL;
  /** A thread plan's thread count: at most this many in flight, no cost per solve. Undefined: paid per solve. */
  threads: number | undefined;
  /** USD per 1000 solves of a type without its own price; undefined on a thread plan (or when every type it takes has one). */
  price: number | undefined;
  /** USD per 1000 solves of the types priced on their own (`price.TYPE=`). */
  typePrices: Readonly<Partial<Record<T, number>>>;
  /** How long a task waits for the providers before this one before it may come here (meaningless on the first). */
  afterMs: number;
  /** USD this replica may spend on it per UTC day; undefined: no cap. */
  dailyBudgetUsd: number | undefined;
  /** The types it may take; undefined: every type of the catalogue. */
  types: readonly T[] | undefined;
}

/** One line of the file, parsed: the key not read yet. */
export type ProviderLine<T extends string = string> = ProviderApi & ProviderFields<T> & {
  /** Absolute path of the key file (a relative one resolved, see resolveKeyFile). */
  keyFile: string;
  /** 1-based line number, for messages. */
  line: number;
};

export const DEFAULT_AFTER_MS = 5000;
export const MAX_PROVIDERS = 32;
export const FORMAT = "NAME PROTOCOL URL key-file=PATH [dialect=D] [threads=N] [price=USD_PER_1000] [price.TYPE=USD_PER_1000 ...] [after=DUR] [daily-budget=USD] [types=TYPE,...]";

const NAME = /^[a-z0-9][a-z0-9_-]{0,31}$/;
/** A field or type name echoed in a message: short enough that it is no key (2captcha's and CaptchaAI's are 32 characters). */
const ECHOABLE = /^[a-z][a-z0-9._-]{0,23}$/;
const FIELDS = ["key-file", "dialect", "threads", "price", "after", "daily-budget", "types"] as const;
type Field = (typeof FIELDS)[number];

const THREADS = v.integer(1, 1000);
const PRICE = v.decimal(0, 1000, "USD per 1000 solves");
const BUDGET = v.decimal(0, 1_000_000, "USD");
const AFTER = v.duration(0, 3_600_000);

export interface ParseProvidersOptions<T extends string> {
  /** The file's path: named in every message; a relative key-file is resolved against its directory. */
  path: string;
  /** The catalogue's type names (tasks/task_catalogue.ts TASK_TYPES), given by the caller: config/ does not import tasks/. */
  types: readonly T[];
  /** $CREDENTIALS_DIRECTORY: when set, a relative key-file names a systemd credential in it. */
  credentialsDirectory: string | undefined;
}

/** The file's providers in order; throws ERR_CONFIG_INVALID naming the file, the line and the field. */
export function parseProvidersFile<T extends string>(text: string, o: ParseProvidersOptions<T>): ProviderLine<T>[] {
  const out: ProviderLine<T>[] = [];
  const lineOfName = new Map<string, number>();
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.replace(/\r$/, "");
    const text = (raw.includes("#") ? raw.replace(/(?:^|\s)#.*$/, "") : raw).trim();
    if (text === "") continue;
    const n = i + 1;
    const p = parseLine(text, n, o);
    const first = lineOfName.get(p.name);
    if (first !== undefined) throw bad(o, n, "NAME", `the name is given on line ${first} too; each provider's name is its own`);
    if (out.length === MAX_PROVIDERS) throw bad(o, n, undefined, `at most ${MAX_PROVIDERS} providers`);
    lineOfName.set(p.name, n);
    out.push(p);
  }
  if (out.length === 0) throw new WorkerError("ERR_CONFIG_INVALID", `Invalid --providers-file ${JSON.stringify(o.path)}: it names no provider; expected one a line, ${FORMAT}`, { field: "--providers-file" });
  return out;
}

/**
 * Where a key-file points: an absolute path as it is; a relative one in $CREDENTIALS_DIRECTORY when
 * systemd set it (`key-file=capsolver` with `LoadCredential=capsolver:/etc/...`), else beside the
 * providers file (a service's working directory says nothing).
 */
export function resolveKeyFile(keyFile: string, providersFile: string, credentialsDirectory: string | undefined): string {
  if (isAbsolute(keyFile)) return keyFile;
  return credentialsDirectory ? join(credentialsDirectory, keyFile) : resolve(dirname(providersFile), keyFile);
}

/** An ERR_CONFIG_INVALID naming the file, the line and (when one is at fault) the field. */
export function providersFileError(path: string, line: number, field: string | undefined, why: string): WorkerError {
  const where = field === undefined ? `line ${line}` : `line ${line}, field ${field}`;
  return new WorkerError("ERR_CONFIG_INVALID", `Invalid --providers-file ${JSON.stringify(path)} ${where}: ${why}`, {
    field: "--providers-file",
    data: field === undefined ? { line } : { line, providerField: field },
  });
}

const bad = (o: { path: string }, line: number, field: string | undefined, why: string) => providersFileError(o.path, line, field, why);

function parseLine<T extends string>(text: string, n: number, o: ParseProvidersOptions<T>): ProviderLine<T> {
  const words = text.split(/\s+/);
  const [name, protocol, url] = words;
  // A FIELD=VALUE where NAME, PROTOCOL or URL belongs: that one is missing (a URL holds no `=` but in a query, refused anyway).
  const positional = (["NAME", "PROTOCOL", "URL"] as const).find((_, i) => words[i] === undefined || (words[i]!.includes("=") && !words[i]!.includes("://")));
  if (positional) throw bad(o, n, positional, `missing; expected ${FORMAT}`);
  if (!NAME.test(name!)) throw bad(o, n, "NAME", "expected 1 to 32 of a-z, 0-9, _ and -, starting with a letter or digit");
  if (protocol !== "legacy" && protocol !== "v2") throw bad(o, n, "PROTOCOL", "expected legacy (in.php/res.php) or v2 (createTask/getTaskResult)");
  const baseUrl = parseValue(o, n, "URL", v.baseUrl, url ?? "");
  const given = new Map<string, string>();
  for (let w = 3; w < words.length; w++) {
    const word = words[w]!;
    const eq = word.indexOf("=");
    if (eq < 1) throw bad(o, n, undefined, `word ${w + 1} is not FIELD=VALUE; expected ${FORMAT}`);
    const field = word.slice(0, eq);
    if (!isKnownField(field, o.types)) throw unknownField(o, n, field, w + 1);
    if (given.has(field)) throw bad(o, n, field, "given twice");
    given.set(field, word.slice(eq + 1));
  }
  const get = (f: Field) => given.get(f);
  const keyFile = get("key-file");
  if (keyFile === undefined) throw bad(o, n, "key-file", "missing: each provider's key is read from a file (key-file=PATH)");
  if (keyFile === "" || keyFile.includes("\0")) throw bad(o, n, "key-file", "expected a file path");

  const threads = get("threads") === undefined ? undefined : parseValue(o, n, "threads", THREADS, get("threads")!);
  const price = get("price") === undefined ? undefined : parseValue(o, n, "price", PRICE, get("price")!);
  const typePrices: Partial<Record<T, number>> = {};
  for (const [field, raw] of given) if (field.startsWith("price.")) typePrices[field.slice(6) as T] = parseValue(o, n, field, PRICE, raw);
  const perSolve = price !== undefined || Object.keys(typePrices).length > 0;
  if (threads === undefined && !perSolve) {
    throw bad(o, n, "threads", "a provider is a thread plan (threads=N) or paid per solve (price=USD_PER_1000); give one of them");
  }
  if (threads !== undefined && perSolve) {
    throw bad(o, n, price !== undefined ? "price" : "price.TYPE", "a thread plan (threads=) costs nothing per solve; give threads= or a price, not both");
  }
  const budgetRaw = get("daily-budget");
  if (budgetRaw !== undefined && threads !== undefined) throw bad(o, n, "daily-budget", "a thread plan spends nothing per solve; daily-budget= needs price=");
  const dailyBudgetUsd = budgetRaw === undefined ? undefined : parseValue(o, n, "daily-budget", BUDGET, budgetRaw);
  const afterMs = get("after") === undefined ? DEFAULT_AFTER_MS : parseValue(o, n, "after", AFTER, get("after")!);
  const types = get("types") === undefined ? undefined : parseTypes(o, n, get("types")!);
  checkTypePrices(o, n, { price, typePrices, types });

  const api = parseDialect(o, n, protocol, get("dialect"), threads !== undefined);
  return {
    ...api,
    name: name!,
    url: baseUrl,
    threads,
    price,
    typePrices,
    afterMs,
    dailyBudgetUsd,
    types,
    keyFile: resolveKeyFile(keyFile, o.path, o.credentialsDirectory),
    line: n,
  };
}

function isKnownField(field: string, types: readonly string[]): boolean {
  if ((FIELDS as readonly string[]).includes(field)) return true;
  return field.startsWith("price.") && types.includes(field.slice(6));
}

function unknownField(o: { path: string; types: readonly string[] }, n: number, field: string, word: number): WorkerError {
  if (field.startsWith("price.")) {
    const type = field.slice(6);
    const named = ECHOABLE.test(type) ? `price.${type}` : "price.TYPE";
    return bad(o, n, named, `expected price.TYPE with TYPE a task type (${o.types.join(", ")})${ECHOABLE.test(type) ? didYouMean(type, o.types) : ""}`);
  }
  const known = [...FIELDS, "price.TYPE"];
  if (!ECHOABLE.test(field)) return bad(o, n, undefined, `word ${word} is an unknown field; expected one of ${known.join(", ")}`);
  return bad(o, n, field, `unknown; expected one of ${known.join(", ")}${didYouMean(field, known)}`);
}

function parseValue<T>(o: { path: string }, n: number, field: string, kind: v.Value<T>, raw: string): T {
  try {
    return kind.parse(raw);
  } catch (err) {
    if (!(err instanceof v.BadValue)) throw err;
    throw bad(o, n, field, `expected ${kind.allowed}`);
  }
}

function parseTypes<T extends string>(o: ParseProvidersOptions<T>, n: number, raw: string): T[] {
  const out: T[] = [];
  const list = raw.split(",");
  for (const t of list) {
    if (!(o.types as readonly string[]).includes(t)) {
      const which = ECHOABLE.test(t) ? `${t} is not a task type${didYouMean(t, o.types)}` : "not every name is a task type";
      throw bad(o, n, "types", `${which}; expected a comma list of ${o.types.join(", ")}`);
    }
    if (out.includes(t as T)) throw bad(o, n, "types", `${t} is listed twice`);
    out.push(t as T);
  }
  return out;
}

/** A price.TYPE for a type the provider does not take is a slip; a per-solve provider needs a price for every type it takes. */
function checkTypePrices<T extends string>(
  o: ParseProvidersOptions<T>,
  n: number,
  p: { price: number | undefined; typePrices: Partial<Record<T, number>>; types: readonly T[] | undefined },
): void {
  const priced = Object.keys(p.typePrices) as T[];
  const stray = p.types === undefined ? undefined : priced.find((t) => !p.types!.includes(t));
  if (stray !== undefined) throw bad(o, n, `price.${stray}`, `the provider does not take ${stray} (types=)`);
  if (p.price !== undefined || priced.length === 0) return;
  const unpriced = (p.types ?? o.types).filter((t) => p.typePrices[t] === undefined);
  if (unpriced.length > 0) {
    throw bad(o, n, "price", `no price for ${unpriced.join(", ")}: give price= for every type without its own price.TYPE, or list only priced types in types=`);
  }
}

function parseDialect(o: { path: string }, n: number, protocol: ProviderProtocol, raw: string | undefined, plan: boolean): ProviderApi {
  if (protocol === "legacy") {
    if (raw === undefined) return { protocol, dialect: plan ? "captchaai" : "2captcha" };
    if (!(LEGACY_DIALECTS as readonly string[]).includes(raw)) throw bad(o, n, "dialect", `expected ${LEGACY_DIALECTS.join(" or ")} for a legacy provider`);
    return { protocol, dialect: raw as LegacyDialect };
  }
  if (raw === undefined) return { protocol, dialect: "anticaptcha" };
  if (!(V2_DIALECTS as readonly string[]).includes(raw)) throw bad(o, n, "dialect", `expected ${V2_DIALECTS.slice(0, -1).join(", ")} or ${V2_DIALECTS.at(-1)} for a v2 provider`);
  return { protocol, dialect: raw as V2Dialect };
}
