/**
 * A solving-service simulator (docs/simulator.md): CaptchaAI's in.php and res.php as the real service
 * answers them by default, or another kind of provider (`dialect`: 2captcha's in.php, anti-captcha's
 * and CapSolver's createTask APIs), with faults injected per endpoint and counts of everything
 * received and spent, so tests, benchmarks and the demo need no paid key. Nothing a client sends can
 * crash it.
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
import { mulberry32, type Random } from "./prng.ts";
import { SimAccess } from "./sim_access.ts";
import type { SimControl, SimCounts, Unsupported } from "./sim_control.ts";
import { SIM_DIALECT_SPECS, type CapacityCode, type SimDialect } from "./sim_dialects.ts";
import { createLegacyProtocol } from "./sim_legacy.ts";
import type { CountKey, SimContext, SimProtocol, SimRequest } from "./sim_protocol.ts";
import { SimTasks, type KindPrices } from "./sim_tasks.ts";
import { createV2Protocol } from "./sim_v2.ts";

export interface SimulatorOptions {
  /** The kind of provider (docs/simulator.md: protocol, task type names, codes, billing). @default captchaai */
  dialect?: SimDialect;
  /** Accepted keys (32 characters, as CaptchaAI's, in every dialect); empty: any key of 32 characters. */
  keys: string[];
  /** @default 10 */
  balanceUsd?: number;
  /** Unsolved tasks allowed per key; beyond: `capacityCode`. @default the dialect's: 50 (captchaai), no cap (the per-solve dialects) */
  threads?: number;
  /** What a submit past `threads` is answered. @default the dialect's: ERROR_ZERO_BALANCE (CaptchaAI's "no available threads"), else ERROR_NO_SLOT_AVAILABLE */
  capacityCode?: CapacityCode;
  /** Methods answered as not served (in.php `method`, or `grid`, `geetest_v4`; on the JSON APIs a task type or its in.php method). @default none */
  unsupported?: readonly string[];
  /** What an unsupported method is answered. @default the dialect's: ERROR_METHOD_CALL (2captcha's answer for a method it dropped) in.php */
  unsupportedCode?: string;
  /** @default { image: 3000, token: 10000 } */
  solveTimeMs?: { image: number; token: number };
  /** USD charged for each solve (one figure, or one per kind). @default the dialect's (docs/simulator.md); captchaai 0.001 */
  pricePerSolveUsd?: number | KindPrices;
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
  const spec = SIM_DIALECT_SPECS[options.dialect ?? "captchaai"];
  const random: Random = mulberry32(options.seed ?? Date.now());
  const tasks = new SimTasks(
    clock,
    random,
    options.balanceUsd ?? 10,
    options.solveTimeMs ?? { image: 3000, token: 10_000 },
    options.pricePerSolveUsd ?? { image: spec.pricePer1000Usd.image / 1000, token: spec.pricePer1000Usd.token / 1000 },
    options.threads ?? spec.threads ?? Infinity,
    { overdraws: spec.overdraws, ids: spec.ids },
  );
  tasks.answerLength = options.answerLength;
  const access = new SimAccess(clock, options.keys, { bans: spec.keys.banned !== undefined });
  let capacityCode: CapacityCode = options.capacityCode ?? spec.capacityCode;
  let unsupported: Unsupported = { methods: [...(options.unsupported ?? [])], code: options.unsupportedCode ?? spec.unsupportedCode };
  const faults = new Map<Selector, Fault>();
  const noCounts = (): Omit<SimCounts, "busyThreads" | "busyThreadSeconds" | "peakBusyThreads" | "spentUsd" | "charged"> => ({ requests: {}, submitted: 0, keyInQuery: 0, idleClosed: 0, staleDropped: 0, capacityRefusals: 0, bannedRequests: 0, unsupportedRefusals: 0 });
  let counts = noCounts();
  const readCounts = (): SimCounts => ({ ...structuredClone(counts), busyThreads: tasks.busyTotal(), ...tasks.usage(), spentUsd: tasks.spentUsd, charged: { ...tasks.charged } });
  const context: SimContext = {
    clock,
    tasks,
    access,
    spec,
    count: (what: CountKey) => void counts[what]++,
    capacityCode: () => capacityCode,
    unsupported: () => unsupported,
  };
  const protocol: SimProtocol = spec.protocol === "legacy" ? createLegacyProtocol(context) : createV2Protocol(context);
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
    setUnsupported: (methods, code = spec.unsupportedCode) => void (unsupported = { methods: [...methods], code }),
    reset: () => {
      control.clearFaults();
      counts = noCounts();
      tasks.resetUsage();
      tasks.resetSpend();
      submits = [];
      access.clear();
    },
    state: () => ({
      dialect: spec.name,
      threads: Number.isFinite(tasks.threads) ? tasks.threads : null,
      pricesUsd: { ...tasks.prices },
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
    const request = protocol.read(url, String(req.headers["content-type"] ?? ""), body);
    if (!request) {
      counts.requests.other = (counts.requests.other ?? 0) + 1;
      res.writeHead(404, { "content-type": "text/plain" }).end("Not Found");
      return;
    }
    if (request.keyInQuery) counts.keyInQuery++;
    if (request.submitted) submits = submits.length >= MAX_SUBMITS ? [...submits.slice(1), request.submitted] : [...submits, request.submitted];
    const selector = request.selector;
    counts.requests[selector] = (counts.requests[selector] ?? 0) + 1;
    const fault = faults.get(selector as Selector) ?? faults.get("all");
    const from = req.socket.remoteAddress ?? "unknown";
    const answer = () => (fault ? applyFault(res, fault, request, from) : request.answer(res, from));
    if (fault?.latencyMs) clock.setTimeout(answer, fault.latencyMs);
    else answer();
  }

  function applyFault(res: ServerResponse, fault: Fault, request: SimRequest, from: string): void {
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
    if (fault.error) return request.refuse(res, fault.error);
    request.answer(res, from); // a latency-only fault
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
