/**
 * A CaptchaAI-protocol simulator (README, Simulator): in.php and res.php as the real service answers them,
 * with faults injected per endpoint and counts of everything received, so tests, benchmarks and the
 * demo need no paid key. Nothing a client sends can crash it.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { readCapped } from "../base/capped_read.ts";
import { systemClock, type Clock } from "../base/clock.ts";
import { formatHostPort, listen, type HostPort } from "../base/listen.ts";
import { silentLogger, type Logger } from "../base/log.ts";
import { handleControl } from "./control_routes.ts";
import { IdleConnections, type IdleTimeout } from "./idle_connections.ts";
import { HTML_PAGE, type Fault, type Selector } from "./faults.ts";
import { readParams, type Params } from "../upstream/protocol_params.ts";
import { mulberry32, type Random } from "./prng.ts";
import { SimAccess } from "./sim_access.ts";
import { DEFAULT_USER_AGENT, type SimAnswer } from "./sim_answers.ts";
import type { CapacityCode, SimControl, SimCounts, Unsupported } from "./sim_control.ts";
import { methodNames, readSubmit } from "./sim_methods.ts";
import { SimTasks } from "./sim_tasks.ts";
import { BALANCE, POLL, REPORT, SUBMIT } from "../upstream/endpoints.ts";

export interface SimulatorOptions {
  /** Accepted keys (32 characters, as CaptchaAI's); empty: any key of 32 characters. */
  keys: string[];
  /** @default 10 */
  balanceUsd?: number;
  /** Unsolved tasks allowed per key; beyond: `capacityCode`. @default 50 */
  threads?: number;
  /** What in.php answers past `threads`. @default ERROR_ZERO_BALANCE (CaptchaAI's "no available threads") */
  capacityCode?: CapacityCode;
  /** Methods answered as not served (in.php `method`, or `grid`, `geetest_v4`). @default none */
  unsupported?: readonly string[];
  /** What an unsupported method is answered. @default ERROR_METHOD_CALL (2captcha's answer for a method it dropped) */
  unsupportedCode?: string;
  /** @default { image: 3000, token: 10000 } */
  solveTimeMs?: { image: number; token: number };
  /** Charged on each delivered solution. @default 0.001 */
  pricePerSolveUsd?: number;
  seed?: number;
  /** Every answer this many characters long (memory benchmarks); default: short, like the real ones. */
  answerLength?: number;
  /** An idle timeout never announced in a `Keep-Alive` header, on `clock`. @default Node's own: 5 s, announced */
  idleTimeout?: IdleTimeout;
  clock?: Clock;
  log?: Logger;
}

export interface Simulator {
  url: URL;
  address: HostPort;
  control: SimControl;
  counts(): SimCounts;
  /** The last forms in.php received (at most 200, oldest first), each without its key: what tests compare with the documented form. */
  submits(): Record<string, string>[];
  close(): Promise<void>;
}

const BODY_LIMIT = 4 * 1024 * 1024;
/** in.php forms kept for submits(). */
const MAX_SUBMITS = 200;

/** Starts the simulator on `at`; rejects with ERR_LISTEN if it cannot listen there. */
export async function startSimulator(at: HostPort, options: SimulatorOptions): Promise<Simulator> {
  const clock = options.clock ?? systemClock;
  const log = options.log ?? silentLogger;
  const random: Random = mulberry32(options.seed ?? Date.now());
  const tasks = new SimTasks(
    clock,
    random,
    options.balanceUsd ?? 10,
    options.solveTimeMs ?? { image: 3000, token: 10_000 },
    options.pricePerSolveUsd ?? 0.001,
    options.threads ?? 50,
  );
  tasks.answerLength = options.answerLength;
  const access = new SimAccess(clock, options.keys);
  let capacityCode: CapacityCode = options.capacityCode ?? "ERROR_ZERO_BALANCE";
  let unsupported: Unsupported = { methods: [...(options.unsupported ?? [])], code: options.unsupportedCode ?? "ERROR_METHOD_CALL" };
  const faults = new Map<Selector, Fault>();
  const noCounts = (): Omit<SimCounts, "busyThreads" | "busyThreadSeconds" | "peakBusyThreads"> => ({ requests: {}, submitted: 0, keyInQuery: 0, idleClosed: 0, staleDropped: 0, capacityRefusals: 0, bannedRequests: 0, unsupportedRefusals: 0 });
  let counts = noCounts();
  const readCounts = (): SimCounts => ({ ...structuredClone(counts), busyThreads: tasks.busyTotal(), ...tasks.usage() });
  const hung = new Set<ServerResponse>();
  let submits: Record<string, string>[] = [];
  const sockets = new Set<Socket>();

  const control: SimControl = {
    setFault: (selector, fault) => void faults.set(selector, fault),
    clearFaults: () => {
      faults.clear();
      for (const res of hung) res.destroy();
      hung.clear();
    },
    setBalance: (usd) => void (tasks.balanceUsd = usd),
    setUnsolvableRatio: (ratio) => void (tasks.unsolvableRatio = Math.min(1, Math.max(0, ratio))),
    setIdleTimeout: (mode) => idle.set(mode),
    setCapacityCode: (code) => void (capacityCode = code),
    setUnsupported: (methods, code = "ERROR_METHOD_CALL") => void (unsupported = { methods: [...methods], code }),
    reset: () => {
      control.clearFaults();
      counts = noCounts();
      tasks.resetUsage();
      submits = [];
      access.clear();
    },
    state: () => ({
      faults: Object.fromEntries(faults),
      balanceUsd: tasks.balanceUsd,
      unsolvableRatio: tasks.unsolvableRatio,
      tasks: tasks.size,
      idleTimeout: idle.mode ?? null,
      capacityCode,
      unsupported: structuredClone(unsupported),
      banned: access.banned(),
    }),
  };

  const server = createServer({ requestTimeout: 0 }, (req, res) => {
    if (idle.refuses(req.socket)) return;
    res.once("finish", () => idle.answered(req.socket));
    readCapped(req, BODY_LIMIT).then(
      (read) => {
        if (read.kind === "too_large") return void res.destroy();
        try {
          route(req, res, read.body);
        } catch (err) {
          log.error("simulator handler failed", { err });
          if (!res.headersSent) res.writeHead(500).end("internal error");
        }
      },
      () => res.destroy(),
    );
  });
  server.on("connection", (s: Socket) => {
    sockets.add(s);
    s.once("close", () => sockets.delete(s));
  });
  server.on("clientError", (_err, socket) => socket.destroy());
  const idle = new IdleConnections(server, clock, options.idleTimeout, (what) => void (what === "request" ? counts.staleDropped++ : counts.idleClosed++));

  function route(req: IncomingMessage, res: ServerResponse, body: Buffer): void {
    const url = new URL(req.url ?? "/", "http://sim.invalid");
    if (url.pathname.startsWith("/__sim/")) return handleControl(req, res, url, body, control, readCounts, () => submits);
    if (url.pathname !== "/in.php" && url.pathname !== "/res.php") {
      counts.requests.other = (counts.requests.other ?? 0) + 1;
      res.writeHead(404, { "content-type": "text/plain" }).end("Not Found");
      return;
    }
    const params = readParams(url, String(req.headers["content-type"] ?? ""), body);
    if (url.searchParams.has("key")) counts.keyInQuery++;
    if (url.pathname === "/in.php") {
      // Long values (images) kept as their head and length: 200 forms must not hold 200 images.
      const form = Object.fromEntries([...params].filter(([k]) => k !== "key").map(([k, v]) => [k, v.length > 4096 ? `${v.slice(0, 64)}...(${v.length} chars)` : v]));
      submits = submits.length >= MAX_SUBMITS ? [...submits.slice(1), form] : [...submits, form];
    }
    const selector = selectorOf(url.pathname, params.get("action"));
    counts.requests[selector] = (counts.requests[selector] ?? 0) + 1;
    const fault = faults.get(selector as Selector) ?? faults.get("all");
    const from = req.socket.remoteAddress ?? "unknown";
    const answer = () => (fault ? applyFault(res, fault, url.pathname, params, from) : protocol(res, url.pathname, params, from));
    if (fault?.latencyMs) clock.setTimeout(answer, fault.latencyMs);
    else answer();
  }

  function applyFault(res: ServerResponse, fault: Fault, path: string, params: Params, from: string): void {
    if (res.destroyed) return;
    if (fault.hang) {
      hung.add(res);
      res.once("close", () => hung.delete(res));
      return;
    }
    if (fault.drop) return void res.socket?.destroy();
    if (fault.html) return void res.writeHead(fault.status ?? 200, { "content-type": "text/html" }).end(HTML_PAGE(fault.status ?? 502));
    if (fault.garbage) {
      const bytes = Buffer.alloc(64 + Math.floor(random() * 448));
      for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(random() * 256);
      return void res.writeHead(200, { "content-type": "application/octet-stream" }).end(bytes);
    }
    if (fault.status) return void res.writeHead(fault.status, { "content-type": "text/plain" }).end(`HTTP ${fault.status}`);
    if (fault.error) return reply(res, params, false, fault.error);
    protocol(res, path, params, from); // a latency-only fault
  }

  function protocol(res: ServerResponse, path: string, params: Params, from: string): void {
    const key = params.get("key") ?? "";
    const refused = access.check(from, key);
    if (refused === "IP_BANNED") counts.bannedRequests++;
    if (refused) return reply(res, params, false, refused);
    if (path === "/in.php") return submit(res, key, params);
    const action = params.get("action") ?? "";
    switch (action) {
      case "getbalance":
        return reply(res, params, true, tasks.balanceUsd.toFixed(5).replace(/0+$/, "").replace(/\.$/, ".0"), true);
      case "get": {
        const task = tasks.get(params.get("id") ?? "", key);
        if (!task) return reply(res, params, false, "ERROR_WRONG_CAPTCHA_ID");
        if (clock.now() < task.readyAt) return reply(res, params, false, "CAPCHA_NOT_READY");
        if (task.unsolvable) return reply(res, params, false, "ERROR_CAPTCHA_UNSOLVABLE");
        tasks.deliver(task);
        return reply(res, params, true, task.answer, false, task.userAgent);
      }
      case "reportgood":
      case "reportbad": {
        const task = tasks.get(params.get("id") ?? "", key);
        if (!task || !task.delivered) return reply(res, params, false, "ERROR_WRONG_CAPTCHA_ID");
        if (task.reported) return reply(res, params, false, "ERROR_DUPLICATE_REPORT");
        task.reported = true;
        return reply(res, params, true, "OK_REPORT_RECORDED", true);
      }
      case "":
        return reply(res, params, false, "ERROR_EMPTY_ACTION");
      default:
        return reply(res, params, false, "ERROR_BAD_PARAMETERS");
    }
  }

  function submit(res: ServerResponse, key: string, params: Params): void {
    if (methodNames(params).some((m) => unsupported.methods.includes(m))) {
      counts.unsupportedRefusals++;
      return reply(res, params, false, unsupported.code);
    }
    const read = readSubmit(params, DEFAULT_USER_AGENT);
    if ("code" in read) return reply(res, params, false, read.code);
    if (tasks.balanceUsd <= 0) return reply(res, params, false, "ERROR_ZERO_BALANCE");
    if (tasks.busy(key) >= tasks.threads) {
      counts.capacityRefusals++;
      return reply(res, params, false, capacityCode);
    }
    const task = tasks.create(key, read.kind, read.shape, read.userAgent);
    counts.submitted++;
    reply(res, params, true, task.id);
  }

  const address = await listen(server, at, { purpose: "for the simulator" });
  return {
    url: new URL(`http://${formatHostPort(address)}/`),
    address,
    control,
    counts: readCounts,
    submits: () => structuredClone(submits),
    close: () =>
      new Promise<void>((resolve) => {
        control.clearFaults();
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}

/**
 * The protocol's two answer forms: `json=1` (an object solution as it is, a `user_agent` beside it
 * when the task has one) or plain `OK|...` (an object as JSON text) / bare code (getbalance and
 * reports bare).
 */
function reply(res: ServerResponse, params: Params, ok: boolean, request: SimAnswer, bare = false, userAgent?: string): void {
  if (res.destroyed) return;
  const json = params.get("json") === "1";
  const text = typeof request === "string" ? request : JSON.stringify(request);
  const body = json ? JSON.stringify({ status: ok ? 1 : 0, request, ...(userAgent === undefined ? {} : { user_agent: userAgent }) }) : ok && !bare ? `OK|${text}` : text;
  res.writeHead(200, { "content-type": json ? "application/json" : "text/plain", "content-length": Buffer.byteLength(body) });
  res.end(body);
}

function selectorOf(path: string, action: string | undefined): string {
  if (path === "/in.php") return SUBMIT;
  if (action === "get") return POLL;
  if (action === "getbalance") return BALANCE;
  if (action === "reportgood" || action === "reportbad") return REPORT;
  return "res.php:other";
}
