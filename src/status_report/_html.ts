/** HTML helpers of the status page: escaping text and writing numbers into SVG attributes. */

/** Text or an attribute value, with every character that could end it escaped. */
export const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** A number for an SVG attribute: one decimal at most, and never NaN or Infinity (0 instead). */
export const attr = (v: number): string => (Number.isFinite(v) ? String(Math.round(v * 10) / 10) : "0");

/** A Date's range is ±8.64e15 ms (ECMA-262, Time Values and Time Range): past it there is no time to write. */
const writable = (ms: number): boolean => Number.isFinite(ms) && Math.abs(ms) <= 8.64e15;

/** "06:42" (UTC) for a clock time in ms. */
export const hhmm = (ms: number): string => (writable(ms) ? new Date(ms).toISOString().slice(11, 16) : "--:--");

/** "06:42:10" (UTC) for a clock time in ms. */
export const hhmmss = (ms: number): string => (writable(ms) ? new Date(ms).toISOString().slice(11, 19) : "--:--:--");
