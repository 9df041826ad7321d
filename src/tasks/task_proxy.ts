/**
 * A task's proxy: the address the upstream solves from, so the token is good for the client's own IP
 * (2captcha API reference, "Using proxies"; CaptchaAI's Cloudflare Challenge and CaptchaFox need one).
 * Its password is a secret: a TaskProxy never serialises it by accident (JSON.stringify, util.inspect,
 * String() all show it redacted); only the upstream form and the journal record ask for it by name.
 */
import { createRedactor, REDACTED } from "../base/redact.ts";

export const PROXY_TYPES = ["HTTP", "HTTPS", "SOCKS4", "SOCKS5"] as const;
export type ProxyType = (typeof PROXY_TYPES)[number];

/** What a journal keeps to submit a restored task with the same proxy. */
export interface ProxyRecord {
  type: ProxyType;
  host: string;
  port: number;
  login?: string;
  password?: string;
}

const HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]{2,45}\])$/;
/** Login and password: printable, without the separators of `login:password@host:port`. */
const LOGIN = /^[^\s:@]{1,128}$/;
const PASSWORD = /^[^\s@]{1,256}$/;

export class TaskProxy {
  readonly type: ProxyType;
  readonly host: string;
  readonly port: number;
  readonly login: string | undefined;
  readonly #password: string | undefined;
  #redact: ((text: string) => string) | undefined;

  private constructor(r: ProxyRecord) {
    this.type = r.type;
    this.host = r.host;
    this.port = r.port;
    this.login = r.login;
    this.#password = r.password;
  }

  /** A proxy from its parts, or why not (the words after "Invalid proxy: "); never quoting the password. */
  static of(r: { type: string; host: string; port: number | string; login?: string | undefined; password?: string | undefined }): TaskProxy | string {
    const type = r.type.trim().toUpperCase();
    if (!(PROXY_TYPES as readonly string[]).includes(type)) return `proxytype: expected one of ${PROXY_TYPES.join(", ")}`;
    if (!HOST.test(r.host) || r.host.length > 253) return "expected a host name or IP address";
    const port = typeof r.port === "number" ? r.port : /^\d{1,5}$/.test(r.port) ? Number(r.port) : Number.NaN;
    if (!Number.isInteger(port) || port < 1 || port > 65535) return "expected a port from 1 to 65535";
    const login = r.login === "" ? undefined : r.login;
    const password = r.password === "" ? undefined : r.password;
    if ((login === undefined) !== (password === undefined)) return "expected both a login and a password, or neither";
    if (login !== undefined && !LOGIN.test(login)) return "expected a login of 1 to 128 characters without spaces, : or @";
    if (password !== undefined && !PASSWORD.test(password)) return "expected a password of 1 to 256 characters without spaces or @";
    return new TaskProxy({ type: type as ProxyType, host: r.host, port, login, password });
  }

  /**
   * `login:password@host:port` or `host:port` (2captcha's and CaptchaAI's `proxy`) with its
   * `proxytype`. The login ends at the first colon (it holds none), so a password may hold colons,
   * as it may in the JSON APIs' `proxyPassword`: the same proxy reads the same in every API.
   */
  static parse(proxy: string, proxytype: string): TaskProxy | string {
    const m = /^(?:([^:@]*):([^@]*)@)?(\[[^\]]*\]|[^:@]*):([^:@]*)$/.exec(proxy.trim());
    if (!m) return "expected login:password@host:port or host:port";
    return TaskProxy.of({ type: proxytype, host: m[3]!, port: m[4]!, login: m[1], password: m[2] });
  }

  /** A journal record back into a proxy; undefined when it is not one. */
  static fromRecord(r: unknown): TaskProxy | undefined {
    if (typeof r !== "object" || r === null) return undefined;
    const o = r as Record<string, unknown>;
    if (typeof o.type !== "string" || typeof o.host !== "string" || typeof o.port !== "number") return undefined;
    const p = TaskProxy.of({ type: o.type, host: o.host, port: o.port, login: typeof o.login === "string" ? o.login : undefined, password: typeof o.password === "string" ? o.password : undefined });
    return typeof p === "string" ? undefined : p;
  }

  /** The upstream's in.php fields (the password in them: only ever sent in a request body). */
  upstreamFields(): { proxy: string; proxytype: string } {
    const auth = this.login === undefined ? "" : `${this.login}:${this.#password}@`;
    return { proxy: `${auth}${this.host}:${this.port}`, proxytype: this.type };
  }

  /**
   * The JSON APIs' proxy fields (anti-captcha's, CapMonster's and 2captcha's API v2 task objects):
   * `proxyType` lower-cased, `proxyAddress` (an IPv6 address without its brackets), `proxyPort` a
   * number, and the login and password when there are. `httpsAsHttp`: the dialect lists only
   * http, socks4 and socks5 (anti-captcha: "http - usual http/https proxy"). The password is in them:
   * only ever sent in a request body.
   */
  v2Fields(o: { httpsAsHttp?: boolean } = {}): Record<string, string | number> {
    const type = this.type === "HTTPS" && o.httpsAsHttp ? "http" : this.type.toLowerCase();
    const host = this.host.startsWith("[") ? this.host.slice(1, -1) : this.host;
    return { proxyType: type, proxyAddress: host, proxyPort: this.port, ...(this.login !== undefined ? { proxyLogin: this.login, proxyPassword: this.#password! } : {}) };
  }

  /** CapSolver's one `proxy` string: `type:host:port:login:password` or `type:host:port` (docs.capsolver.com, Using proxies). */
  colonForm(): string {
    const auth = this.login === undefined ? "" : `:${this.login}:${this.#password}`;
    return `${this.type.toLowerCase()}:${this.host}:${this.port}${auth}`;
  }

  /** What the journal keeps (the password in it: the state dir is the worker's own, mode 0700). */
  toRecord(): ProxyRecord {
    return { type: this.type, host: this.host, port: this.port, ...(this.login !== undefined ? { login: this.login, password: this.#password } : {}) };
  }

  /** Redacts every spelling of this proxy's password (an upstream answer echoing the proxy), nothing else. */
  redact(text: string): string {
    if (this.#password === undefined) return text;
    this.#redact ??= createRedactor([this.#password]);
    return this.#redact(text);
  }

  /** The proxy as logs, problem details and JSON may show it: never the password. */
  toJSON(): Omit<ProxyRecord, "password"> & { password?: string } {
    return { type: this.type, host: this.host, port: this.port, ...(this.login !== undefined ? { login: this.login, password: REDACTED } : {}) };
  }

  toString(): string {
    return `${this.type} ${this.login === undefined ? "" : `${this.login}:${REDACTED}@`}${this.host}:${this.port}`;
  }

  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return `TaskProxy(${this.toString()})`;
  }
}
