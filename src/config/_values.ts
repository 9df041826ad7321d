/**
 * Value kinds for the option tables: each knows how to parse a value and says, once, what it allows
 * (for --help and error messages). A parse throws BadValue, which parse_config turns into an error
 * naming the flag and quoting `allowed`.
 */
import { parseDurationMs, parseKindDurations, formatDuration, type KindDurations } from "./duration.ts";
import { parseHostPort } from "./host_port.ts";
import type { Config, HostPort } from "./config.ts";

/**
 * A value outside what its option allows: the kind's `allowed` says what would do. `hint`, when the
 * mistake is a common one, says what the value was probably meant to be (`:8080` for `8080`).
 */
export class BadValue extends Error {
  constructor(readonly hint?: string) {
    super(hint);
  }
}

/** A kind of value: its parser, what it allows in words, and its placeholder in --help (`HOST:PORT`). */
export interface Value<T> {
  parse(raw: string): T;
  allowed: string;
  placeholder: string;
}

const kind = <T>(allowed: string, parse: (raw: string) => T, placeholder = "VALUE"): Value<T> => ({ allowed, parse, placeholder });

export function duration(minMs: number, maxMs: number): Value<number> {
  return kind(`a duration from ${formatDuration(minMs)} to ${formatDuration(maxMs)} (500ms, 30s, 10m, 1h or bare seconds)`, (raw) => {
    const ms = parseDurationMs(raw);
    if (ms === undefined || ms < minMs || ms > maxMs) throw new BadValue();
    return ms;
  }, "DUR");
}

export function kindDurations(maxMs: number, defaults: KindDurations): Value<KindDurations> {
  return kind(`one duration, or image=DUR,token=DUR (each 0s to ${formatDuration(maxMs)})`, (raw) => {
    const d = parseKindDurations(raw, maxMs, defaults);
    if (!d) throw new BadValue();
    return d;
  }, "DUR");
}

/** Digits only (no sign, exponent or 0x), from `min` to `max`. */
export function integer(min: number, max: number): Value<number> {
  return kind(`a whole number from ${min} to ${max}`, (raw) => {
    if (!/^\d+$/.test(raw.trim())) throw new BadValue();
    const n = Number(raw.trim());
    if (!Number.isSafeInteger(n) || n < min || n > max) throw new BadValue();
    return n;
  }, "N");
}

/** A decimal number (digits, an optional fraction; no sign, exponent or 0x), from `min` to `max`. */
export function decimal(min: number, max: number, what = "a number"): Value<number> {
  return kind(`${what} from ${min} to ${max}`, (raw) => {
    if (!/^\d+(?:\.\d+)?$/.test(raw.trim())) throw new BadValue();
    const n = Number(raw.trim());
    if (!Number.isFinite(n) || n < min || n > max) throw new BadValue();
    return n;
  }, "N");
}

export const hostPort: Value<HostPort> = kind("host:port, [ipv6]:port or :port (port 0-65535)", (raw) => {
  const hp = parseHostPort(raw);
  if (!hp) throw new BadValue(barePortHint(raw));
  return hp;
}, "HOST:PORT");

/** For a bare port (`8080`): the addresses it was likely meant as, every interface or this host only. */
function barePortHint(raw: string): string | undefined {
  const port = raw.trim();
  if (!/^\d{1,5}$/.test(port) || Number(port) > 65535) return undefined;
  const n = Number(port);
  return `a bare port: did you mean ":${n}" (every interface, as 0.0.0.0:${n}) or "127.0.0.1:${n}" (this host only)?`;
}

/** An http(s) base URL without credentials, query or fragment, ending in `/`. */
export const baseUrl: Value<URL> = kind("an http:// or https:// base URL without credentials, query or fragment", (raw) => {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new BadValue();
  }
  if ((url.protocol !== "http:" && url.protocol !== "https:") || url.username || url.password || url.search || url.hash) {
    throw new BadValue();
  }
  if (!url.pathname.endsWith("/")) url.pathname += "/";
  return url;
}, "URL");

/** Any http(s) URL (probe's and status's --url). */
export const httpUrl: Value<URL> = kind("an http:// or https:// URL", (raw) => {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new BadValue();
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new BadValue();
  return url;
}, "URL");

export function oneOf<T extends string>(values: readonly T[]): Value<T> {
  const words = values.length < 2 ? values.join("") : `${values.slice(0, -1).join(", ")} or ${values.at(-1)}`;
  return kind(words, (raw) => {
    const v = raw.trim() as T;
    if (!values.includes(v)) throw new BadValue();
    return v;
  }, values.join("|"));
}

export function path(what: "file" | "directory"): Value<string> {
  return kind(`a ${what} path`, (raw) => {
    if (raw.trim() === "" || raw.includes("\0")) throw new BadValue();
    return raw;
  }, what === "file" ? "FILE" : "DIR");
}

export const boolean: Value<boolean> = kind("true or false (1/0, yes/no)", (raw) => {
  const v = raw.trim().toLowerCase();
  if (["1", "true", "yes", "on"].includes(v)) return true;
  if (["0", "false", "no", "off", ""].includes(v)) return false;
  throw new BadValue();
});

/** `fair` (the default) or `image=N,token=N` (both, each 1 to 1000). */
export const bulkhead: Value<Config["bulkhead"]> = kind("fair, or image=N,token=N (each 1 to 1000)", (raw) => {
  if (raw.trim() === "fair") return undefined;
  const out: Record<string, number> = {};
  for (const part of raw.split(",")) {
    const [k, value, ...rest] = part.split("=").map((x) => x.trim());
    if (rest.length > 0 || value === undefined || (k !== "image" && k !== "token") || k in out) throw new BadValue();
    out[k] = integer(1, 1000).parse(value);
  }
  if (out.image === undefined || out.token === undefined) throw new BadValue();
  return { image: out.image, token: out.token };
}, "SPLIT");

/** A simulator key: 32 printable characters, as long as a CaptchaAI key (any other length is ERROR_WRONG_USER_KEY there). */
export const simKey: Value<string> = kind("32 printable characters (a CaptchaAI key's length)", (raw) => {
  if (!/^[\x21-\x7e]{32}$/.test(raw)) throw new BadValue();
  return raw;
}, "KEY");

/** simulate's --unsupported: comma-separated in.php method names (lower case, digits, _); empty: none. */
export const methodList: Value<string[]> = kind("comma-separated method names such as geetest,lemin", (raw) => {
  const names = raw.split(",").map((m) => m.trim()).filter((m) => m !== "");
  for (const m of names) if (!/^[a-z0-9_]{1,64}$/.test(m)) throw new BadValue();
  return names;
}, "METHODS");

/** --callback-allow: comma-separated host names or IP literals (lower-cased); empty: none. */
export const hostList: Value<string[]> = kind("comma-separated host names or IP addresses", (raw) => {
  const hosts = raw.split(",").map((h) => h.trim().toLowerCase()).filter((h) => h !== "");
  for (const h of hosts) if (!/^(?:[a-z0-9-]{1,63}\.)*[a-z0-9-]{1,63}$|^[0-9a-f:.]{2,45}$/.test(h)) throw new BadValue();
  return hosts;
}, "HOSTS");

const SIZE_UNITS: Record<string, number> = { "": 1, b: 1, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3, kb: 1000, mb: 1000 ** 2, gb: 1000 ** 3 };

/** A size in bytes: bare bytes or a number with KiB, MiB, GiB (or KB, MB, GB), case-insensitive. */
export function size(min: number, max: number): Value<number> {
  return kind(`a size from ${formatSize(min)} to ${formatSize(max)} (bytes, or with KiB, MiB, GiB, KB, MB, GB)`, (raw) => {
    const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(raw.trim());
    const unit = m ? SIZE_UNITS[m[2]!.toLowerCase()] : undefined;
    if (!m || unit === undefined) throw new BadValue();
    const n = Math.floor(Number(m[1]) * unit);
    if (!Number.isSafeInteger(n) || n < min || n > max) throw new BadValue();
    return n;
  }, "SIZE");
}

function formatSize(bytes: number): string {
  for (const [unit, n] of [["GiB", 1024 ** 3], ["MiB", 1024 ** 2], ["KiB", 1024]] as const) if (bytes % n === 0 && bytes >= n) return `${bytes / n}${unit}`;
  return `${bytes} bytes`;
}

/** --peers: `N=URL,...` (node number 0-1023 = an http(s) base URL), each number once; empty: no peers. */
export const peers: Value<Config["peers"]> = kind("N=URL,... (node 0-1023 = http(s) base URL, this node included)", (raw) => {
  const out: Config["peers"] = [];
  for (const part of raw.split(",").map((x) => x.trim()).filter((x) => x !== "")) {
    const eq = part.indexOf("=");
    if (eq < 1) throw new BadValue();
    const node = integer(0, 1023).parse(part.slice(0, eq));
    if (out.some((p) => p.node === node)) throw new BadValue();
    out.push({ node, url: baseUrl.parse(part.slice(eq + 1)) });
  }
  return out;
}, "N=URL,...");
