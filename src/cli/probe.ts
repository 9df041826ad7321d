/** `captcha-worker probe`: one GET with a deadline, exit 0 on 2xx and 1 otherwise, one line saying why (HEALTHCHECK without curl). */
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { systemClock, type Clock } from "../clock.ts";
import { formatHostPort, optionSpec, parseDurationMs, resolveOption, type FlagValues, type HostPort } from "../config.ts";
import { WorkerError } from "../errors.ts";
import { EXIT_FAILURE, EXIT_OK, type Runtime } from "./runtime.ts";

export const PROBE_PATHS: Record<string, string> = {
  live: "/health/live",
  ready: "/health/ready",
  startup: "/health/startup",
  deps: "/health/dependencies",
};

export interface ProbeResult {
  ok: boolean;
  line: string;
}

export async function runProbeCommand(positionals: string[], flags: FlagValues, rt: Runtime): Promise<number> {
  const target = positionals[0];
  if (target === undefined) throw new WorkerError("ERR_USAGE", "probe needs a target: live, ready, startup or deps");
  if (positionals.length > 1) throw new WorkerError("ERR_USAGE", `probe takes one target, got ${positionals.length}`);
  const path = PROBE_PATHS[target];
  if (!path) throw new WorkerError("ERR_USAGE", `Unknown probe target "${target.slice(0, 40)}": expected live, ready, startup or deps`);

  const timeoutRaw = typeof flags.timeout === "string" ? flags.timeout : "1s";
  const timeoutMs = parseDurationMs(timeoutRaw);
  if (timeoutMs === undefined || timeoutMs < 10 || timeoutMs > 60_000) {
    throw new WorkerError("ERR_CONFIG_INVALID", `Invalid --timeout: expected a duration from 10ms to 60s, got ${JSON.stringify(timeoutRaw)}`, {
      field: "--timeout",
    });
  }
  const base = typeof flags.url === "string" ? parseBase(flags.url) : defaultBase(resolveOption(optionSpec("listen"), flags, rt.env).value as HostPort);
  const result = await probe(new URL(path, base), timeoutMs);
  (result.ok ? rt.stdout : rt.stderr)(result.line + "\n");
  return result.ok ? EXIT_OK : EXIT_FAILURE;
}

function parseBase(raw: string): URL {
  try {
    const url = new URL(raw);
    if (url.protocol === "http:" || url.protocol === "https:") return url;
  } catch {
    // reported below
  }
  throw new WorkerError("ERR_CONFIG_INVALID", `Invalid --url: expected an http:// or https:// URL, got ${JSON.stringify(raw.slice(0, 80))}`, {
    field: "--url",
  });
}

/** The worker's own address, with the wildcard hosts turned into loopback. */
export function defaultBase(listen: HostPort): URL {
  const host = listen.host === "0.0.0.0" ? "127.0.0.1" : listen.host === "::" ? "::1" : listen.host;
  return new URL(`http://${formatHostPort({ host, port: listen.port })}/`);
}

/** GETs `url` once; never throws, never outlives `timeoutMs` on `clock`. */
export function probe(url: URL, timeoutMs: number, clock: Clock = systemClock): Promise<ProbeResult> {
  const started = clock.now();
  const elapsed = () => `${Math.round(clock.now() - started)}ms`;
  const where = `GET ${url.href}`;
  return new Promise((resolve) => {
    let done = false;
    const finish = (ok: boolean, line: string) => {
      if (done) return;
      done = true;
      timer.cancel();
      req.destroy();
      resolve({ ok, line });
    };
    const send = url.protocol === "https:" ? httpsRequest : httpRequest;
    const req = send(url, { method: "GET", headers: { "user-agent": "captcha-worker-probe", connection: "close" } }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (c: Buffer) => {
        if (size < 4096) chunks.push(c);
        size += c.length;
      });
      res.on("end", () => {
        const status = res.statusCode ?? 0;
        const ok = status >= 200 && status < 300;
        const why = summarize(Buffer.concat(chunks).toString("utf8", 0, 4096));
        finish(ok, `${ok ? "ok" : "fail"}: ${where} answered ${status} in ${elapsed()}${why ? ` (${why})` : ""}`);
      });
      res.on("error", (err) => finish(false, `fail: ${where}: ${err.message} after ${elapsed()}`));
    });
    const timer = clock.setTimeout(() => finish(false, `fail: ${where}: no answer within ${timeoutMs}ms`), timeoutMs);
    req.on("error", (err: NodeJS.ErrnoException) => finish(false, `fail: ${where}: ${err.code ?? err.message} after ${elapsed()}`));
    req.end();
  });
}

/** The body's status and issues, if it is one of ours. */
function summarize(body: string): string {
  try {
    const parsed = JSON.parse(body) as { status?: unknown; issues?: unknown };
    const parts: string[] = [];
    if (typeof parsed.status === "string") parts.push(parsed.status);
    if (Array.isArray(parsed.issues) && parsed.issues.length > 0) parts.push(parsed.issues.map(String).join(", "));
    return parts.join(": ").slice(0, 300);
  } catch {
    return "";
  }
}
