/** The node:http server with its limits set; one router, errors never escape a request. */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { HostPort } from "../config.ts";
import type { Logger } from "../log.ts";
import type { Router } from "./router.ts";

export interface HttpServerOptions {
  /** @default 10_000 — slowloris: headers must arrive within this. */
  headersTimeoutMs?: number;
  /** @default 30_000 — the whole request (headers and body). */
  requestTimeoutMs?: number;
  /** @default 5_000 */
  keepAliveTimeoutMs?: number;
  /** @default 16_384 */
  maxHeaderSize?: number;
  /** @default 10_000 */
  maxConnections?: number;
}

export interface HttpServer {
  server: Server;
  /** The bound address (the real port when asked for port 0). */
  address: HostPort;
  /** Stops accepting, ends idle keep-alive connections, waits for in-flight requests. */
  close(): Promise<void>;
}

/** Starts listening on `listen`; rejects with the OS error (EADDRINUSE, EACCES) if it cannot. */
export async function startHttpServer(
  listen: HostPort,
  router: Router,
  log: Logger,
  options: HttpServerOptions = {},
): Promise<HttpServer> {
  const server = createServer(
    {
      headersTimeout: options.headersTimeoutMs ?? 10_000,
      requestTimeout: options.requestTimeoutMs ?? 30_000,
      keepAliveTimeout: options.keepAliveTimeoutMs ?? 5_000,
      maxHeaderSize: options.maxHeaderSize ?? 16_384,
    },
    (req, res) => router.handle(req, res, log),
  );
  server.maxConnections = options.maxConnections ?? 10_000;
  server.on("clientError", (err: NodeJS.ErrnoException, socket) => {
    if (socket.writable && !socket.destroyed) {
      const status = err.code === "HPE_HEADER_OVERFLOW" ? "431 Request Header Fields Too Large" : "400 Bad Request";
      socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
    } else socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(listen.port, listen.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const info = server.address() as AddressInfo;
  return {
    server,
    address: { host: info.address, port: info.port },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
