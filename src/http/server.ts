/** The node:http server with its limits set; one router, errors never escape a request. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { WorkerError } from "../base/errors.ts";
import { listen, type HostPort } from "../base/listen.ts";
import type { Logger } from "../base/log.ts";
import { rawProblemResponse, sendProblem } from "./problem.ts";
import type { Router } from "./router.ts";

/**
 * What one connection may make the server hold, and how many at once (docs/sizing-and-performance.md, Sizing): a
 * connection costs about 12-16 KiB (socket, parser, request objects), plus the headers it has sent
 * so far, kept until they end (Node's parser copies them out of each chunk). 4,096 x (16 + 8) KiB is
 * under 100 MiB; the bearer tokens and client keys (at most 4,096 characters) fit in 8 KiB.
 */
export const DEFAULT_MAX_CONNECTIONS = 4_096;
export const DEFAULT_MAX_HEADER_BYTES = 8 * 1024;

export interface HttpServerOptions {
  /** @default 10_000 — slowloris: headers must arrive within this. */
  headersTimeoutMs?: number;
  /** @default 30_000 — the whole request (headers and body). */
  requestTimeoutMs?: number;
  /** @default 5_000 */
  keepAliveTimeoutMs?: number;
  /** @default DEFAULT_MAX_HEADER_BYTES (8 KiB): past it 431. */
  maxHeaderSize?: number;
  /** @default DEFAULT_MAX_CONNECTIONS (4,096): past it a connection is closed unanswered. */
  maxConnections?: number;
}

export interface HttpServer {
  server: Server;
  /** The bound address (the real port when asked for port 0). */
  address: HostPort;
  /**
   * Stops accepting, ends idle keep-alive connections and those that have sent nothing yet, waits for in-flight requests up to `graceMs`
   * (slow bodies, answers being written), then closes every connection left. @default graceMs 1000
   */
  close(graceMs?: number): Promise<void>;
}

/** Starts listening on `at`; rejects with ERR_LISTEN (the OS error, EADDRINUSE or EACCES, as `cause`) if it cannot. */
export async function startHttpServer(
  at: HostPort,
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
      maxHeaderSize: options.maxHeaderSize ?? DEFAULT_MAX_HEADER_BYTES,
    },
    (req, res) => {
      if (!closedAfterAnswer(req)) router.handle(req, res, log);
    },
  );
  server.maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
  server.on("checkContinue", (req, res) => {
    if (closedAfterAnswer(req)) return;
    deferContinue(req, res);
    router.handle(req, res, log);
  });
  // Any other expectation: Node's bare 417 kept the connection open, so a body sent anyway was parsed as a request.
  server.on("checkExpectation", (_req, res) => sendProblem(res, new WorkerError("ERR_EXPECTATION_FAILED")));
  server.on("clientError", (err: NodeJS.ErrnoException, socket) => {
    if (socket.writable && !socket.destroyed) {
      // The parser failed, so no request object says HEAD; the bytes it choked on may.
      const head = (err as { rawPacket?: Buffer }).rawPacket?.subarray(0, 5).toString("latin1") === "HEAD ";
      const answer = rawProblemResponse(parserError(err.code), head);
      // Destroy once written: the server socket is half-open, so `end` alone would let a client
      // that ignores the FIN keep the connection.
      socket.end(answer, () => socket.destroy());
    } else socket.destroy();
  });
  // For close(): a connection that has sent nothing yet (a browser opens one or two ahead of its next
  // request, as with the status page open in a tab) would hold the stop for the whole grace.
  // bytesRead, not a "data" listener: one would take the socket off the parser's native read path.
  const sockets = new Set<Socket>();
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  const address = await listen(server, at, { field: "--listen" });
  return {
    server,
    address,
    close: (graceMs = 1_000) =>
      new Promise<void>((resolve) => {
        const closeAll = setTimeout(() => server.closeAllConnections(), graceMs);
        // Connections that finish a response from now on are idle: close them as they get there.
        const idle = setInterval(() => server.closeIdleConnections(), Math.max(10, Math.min(100, graceMs / 10)));
        server.close(() => {
          clearTimeout(closeAll);
          clearInterval(idle);
          resolve();
        });
        server.closeIdleConnections();
        for (const socket of sockets) if (socket.bytesRead === 0) socket.destroy();
      }),
  };
}

/**
 * `Expect: 100-continue` (RFC 9110 §10.1.1): the 100 goes out only when a handler starts reading the
 * body, so a request refused on its headers alone (a Content-Length over the limit gets its 413, a
 * missing token its 401) gets the final answer and no 100. Such a connection is closed after the
 * answer: the body the client held back would otherwise be read as the next request.
 */
function deferContinue(req: IncomingMessage, res: ServerResponse): void {
  res.setHeader("connection", "close");
  const onListener = (event: string | symbol) => {
    if (event !== "data" && event !== "readable") return;
    req.off("newListener", onListener);
    if (res.headersSent || res.writableEnded) return;
    res.removeHeader("connection");
    res.writeContinue();
  };
  req.on("newListener", onListener);
}

/**
 * A request read from a connection the server has already ended (an answer said `connection: close`
 * and the socket lingers to let the client read it; see problem.ts): its answer could never be sent,
 * so it is not handled (a task it would create would be one the client never hears of). The
 * connection is dropped at once.
 */
function closedAfterAnswer(req: IncomingMessage): boolean {
  if (!req.socket.writableEnded) return false;
  req.socket.destroy();
  return true;
}

/** The problem for a request the HTTP parser gave up on. */
function parserError(code: string | undefined): WorkerError {
  if (code === "HPE_HEADER_OVERFLOW") return new WorkerError("ERR_HEADERS_TOO_LARGE");
  if (code === "ERR_HTTP_REQUEST_TIMEOUT") return new WorkerError("ERR_TIMEOUT");
  return new WorkerError("ERR_BAD_REQUEST", "The request is not valid HTTP/1.1.");
}
