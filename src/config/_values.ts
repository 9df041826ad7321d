/** Value parsers for the option tables: each throws BadValue, which parse_config turns into an error naming the flag. */
import { parseDurationMs, parseKindDurations, formatDuration, type KindDurations } from "./duration.ts";
import { parseHostPort } from "./host_port.ts";
import type { Config, HostPort } from "./config.ts";

/** A value outside what its option allows; carries no text: the option's `allowed` says it. */
export class BadValue extends Error {}

export function duration(minMs: number, maxMs: number) {
  return (raw: string): number => {
    const ms = parseDurationMs(raw);
    if (ms === undefined || ms < minMs || ms > maxMs) throw new BadValue();
    return ms;
  };
}

export function durationAllowed(minMs: number, maxMs: number): string {
  return `a duration from ${formatDuration(minMs)} to ${formatDuration(maxMs)} (500ms, 30s, 10m, 1h or bare seconds)`;
}

export function kindDurations(maxMs: number, defaults: KindDurations) {
  return (raw: string): KindDurations => {
    const d = parseKindDurations(raw, maxMs, defaults);
    if (!d) throw new BadValue();
    return d;
  };
}

export function integer(min: number, max: number) {
  return (raw: string): number => {
    if (!/^\d+$/.test(raw.trim())) throw new BadValue();
    const n = Number(raw.trim());
    if (!Number.isSafeInteger(n) || n < min || n > max) throw new BadValue();
    return n;
  };
}

export function decimal(min: number, max: number) {
  return (raw: string): number => {
    if (!/^\d+(?:\.\d+)?$/.test(raw.trim())) throw new BadValue();
    const n = Number(raw.trim());
    if (!Number.isFinite(n) || n < min || n > max) throw new BadValue();
    return n;
  };
}

export function hostPort(raw: string): HostPort {
  const hp = parseHostPort(raw);
  if (!hp) throw new BadValue();
  return hp;
}

/** An http(s) base URL without credentials, query or fragment, ending in `/`. */
export function baseUrl(raw: string): URL {
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
}

/** Any http(s) URL (probe's and status's --url). */
export function httpUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new BadValue();
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new BadValue();
  return url;
}

export function oneOf<T extends string>(values: readonly T[]) {
  return (raw: string): T => {
    const v = raw.trim() as T;
    if (!values.includes(v)) throw new BadValue();
    return v;
  };
}

export function path(raw: string): string {
  if (raw.trim() === "" || raw.includes("\0")) throw new BadValue();
  return raw;
}

export function boolean(raw: string): boolean {
  const v = raw.trim().toLowerCase();
  if (["1", "true", "yes", "on"].includes(v)) return true;
  if (["0", "false", "no", "off", ""].includes(v)) return false;
  throw new BadValue();
}

/** `fair` (the default) or `image=N,token=N` (both, each 1 to 1000). */
export function bulkhead(raw: string): Config["bulkhead"] {
  if (raw.trim() === "fair") return undefined;
  const out: Record<string, number> = {};
  for (const part of raw.split(",")) {
    const [kind, value, ...rest] = part.split("=").map((x) => x.trim());
    if (rest.length > 0 || value === undefined || (kind !== "image" && kind !== "token") || kind in out) throw new BadValue();
    out[kind] = integer(1, 1000)(value);
  }
  if (out.image === undefined || out.token === undefined) throw new BadValue();
  return { image: out.image, token: out.token };
}

/** A simulator key: 1 to 256 printable characters. */
export function simKey(raw: string): string {
  if (!/^[\x21-\x7e]{1,256}$/.test(raw)) throw new BadValue();
  return raw;
}

/** A plain number (simulate's --balance, --price); `integer` for whole ones. */
export function number(min: number, max: number, whole = false) {
  return (raw: string): number => {
    const n = Number(raw);
    if (raw.trim() === "" || !Number.isFinite(n) || n < min || n > max || (whole && !Number.isInteger(n))) throw new BadValue();
    return n;
  };
}

/** --callback-allow: comma-separated host names or IP literals (lower-cased); empty: none. */
export function hostList(raw: string): string[] {
  const hosts = raw.split(",").map((h) => h.trim().toLowerCase()).filter((h) => h !== "");
  for (const h of hosts) if (!/^(?:[a-z0-9-]{1,63}\.)*[a-z0-9-]{1,63}$|^[0-9a-f:.]{2,45}$/.test(h)) throw new BadValue();
  return hosts;
}

const SIZE_UNITS: Record<string, number> = { "": 1, b: 1, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3, kb: 1000, mb: 1000 ** 2, gb: 1000 ** 3 };

/** A size in bytes: bare bytes or a number with KiB, MiB, GiB (or KB, MB, GB), case-insensitive. */
export function size(min: number, max: number) {
  return (raw: string): number => {
    const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(raw.trim());
    const unit = m ? SIZE_UNITS[m[2]!.toLowerCase()] : undefined;
    if (!m || unit === undefined) throw new BadValue();
    const n = Math.floor(Number(m[1]) * unit);
    if (!Number.isSafeInteger(n) || n < min || n > max) throw new BadValue();
    return n;
  };
}

/** --peers: `N=URL,...` (node number 0-1023 = an http(s) base URL), each number once; empty: no peers. */
export function peers(raw: string): Config["peers"] {
  const out: Config["peers"] = [];
  for (const part of raw.split(",").map((x) => x.trim()).filter((x) => x !== "")) {
    const eq = part.indexOf("=");
    if (eq < 1) throw new BadValue();
    const node = integer(0, 1023)(part.slice(0, eq));
    if (out.some((p) => p.node === node)) throw new BadValue();
    out.push({ node, url: baseUrl(part.slice(eq + 1)) });
  }
  return out;
}
