/** The node:http server with its limits set; one router, errors never escape a request. */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { HostPort } from "../config/config.ts";
import type { Logger } from "../base/log.ts";
import { rawProblemResponse } from "./problem.ts";
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
  const headersTimeout = options.headersTimeoutMs ?? 10_000;
  const server = createServer(
    {
      headersTimeout,
      requestTimeout: options.requestTimeoutMs ?? 30_000,
      // Node checks both timeouts only this often (30 s by default), which would let a slowloris
      // hold a connection up to 30 s past headersTimeout.
      connectionsCheckingInterval: Math.max(50, Math.min(1_000, headersTimeout / 4)),
      keepAliveTimeout: options.keepAliveTimeoutMs ?? 5_000,
      maxHeaderSize: options.maxHeaderSize ?? 16_384,
    },
    (req, res) => router.handle(req, res, log),
  );
  server.maxConnections = options.maxConnections ?? 10_000;
  server.on("clientError", (err: NodeJS.ErrnoException, socket) => {
    if (socket.writable && !socket.destroyed) {
      // The parser failed, so no request object says HEAD; the bytes it choked on may.
      const head = (err as { rawPacket?: Buffer }).rawPacket?.subarray(0, 5).toString("latin1") === "HEAD ";
      const answer =
        err.code === "HPE_HEADER_OVERFLOW"
          ? rawProblemResponse("ERR_HEADERS_TOO_LARGE", "The request line and headers are over the limit.", head)
          : err.code === "ERR_HTTP_REQUEST_TIMEOUT"
            ? rawProblemResponse("ERR_TIMEOUT", "The request did not arrive in time.", head)
            : rawProblemResponse("ERR_BAD_REQUEST", "The request is not valid HTTP/1.1.", head);
      // Destroy once written: the server socket is half-open, so `end` alone would let a client
      // that ignores the FIN keep the connection.
      socket.end(answer, () => socket.destroy());
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
