/** The simulator's fault injection: per-endpoint faults (or one for all), checked and kept valid. */

import { ENDPOINTS } from "../upstream/endpoints.ts";

export const SELECTORS = [...ENDPOINTS, "all"] as const;
export type Selector = (typeof SELECTORS)[number];

export interface Fault {
  /** Delay before answering. */
  latencyMs?: number;
  /** Never answer (until the fault is cleared or the simulator closes). */
  hang?: boolean;
  /** Answer with this HTTP status and a short text body. */
  status?: number;
  /** Answer with an nginx-style HTML error page (with `status`, or 200). */
  html?: boolean;
  /** Answer 200 with random bytes. */
  garbage?: boolean;
  /** Destroy the connection without an answer. */
  drop?: boolean;
  /** Answer this protocol error code (e.g. ERROR_NO_SLOT_AVAILABLE). */
  error?: string;
}

/** Reads a fault from JSON as the control API receives it (snake_case accepted); throws a message on bad input. */
export function parseFault(input: Record<string, unknown>): Fault {
  const f: Fault = {};
  const latency = input.latency_ms ?? input.latencyMs;
  if (latency !== undefined) {
    if (typeof latency !== "number" || !Number.isFinite(latency) || latency < 0 || latency > 600_000) throw new Error("latency_ms: 0 to 600000");
    f.latencyMs = latency;
  }
  for (const flag of ["hang", "html", "garbage", "drop"] as const) {
    if (input[flag] === undefined) continue;
    if (typeof input[flag] !== "boolean") throw new Error(`${flag}: true or false`);
    f[flag] = input[flag] as boolean;
  }
  if (input.status !== undefined) {
    if (typeof input.status !== "number" || !Number.isInteger(input.status) || input.status < 200 || input.status > 599) throw new Error("status: 200 to 599");
    f.status = input.status;
  }
  if (input.error !== undefined) {
    if (typeof input.error !== "string" || !/^[A-Z0-9_: ]{3,64}$/.test(input.error)) throw new Error("error: an upstream code such as ERROR_ZERO_BALANCE");
    f.error = input.error;
  }
  return f;
}

export function isSelector(s: unknown): s is Selector {
  return typeof s === "string" && (SELECTORS as readonly string[]).includes(s);
}

export const HTML_PAGE = (status: number) =>
  `<html>\r\n<head><title>${status} Bad Gateway</title></head>\r\n<body>\r\n<center><h1>${status} Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n`;
