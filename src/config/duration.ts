/** Durations as users write them (`500ms`, `30s`, `10m`, `1h`, bare seconds), and the per-kind form `image=5s,token=15s`. */

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses `500ms`, `30s`, `10m`, `1h` or a bare number of seconds into milliseconds; undefined when invalid. */
export function parseDurationMs(raw: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(raw.trim());
  if (!m) return undefined;
  const ms = Number(m[1]) * DURATION_UNITS[m[2] ?? "s"]!;
  return Number.isFinite(ms) ? Math.round(ms) : undefined;
}

/** Formats milliseconds the way the option table writes them (`5s`, `500ms`, `10m`). */
export function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0 && ms > 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0 && ms > 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

/** A duration per task kind: image CAPTCHAs and token CAPTCHAs wait differently (docs/upstream.md). */
export interface KindDurations {
  imageMs: number;
  tokenMs: number;
}

/**
 * Parses one duration for both kinds, or `image=DUR,token=DUR` where either part may be left at
 * `defaults`; each duration from 0 to `maxMs`. Strict: a kind named twice, an unknown kind, an
 * empty value or a stray `=` make it undefined. Used by --first-poll and simulate's --solve-time.
 */
export function parseKindDurations(raw: string, maxMs: number, defaults: KindDurations): KindDurations | undefined {
  const one = (v: string): number | undefined => {
    const ms = parseDurationMs(v);
    return ms !== undefined && ms <= maxMs ? ms : undefined;
  };
  if (!raw.includes("=")) {
    const ms = one(raw);
    return ms === undefined ? undefined : { imageMs: ms, tokenMs: ms };
  }
  const out = { ...defaults };
  const seen = new Set<string>();
  for (const part of raw.split(",")) {
    const [rawKind, value, ...rest] = part.split("=");
    const kind = rawKind!.trim();
    if (rest.length > 0 || value === undefined || seen.has(kind)) return undefined;
    seen.add(kind);
    const ms = one(value);
    if (ms === undefined) return undefined;
    if (kind === "image") out.imageMs = ms;
    else if (kind === "token") out.tokenMs = ms;
    else return undefined;
  }
  return out;
}

/** Writes per-kind durations back as `image=5s,token=15s`. */
export function formatKindDurations(d: KindDurations): string {
  return `image=${formatDuration(d.imageMs)},token=${formatDuration(d.tokenMs)}`;
}
