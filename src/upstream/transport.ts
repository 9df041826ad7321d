/**
 * How the protocol client puts one form POST on the wire. The default rides node:http(s) with a
 * keep-alive agent: against the simulator it costs about half of what `fetch` costs per call in
 * CPU and allocation (see README, Performance). A `fetch` (the global one, or another) can be
 * injected instead and gets the same treatment: the same cap on the body, the same errors.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";

export interface TransportResponse {
  status: number;
  contentType: string;
  /** The body as text, or undefined when it is longer than the cap (the rest is not read). */
  body: string | undefined;
}

/** POSTs `form` (urlencoded) to `url`; rejects on network errors and aborts, never on a status. */
export type Transport = (url: URL, form: string, signal: AbortSignal, maxBodyBytes: number) => Promise<TransportResponse>;

const HEADERS = { "content-type": "application/x-www-form-urlencoded", accept: "application/json, text/plain" };

/** node:http(s) with keep-alive connections, shared by every call of one client. */
export function nodeHttpTransport(): Transport & { close(): void } {
  const agents = { http: new HttpAgent({ keepAlive: true, scheduling: "lifo" }), https: new HttpsAgent({ keepAlive: true, scheduling: "lifo" }) };
  const transport = (url: URL, form: string, signal: AbortSignal, maxBodyBytes: number) =>
    new Promise<TransportResponse>((resolve, reject) => {
      const secure = url.protocol === "https:";
      const send = secure ? httpsRequest : httpRequest;
      const req = send(url, {
        method: "POST",
        agent: secure ? agents.https : agents.http,
        headers: { ...HEADERS, "content-length": Buffer.byteLength(form) },
        signal,
      });
      req.on("error", reject);
      req.on("response", (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (chunk: Buffer) => {
          size += chunk.length;
          if (size > maxBodyBytes) {
            res.destroy();
            resolve({ status: res.statusCode ?? 0, contentType: String(res.headers["content-type"] ?? ""), body: undefined });
            return;
          }
          chunks.push(chunk);
        });
        res.on("error", reject);
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, contentType: String(res.headers["content-type"] ?? ""), body: Buffer.concat(chunks, size).toString("utf8") }),
        );
      });
      req.end(form);
    });
  return Object.assign(transport, {
    close() {
      agents.http.destroy();
      agents.https.destroy();
    },
  });
}

/** The same contract over a `fetch` implementation (no redirects followed). */
export function fetchTransport(doFetch: typeof fetch): Transport {
  return async (url, form, signal, maxBodyBytes) => {
    const res = await doFetch(url, { method: "POST", headers: HEADERS, body: form, signal, redirect: "error" });
    return { status: res.status, contentType: res.headers.get("content-type") ?? "", body: await readCapped(res, maxBodyBytes) };
  };
}

async function readCapped(res: Response, max: number): Promise<string | undefined> {
  if (!res.body) return "";
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => {});
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, size).toString("utf8");
}
