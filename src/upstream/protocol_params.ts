/**
 * The protocol's parameters from wherever a client puts them, as the real service accepts them:
 * query string, application/x-www-form-urlencoded, multipart/form-data (a `file` part becomes
 * base64) and JSON bodies, with or without a JSON content type. Body values win over the query.
 */

export type Params = Map<string, string>;

/** Merges the query and the parsed body; never throws (a body it cannot read adds nothing). */
export function readParams(url: URL, contentType: string, body: Buffer): Params {
  const params: Params = new Map();
  for (const [k, v] of url.searchParams) params.set(k, v);
  try {
    for (const [k, v] of parseBody(contentType, body)) params.set(k, v);
  } catch {
    // a malformed body is answered by the missing-parameter codes
  }
  return params;
}

function parseBody(contentType: string, body: Buffer): Iterable<[string, string]> {
  if (body.length === 0) return [];
  const type = contentType.split(";")[0]!.trim().toLowerCase();
  if (type === "multipart/form-data") {
    const boundary = /boundary="?([^";]+)"?/i.exec(contentType)?.[1];
    return boundary ? parseMultipart(body, boundary) : [];
  }
  const text = body.toString("utf8");
  if (type === "application/json" || text.trimStart().startsWith("{")) return parseJson(text);
  return new URLSearchParams(text);
}

function parseJson(text: string): [string, string][] {
  const value: unknown = JSON.parse(text);
  if (typeof value !== "object" || value === null || Array.isArray(value)) return [];
  const out: [string, string][] = [];
  for (const [k, v] of Object.entries(value)) {
    if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") out.push([k, typeof v === "boolean" ? (v ? "1" : "0") : String(v)]);
  }
  return out;
}

/** A minimal RFC 7578 reader: part headers, a name, and a filename meaning a file (sent on as base64). */
export function parseMultipart(body: Buffer, boundary: string): [string, string][] {
  const out: [string, string][] = [];
  const delimiter = Buffer.from(`--${boundary}`);
  let pos = body.indexOf(delimiter);
  while (pos >= 0) {
    let start = pos + delimiter.length;
    if (body[start] === 0x2d && body[start + 1] === 0x2d) break; // closing delimiter
    if (body[start] === 0x0d && body[start + 1] === 0x0a) start += 2;
    const next = body.indexOf(delimiter, start);
    if (next < 0) break;
    const part = body.subarray(start, next - 2 >= start ? next - 2 : next); // drop the CRLF before the delimiter
    const split = part.indexOf("\r\n\r\n");
    if (split >= 0) {
      const headers = part.subarray(0, split).toString("utf8");
      const content = part.subarray(split + 4);
      const name = /name="([^"]*)"/i.exec(headers)?.[1];
      const isFile = /filename="/i.test(headers);
      if (name !== undefined) out.push([name, isFile ? content.toString("base64") : content.toString("utf8")]);
    }
    pos = next;
  }
  return out;
}
