/**
 * Safe by default (docs/configuration.md): the task API spends money, so `run` refuses to serve it without a
 * credential on an address others can reach, unless the operator says the network is private.
 */
import { WorkerError } from "../base/errors.ts";
import type { Config, HostPort } from "./config.ts";
import { formatHostPort } from "./host_port.ts";

/** Where `run --demo` listens when --listen is not given: this host only. */
export const DEMO_LISTEN: HostPort = { host: "127.0.0.1", port: 8080 };

/** Whether `host` is a loopback address (127.0.0.0/8, ::1, localhost): only this host can connect. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase();
  if (h === "localhost" || h === "::1" || /^(?:0{1,4}:){7}0{0,3}1$/.test(h)) return true;
  const v4 = /^(?:::ffff:)?(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(h);
  return v4 !== null && v4[1] === "127" && v4.slice(2).every((o) => Number(o) <= 255);
}

/**
 * Throws ERR_CONFIG_INVALID (exit 78) naming the flags when the task API would be open to the network:
 * a non-loopback --listen, no credential (--api-token-file or --client-keys-file) and no --allow-unauthenticated (the demo
 * is exempt: an explicit --listen for it is the operator's choice, and it spends nothing).
 */
export function checkExposure(config: Pick<Config, "listen" | "allowUnauthenticated" | "demo">, hasCredential: boolean): void {
  // The demo spends nothing (its simulator takes only its own key) and listens on loopback unless told otherwise.
  if (hasCredential || config.allowUnauthenticated || config.demo || isLoopbackHost(config.listen.host)) return;
  throw new WorkerError(
    "ERR_CONFIG_INVALID",
    `Refusing to serve the task API on --listen ${formatHostPort(config.listen)} without a credential: anyone who can reach it could submit paid tasks and read results. ` +
      "Set --api-token-file (env CAPTCHA_WORKER_API_TOKEN_FILE) or --client-keys-file (env CAPTCHA_WORKER_CLIENT_KEYS_FILE), listen on a loopback address (--listen 127.0.0.1:8080), " +
      "or, on a private network, pass --allow-unauthenticated (env CAPTCHA_WORKER_ALLOW_UNAUTHENTICATED=true)",
    { field: "--listen" },
  );
}
