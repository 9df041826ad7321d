/** Listening on a host:port and reading back the bound address, with one error (ERR_LISTEN) naming the address. */
import type { Server } from "node:net";
import { WorkerError } from "./errors.ts";

export interface HostPort {
  host: string;
  port: number;
}

export interface ListenOptions {
  /** What the listener is for, in the message: `Cannot listen for HAProxy agent checks on ...`. */
  purpose?: string;
  /** The flag that named the address, as the error's `field` (e.g. `--agent-listen`). */
  field?: string;
}

/** `host:port`, or `[v6]:port`. */
export function formatHostPort({ host, port }: HostPort): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * Starts `server` listening on `at` and resolves the address it bound (the real port when asked for
 * port 0). Rejects with ERR_LISTEN naming the address and the OS's reason (EADDRINUSE, EACCES, ...),
 * the OS error as `cause`; the server is then not listening.
 */
export function listen(server: Server, at: HostPort, options: ListenOptions = {}): Promise<HostPort> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      // The flag that sets the address, and its variable: what the operator changes to get past this.
      const variable = options.field?.startsWith("--") ? `CAPTCHA_WORKER_${options.field.slice(2).toUpperCase().replaceAll("-", "_")}` : undefined;
      const hint = options.field === undefined ? "" : `; choose another address with ${options.field} HOST:PORT${variable ? ` (or ${variable})` : ""}`;
      const data = { purpose: options.purpose ? ` ${options.purpose}` : "", address: formatHostPort(at), reason: err.code ?? err.message, hint };
      reject(new WorkerError("ERR_LISTEN", undefined, { cause: err, data, field: options.field }));
    };
    server.once("error", onError);
    server.listen(at.port, at.host, () => {
      server.off("error", onError);
      const info = server.address();
      if (info === null || typeof info === "string") return resolve(at);
      resolve({ host: info.address, port: info.port });
    });
  });
}
