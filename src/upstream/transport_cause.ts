/**
 * Why an upstream call got no answer, by the system error under it (getaddrinfo(3)'s EAI_* codes,
 * connect(2)'s and OpenSSL's as Node names them) or the timer that ended it: a typed cause the
 * status, /health/dependencies and the log spell the same way ("DNS: cannot resolve HOST"), so a
 * DNS failure never reads as a bare NETWORK.
 */

export type TransportCauseKind = "dns" | "refused" | "reset" | "unreachable" | "tls" | "timeout" | "connect_timeout" | "other";

export interface TransportCause {
  kind: TransportCauseKind;
  /** The upstream's host (and port when not the scheme's default): never a path or a query. */
  host: string;
  /** The system error's code (ENOTFOUND, ECONNREFUSED, ...); undefined for the worker's own timers. */
  sysCode: string | undefined;
  /** The timer that ended the call, for `timeout` and `connect_timeout`. */
  afterMs?: number;
}

/** getaddrinfo(3) failures: the name did not resolve (EAI_AGAIN: the resolver did not answer in time). */
const DNS = new Set(["ENOTFOUND", "EAI_AGAIN", "EAI_NONAME", "EAI_FAIL", "EAI_NODATA", "EAI_ADDRFAMILY"]);
const RESET = new Set(["ECONNRESET", "EPIPE", "ECONNABORTED", "UND_ERR_SOCKET"]);
const UNREACHABLE = new Set(["EHOSTUNREACH", "ENETUNREACH", "EHOSTDOWN", "ENETDOWN", "EADDRNOTAVAIL"]);
/** OpenSSL's verification codes as Node passes them on, and its own TLS and SSL errors. */
const TLS = /^(?:ERR_TLS_|ERR_SSL_|EPROTO$)|CERT|SELF_SIGNED|UNABLE_TO_/;

/** The cause of a failed connection from its system error's code. */
export function causeOfCode(sysCode: string | undefined, url: URL): TransportCause {
  const code = sysCode ?? "UNKNOWN";
  const kind: TransportCauseKind = DNS.has(code)
    ? "dns"
    : code === "ECONNREFUSED"
      ? "refused"
      : RESET.has(code)
        ? "reset"
        : UNREACHABLE.has(code)
          ? "unreachable"
          : TLS.test(code)
            ? "tls"
            : code === "ETIMEDOUT" || code === "UND_ERR_CONNECT_TIMEOUT"
              ? "connect_timeout"
              : "other";
  return { kind, host: hostOf(url), sysCode: sysCode };
}

/** The cause of a call the worker's own timer ended. */
export function causeOfTimer(kind: "timeout" | "connect_timeout", url: URL, afterMs: number): TransportCause {
  return { kind, host: hostOf(url), sysCode: undefined, afterMs };
}

/** The cause in words: "DNS: cannot resolve ocr.captchaai.com (ENOTFOUND)". */
export function describeTransportCause(c: TransportCause): string {
  const code = c.sysCode === undefined ? "" : ` (${c.sysCode})`;
  const host = c.host.replace(/:\d+$/, "");
  switch (c.kind) {
    case "dns":
      return c.sysCode === "EAI_AGAIN" ? `DNS: cannot resolve ${host} (EAI_AGAIN: no answer from the resolver, try again)` : `DNS: cannot resolve ${host}${code}`;
    case "refused":
      return `connection refused by ${c.host}${code}`;
    case "reset":
      return `connection reset by ${c.host}${code}`;
    case "unreachable":
      return `no route to ${c.host}${code}`;
    case "tls":
      return `TLS: handshake with ${c.host} failed${code}`;
    case "timeout":
      return `no answer from ${c.host} within ${c.afterMs ?? 0}ms (timeout)`;
    case "connect_timeout":
      return c.afterMs === undefined ? `connection to ${c.host} timed out${code}` : `no connection to ${c.host} within ${c.afterMs}ms (connect timeout)`;
    case "other":
      return `connection to ${c.host} failed${code}`;
  }
}

/** Host and explicit port, without user info: safe to show. */
function hostOf(url: URL): string {
  return url.host || url.hostname || "the upstream";
}
