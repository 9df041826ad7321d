/**
 * `captcha-worker probe`: one GET with a deadline, exit 0 on 2xx and 1 otherwise, one line saying why
 * (HEALTHCHECK without curl). It finds the worker by --url, else the address `run` recorded in
 * --address-file (a HEALTHCHECK sees the image's environment, not the container's --listen), else --listen.
 */
import { systemClock, type Clock } from "../base/clock.ts";
import { didYouMean } from "../base/did_you_mean.ts";
import type { FlagValues, HostPort } from "../config/config.ts";
import { formatHostPort, parseHostPort } from "../config/host_port.ts";
import { PROBE_FLAGS, type FlagSpec } from "../config/options.ts";
import { resolveFlag } from "../config/parse_config.ts";
import { WorkerError } from "../base/errors.ts";
import { httpGet } from "./http_get.ts";
import { EXIT_FAILURE, EXIT_OK, type Runtime } from "../base/runtime.ts";

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

/** The probe targets in words: `live, ready, startup or deps`. */
const TARGET_WORDS = ((t: string[]) => `${t.slice(0, -1).join(", ")} or ${t.at(-1)}`)(Object.keys(PROBE_PATHS));

export async function runProbeCommand(positionals: string[], flags: FlagValues, rt: Runtime): Promise<number> {
  const target = positionals[0];
  if (target === undefined) throw new WorkerError("ERR_USAGE", `probe needs a target: ${TARGET_WORDS}`);
  if (positionals.length > 1) throw new WorkerError("ERR_USAGE", `probe takes one target, got ${positionals.length}`);
  const path = Object.hasOwn(PROBE_PATHS, target) ? PROBE_PATHS[target] : undefined;
  if (!path) {
    const close = didYouMean(target, Object.keys(PROBE_PATHS));
    throw new WorkerError("ERR_USAGE", `Unknown probe target "${target.slice(0, 40)}"${close}: expected ${TARGET_WORDS}`);
  }

  const where = resolveProbeTarget(flags, rt.env, rt.readFile);
  if ("error" in where) {
    rt.stderr(`fail: ${where.error}\n`);
    return EXIT_FAILURE;
  }
  const { base, timeoutMs } = where;
  const result = await probe(new URL(path, base), timeoutMs, systemClock, "recordedIn" in where ? where.recordedIn : undefined);
  (result.ok ? rt.stdout : rt.stderr)(result.line + "\n");
  return result.ok ? EXIT_OK : EXIT_FAILURE;
}

/** The base URL (--url, or the worker's own --listen) and --timeout of probe or status, from `specs`. */
export function resolveTarget(specs: readonly FlagSpec[], flags: FlagValues, env: Record<string, string | undefined>): { base: URL; timeoutMs: number } {
  const value = (name: string): unknown => resolveFlag(specs.find((f) => f.flag === name)!, flags, env).value;
  const timeoutMs = value("timeout") as number;
  const url = value("url") as URL | undefined;
  return { base: url ?? defaultBase(value("listen") as HostPort), timeoutMs };
}

/**
 * probe's target: --url; else, with --address-file set and no --listen flag, the address recorded
 * there; else --listen. A missing address file falls through to --listen (the worker has not listened
 * yet, or stopped cleanly); an unreadable or garbled one is an error, never a guess.
 */
export function resolveProbeTarget(
  flags: FlagValues,
  env: Record<string, string | undefined>,
  readFile: (path: string) => string,
): { base: URL; timeoutMs: number; recordedIn?: string } | { error: string } {
  const target = resolveTarget(PROBE_FLAGS, flags, env);
  const resolve = (name: string) => resolveFlag(PROBE_FLAGS.find((f) => f.flag === name)!, flags, env);
  const file = resolve("address-file").value as string | undefined;
  if (file === undefined || resolve("url").value !== undefined || resolve("listen").source === "flag") return target;
  const recorded = readAddressFile(file, readFile);
  if (typeof recorded === "string") return { error: recorded };
  return recorded ? { base: defaultBase(recorded), timeoutMs: target.timeoutMs, recordedIn: file } : target;
}

/** The address in `file`; undefined when there is no such file; a message when it cannot be used. */
function readAddressFile(file: string, readFile: (path: string) => string): HostPort | string | undefined {
  let text: string;
  try {
    text = readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    return `cannot read the address file ${file} (--address-file): ${(err as NodeJS.ErrnoException).code ?? String(err)}`;
  }
  const address = parseHostPort(text.trim());
  return address ?? `the address file ${file} (--address-file) holds no host:port: ${JSON.stringify(text.slice(0, 60))}`;
}

/** The worker's own address, with the wildcard hosts turned into loopback. */
export function defaultBase(listen: HostPort): URL {
  const host = listen.host === "0.0.0.0" ? "127.0.0.1" : listen.host === "::" ? "::1" : listen.host;
  return new URL(`http://${formatHostPort({ host, port: listen.port })}/`);
}

/**
 * GETs `url` once; never throws, never outlives `timeoutMs` on `clock`. With `recordedIn` (the address
 * came from that address file, which a killed worker leaves behind) a 2xx counts only as a
 * captcha-worker's health answer: whatever took the port since must not pass for the worker.
 */
export async function probe(url: URL, timeoutMs: number, clock: Clock = systemClock, recordedIn?: string): Promise<ProbeResult> {
  const where = `GET ${url.href}`;
  const r = await httpGet(url, timeoutMs, clock, 4096);
  if ("error" in r) return { ok: false, line: r.error.startsWith("no answer") ? `fail: ${where}: ${r.error}` : `fail: ${where}: ${r.error} after ${r.ms}ms` };
  const ok = r.status >= 200 && r.status < 300;
  const why = summarize(r.body);
  if (ok && recordedIn !== undefined && !isWorkerAnswer(url.pathname, r.body)) {
    return { ok: false, line: `fail: ${where} answered ${r.status} in ${r.ms}ms, but not as a captcha-worker: the address file ${recordedIn} (--address-file) may be left from a stopped worker` };
  }
  return { ok, line: `${ok ? "ok" : "fail"}: ${where} answered ${r.status} in ${r.ms}ms${why ? ` (${why})` : ""}` };
}

/**
 * The 2xx document a worker answers on each probe path, told by its status and a field only it has
 * (a `{"status":"ok"}` from whatever health endpoint took the port is not one).
 */
const WORKER_ANSWERS: Record<string, (doc: Record<string, unknown>) => boolean> = {
  "/health/live": (d) => d.status === "ok" && typeof d.uptime_s === "number",
  "/health/ready": (d) => d.status === "ready" && typeof d.state === "string" && typeof d.stats === "object" && d.stats !== null,
  "/health/startup": (d) => d.status === "started",
  "/health/dependencies": (d) => d.status === "ok" && typeof d.checks === "object" && d.checks !== null,
};

/** Whether `body` is the document a captcha-worker answers 2xx with on `path`. */
export function isWorkerAnswer(path: string, body: string): boolean {
  const accepts = WORKER_ANSWERS[path];
  try {
    const doc: unknown = JSON.parse(body);
    return accepts !== undefined && typeof doc === "object" && doc !== null && accepts(doc as Record<string, unknown>);
  } catch {
    return false;
  }
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
