/**
 * A JSON answer serialised once per distinct document: a probe's body changes only when its state
 * does (or a whole second of an age passes), so the bytes and the header list are reused until the
 * document differs in any field. The compare is exact (field by field, in key order), so a change
 * shows in the very next answer; only JSON.stringify, the byte count and the header object are
 * saved, never a check of the state.
 */
import type { ServerResponse } from "node:http";

export class JsonAnswer {
  readonly #contentType: string;
  #doc: unknown = undefined;
  #built = false;
  // A string, not a Buffer: node:http sends its headers and a string body in one write, but a
  // Buffer body as a writev of two (a third of a probe's CPU in a profile, most of the gap to a bare server).
  #body = "";
  #headers: string[] = [];

  constructor(contentType = "application/json") {
    this.#contentType = contentType;
  }

  /** The JSON of `doc`, rebuilt only when `doc` differs from the last document. */
  body(doc: unknown): string {
    if (!this.#built || !sameJson(doc, this.#doc)) {
      this.#body = JSON.stringify(doc);
      this.#headers = ["content-type", this.#contentType, "content-length", String(Buffer.byteLength(this.#body)), "cache-control", "no-store"];
      this.#doc = doc;
      this.#built = true;
    }
    return this.#body;
  }

  /** Sends `doc` as sendJson does (same headers, only the headers for HEAD). */
  send(res: ServerResponse, status: number, doc: unknown): void {
    const body = this.body(doc);
    res.writeHead(status, this.#headers);
    res.end(res.req.method === "HEAD" ? undefined : body);
  }
}

/** True when `a` and `b` serialise to the same JSON (plain JSON values: no toJSON, no undefined in arrays). */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameJson(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  for (let i = 0; i < ka.length; i++) {
    const k = ka[i]!;
    if (k !== kb[i] || !sameJson((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  }
  return true;
}
