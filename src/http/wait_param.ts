/**
 * The wait a read asks for (docs/task-api.md): `?wait=N`, this API's own parameter, or RFC 7240's
 * `Prefer: wait=N`, in whole seconds. The one parser: the task routes read the wait here and hand
 * it to the cluster's router with a read they forward, so the forward's bound is the same wait.
 */
import type { IncomingMessage } from "node:http";
import { WorkerError } from "../base/errors.ts";

/** The longest wait honoured; RFC 7240 §4.3 lets a server honour less than asked. */
export const MAX_WAIT_S = 120;

export type WaitAsked =
  | { kind: "none" }
  | { kind: "wait"; seconds: number }
  /** A `?wait=` that is not whole seconds from 0 to MAX_WAIT_S. */
  | { kind: "invalid" };

const WHOLE_SECONDS = /^\d{1,6}$/;

/** What `?wait=` (in `query`) and `Prefer: wait` (the header's value) ask for; the query parameter wins when both are given. */
export function readWait(query: URLSearchParams, prefer: string | undefined): WaitAsked {
  const fromQuery = query.get("wait");
  let fromPrefer = /(?:^|[,;\s])wait\s*=\s*"?([^",;\s]*)/i.exec(prefer ?? "")?.[1];
  // RFC 7240 §2: a preference value the server does not understand (wait=abc) is ignored, not an error.
  if (fromPrefer !== undefined && !WHOLE_SECONDS.test(fromPrefer)) fromPrefer = undefined;
  const raw = fromQuery ?? fromPrefer;
  if (raw === undefined) return { kind: "none" };
  if (!WHOLE_SECONDS.test(raw)) return { kind: "invalid" };
  const n = Number(raw);
  // Prefer is honoured up to the cap; a query value over it is the caller's mistake.
  if (fromQuery !== null && n > MAX_WAIT_S) return { kind: "invalid" };
  return { kind: "wait", seconds: Math.min(n, MAX_WAIT_S) };
}

/** The wait in seconds, undefined when none is asked; a bad `?wait=` is a 400 naming `wait`. */
export function waitSeconds(req: IncomingMessage, url: URL): number | undefined {
  const w = readWait(url.searchParams, String(req.headers.prefer ?? ""));
  if (w.kind === "invalid") throw new WorkerError("ERR_BAD_REQUEST", `Invalid wait: expected whole seconds from 0 to ${MAX_WAIT_S}.`, { field: "wait" });
  return w.kind === "wait" ? w.seconds : undefined;
}
