/** A tiny node:http server on port 0 that answers with a script and records every request (method, URL, body). */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

export interface Recorded {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  body: string;
}

export interface ScriptedUpstream {
  url: URL;
  requests: Recorded[];
  /** TCP connections accepted so far. */
  connections(): number;
  /** Replace the answer for the next requests. */
  answer: (handler: (req: Recorded, res: ServerResponse) => void) => void;
  close(): Promise<void>;
}

export async function startScriptedUpstream(): Promise<ScriptedUpstream> {
  let handler: (req: Recorded, res: ServerResponse) => void = (_r, res) => void res.end('{"status":1,"request":"1"}');
  const requests: Recorded[] = [];
  const sockets = new Set<Socket>();
  let connections = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const rec = { method: req.method ?? "", url: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks).toString("utf8") };
      requests.push(rec);
      handler(rec, res);
    });
  });
  server.on("connection", (s: Socket) => {
    sockets.add(s);
    connections++;
    s.once("close", () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    url: new URL(`http://127.0.0.1:${port}/`),
    requests,
    connections: () => connections,
    answer: (h) => void (handler = h),
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
