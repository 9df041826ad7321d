/**
 * What the simulator does with idle keep-alive connections. By default Node's own keep-alive timeout
 * (5 s, announced in a `Keep-Alive: timeout=5` header). For tests, an idle timeout on the
 * simulator's clock that is never announced, as nginx (`keepalive_timeout` without its header value)
 * and cloud load balancers close connections: "close" closes a connection idle that long, and a
 * request that arrives while the close is still on its way to the client (`closeLatencyMs`, the
 * FIN's flight time, which the fake clock does not otherwise have) is closed unanswered; "reset"
 * leaves the connection open and resets (TCP RST) any request arriving on it after the idle time,
 * as a load balancer that has forgotten the connection does. Neither reaches the protocol.
 */
import type { Server } from "node:http";
import type { Socket } from "node:net";
import type { Clock, Timer } from "../base/clock.ts";

export interface IdleTimeout {
  /** How long a connection may stay idle between an answer and the next request. */
  idleMs: number;
  /** "close": closed at idleMs; "reset": left open, the next request after idleMs reset. */
  onIdle: "close" | "reset";
  /** "close": how long the close takes to reach the client; requests arriving meanwhile are closed unanswered. @default 0 */
  closeLatencyMs?: number;
}

/** Node's http.Server default, which announces itself in a `Keep-Alive: timeout=5` header. */
const NODE_KEEP_ALIVE_MS = 5000;

interface Idle {
  /** When its last answer went out (undefined: none yet, or a request is under way). */
  since: number | undefined;
  timer: Timer | undefined;
  /** Closed by the server, the close not yet at the client. */
  closing: boolean;
}

export class IdleConnections {
  readonly #server: Server;
  readonly #clock: Clock;
  readonly #idle = new Map<Socket, Idle>();
  readonly #onDrop: (what: "connection" | "request") => void;
  #mode: IdleTimeout | undefined;

  /** `onDrop`: a connection was closed for idling, or a request closed or reset unanswered for arriving on an idle one. */
  constructor(server: Server, clock: Clock, mode: IdleTimeout | undefined, onDrop: (what: "connection" | "request") => void) {
    this.#server = server;
    this.#clock = clock;
    this.#onDrop = onDrop;
    this.set(mode);
    server.on("connection", (socket: Socket) => {
      this.#idle.set(socket, { since: undefined, timer: undefined, closing: false });
      socket.once("close", () => {
        this.#idle.get(socket)?.timer?.cancel();
        this.#idle.delete(socket);
      });
    });
  }

  /** The idle timeout in force; undefined: Node's own. */
  get mode(): IdleTimeout | undefined {
    return this.#mode;
  }

  /** Sets the idle timeout (undefined: back to Node's own, announced). */
  set(mode: IdleTimeout | undefined): void {
    this.#mode = mode;
    // 0: Node neither closes idle connections nor sends the Keep-Alive header; this class does the closing.
    this.#server.keepAliveTimeout = mode === undefined ? NODE_KEEP_ALIVE_MS : 0;
    for (const idle of this.#idle.values()) {
      idle.timer?.cancel();
      idle.timer = undefined;
    }
  }

  /**
   * A request arrived on `socket`: true when it came after the idle timeout, and the connection was
   * closed or reset without an answer; otherwise the connection counts as busy until `answered`.
   */
  refuses(socket: Socket): boolean {
    const idle = this.#idle.get(socket);
    const mode = this.#mode;
    if (!idle || !mode) return false;
    const idleMs = idle.since === undefined ? 0 : this.#clock.now() - idle.since;
    const stale = mode.onIdle === "close" ? idle.closing || idleMs >= mode.idleMs : idleMs > mode.idleMs;
    if (!stale) {
      idle.timer?.cancel();
      idle.timer = undefined;
      idle.since = undefined;
      return false;
    }
    this.#onDrop("request");
    if (mode.onIdle === "reset") socket.resetAndDestroy();
    else socket.destroy();
    return true;
  }

  /** An answer on `socket` went out: its idle time starts now. */
  answered(socket: Socket): void {
    const idle = this.#idle.get(socket);
    const mode = this.#mode;
    if (!idle || !mode || socket.destroyed) return;
    idle.since = this.#clock.now();
    if (mode.onIdle !== "close") return;
    idle.timer = this.#clock.setTimeout(() => {
      this.#onDrop("connection");
      const latencyMs = mode.closeLatencyMs ?? 0;
      if (latencyMs === 0) return void socket.destroy();
      idle.closing = true;
      idle.timer = this.#clock.setTimeout(() => socket.destroy(), latencyMs);
    }, mode.idleMs);
  }
}
