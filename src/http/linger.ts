/**
 * Closing a connection whose request body is unread without resetting it: the answer reaches the
 * client before the close does.
 */
import type { ServerResponse } from "node:http";

/** How long a connection closed with its request body unread stays open after the answer. */
export const LINGER_MS = 1_000;

/**
 * For an answer sent with `connection: close`: when the request's body is not read to its end (a
 * refusal part-way, or on the headers alone), closing the socket with unread bytes makes the kernel
 * send a reset, which can reach the client before it has read the answer and destroy it there. So the
 * socket is half-closed (the answer, then FIN) and destroyed a second later, by when the client has
 * the answer; nothing more of the body is read meanwhile. Call before the answer is ended; a request
 * whose body was read whole is left alone.
 * A request the client sends after the body meanwhile is not handled (see http/server.ts).
 */
export function lingerBeforeClose(res: ServerResponse): void {
  if (res.req.complete) return;
  const socket = res.socket;
  if (!socket) return;
  // node:http reads a body nobody read to its end once the answer is sent (to reach the next
  // request), at line rate for the whole linger; a read of nothing marks it read, so what arrives
  // stops at the request's buffer and the socket's, and the client's upload stalls instead.
  res.req.read(0);
  // node:http ends a `connection: close` response with socket.destroySoon(): end, then destroy.
  socket.destroySoon = () => {
    socket.end();
    const timer = setTimeout(() => socket.destroy(), LINGER_MS);
    timer.unref();
    socket.once("close", () => clearTimeout(timer));
  };
}
