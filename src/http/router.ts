/**
 * A tiny router: exact paths and `:param` segments, HEAD served by GET, 404/405 with `Allow`, no 500
 * leaks. Routes answer a thrown error as problem details, or mounted with their API's own renderer
 * (the 2captcha gateway's dialects), as hono's `app.route()` with its `onError`.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "../base/log.ts";
import { WorkerError } from "../base/errors.ts";
import { problemFromError, sendProblem } from "./problem.ts";

export type Handler = (req: IncomingMessage, res: ServerResponse, params: Record<string, string>, url: URL) => void | Promise<void>;
export type Method = "GET" | "POST" | "PUT" | "DELETE";
/** Answers an error a handler threw, in the terms of the API the route belongs to. */
export type ErrorRenderer = (res: ServerResponse, err: unknown, log: Logger) => void;

/** A route to mount: method, path and handler. */
export interface RouteSpec {
  method: Method;
  path: string;
  handler: Handler;
}

interface Entry {
  handler: Handler;
  renderError: ErrorRenderer;
}

interface Route {
  segments: string[];
  handlers: Map<string, Entry>;
  /** An exact path's URL, parsed once: a request target equal to the path parses to the same. */
  url?: URL;
}

const BASE = "http://worker.invalid";
/** Exact routes capture nothing; shared, never written. */
const NO_PARAMS: Record<string, string> = Object.freeze({});

export class Router {
  readonly #exact = new Map<string, Route>();
  readonly #patterns: Route[] = [];

  /** Registers `handler` for `method` on `path` (segments starting with `:` capture); its errors answer as problem details. */
  on(method: Method, path: string, handler: Handler, renderError: ErrorRenderer = renderProblem): this {
    const isPattern = path.includes("/:");
    let route = isPattern ? this.#patterns.find((r) => r.segments.join("/") === path) : this.#exact.get(path);
    if (!route) {
      route = { segments: path.split("/"), handlers: new Map(), ...(isPattern ? {} : { url: new URL(path, BASE) }) };
      if (isPattern) this.#patterns.push(route);
      else this.#exact.set(path, route);
    }
    route.handlers.set(method, { handler, renderError });
    if (method === "GET") route.handlers.set("HEAD", { handler, renderError });
    return this;
  }

  /** Registers `routes` whose errors `renderError` answers, in their API's own terms. */
  mount(routes: readonly RouteSpec[], renderError: ErrorRenderer): this {
    for (const r of routes) this.on(r.method, r.path, r.handler, renderError);
    return this;
  }

  /** Dispatches a request; thrown errors become problem details, never a crash. */
  handle(req: IncomingMessage, res: ServerResponse, log: Logger): void {
    // Probes hit exact paths with no query: no URL to parse per request (nor a params object).
    const exact = this.#exact.get(req.url ?? "");
    if (exact) return this.#dispatch(exact, req, res, NO_PARAMS, exact.url!, log);
    let url: URL;
    try {
      url = new URL(req.url ?? "/", BASE);
    } catch {
      return sendProblem(res, new WorkerError("ERR_BAD_REQUEST", "The request target is not a valid URL."));
    }
    const params: Record<string, string> = {};
    const route = this.#exact.get(url.pathname) ?? this.#match(url.pathname, params);
    if (!route) return sendProblem(res, new WorkerError("ERR_NOT_FOUND", undefined, { data: { path: truncate(url.pathname) } }));
    this.#dispatch(route, req, res, params, url, log);
  }

  #dispatch(route: Route, req: IncomingMessage, res: ServerResponse, params: Record<string, string>, url: URL, log: Logger): void {
    const entry = route.handlers.get(req.method ?? "");
    if (!entry) {
      const allow = [...route.handlers.keys()].join(", ");
      return sendProblem(res, new WorkerError("ERR_METHOD_NOT_ALLOWED", undefined, { data: { method: truncate(req.method ?? ""), allow } }));
    }
    const fail = (err: unknown) => {
      try {
        entry.renderError(res, err, log);
      } catch (renderErr) {
        log.error("request failed", { err: renderErr, path: res.req.url?.slice(0, 200) });
        if (!res.headersSent) res.destroy();
      }
    };
    try {
      const result = entry.handler(req, res, params, url);
      if (result) result.catch(fail);
    } catch (err) {
      fail(err);
    }
  }

  #match(pathname: string, params: Record<string, string>): Route | undefined {
    const parts = pathname.split("/");
    for (const route of this.#patterns) {
      if (route.segments.length !== parts.length) continue;
      let ok = true;
      for (let i = 0; i < parts.length && ok; i++) {
        const seg = route.segments[i]!;
        if (seg.startsWith(":")) {
          try {
            params[seg.slice(1)] = decodeURIComponent(parts[i]!);
          } catch {
            ok = false;
          }
        } else ok = seg === parts[i];
      }
      if (ok) return route;
    }
    return undefined;
  }
}

/** Answers a thrown error as problem details; only the unexpected (a 500) is logged, refusals such as 503 are the worker's answer. */
export function renderProblem(res: ServerResponse, err: unknown, log: Logger): void {
  if (problemFromError(err).status === 500) log.error("request failed", { err, path: res.req.url?.slice(0, 200) });
  sendProblem(res, err);
}

function truncate(s: string): string {
  return s.length > 100 ? s.slice(0, 97) + "..." : s;
}
