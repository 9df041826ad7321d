/**
 * The HAProxy agent-check responder (`--agent-listen`, docs/deploy-vm.md, HAProxy): one line per TCP connection, then
 * close; the line is computed from state in memory, so an agent check costs no I/O and never waits.
 */
import { createServer, type Socket } from "node:net";
import { formatHostPort, listen, type HostPort } from "../base/listen.ts";
import type { HealthView, ProviderStatus } from "../health/health_view.ts";
import type { Phase, ReadinessState } from "../health/readiness.ts";
import { formatIssue, type ReadinessIssue, type ReadinessWarning } from "../health/readiness_issue.ts";
import type { Logger } from "../base/log.ts";

/** HAProxy reads the reason into its stats page: keep it one short printable line. */
const MAX_REASON_CHARS = 100;
/** A peer that neither reads nor closes is cut off after this. */
const IDLE_TIMEOUT_MS = 2000;
const MAX_CONNECTIONS = 256;

/** On probation a worker gets at most this share of its weight: a few tasks, to tell. */
export const PROBATION_WEIGHT_PERCENT = 10;
/** With a warning (a long queue wait, saturation) at most this share: send new work elsewhere first. */
export const WARNING_WEIGHT_PERCENT = 50;

export interface AgentState {
  phase: Phase;
  ready: boolean;
  /** The readiness state (probation lowers the weight). @default "ready" when ready */
  state?: ReadinessState;
  issues: readonly ReadinessIssue[];
  /** Readiness warnings (`queue_wait`, `saturation`): they lower the weight. */
  warnings?: readonly ReadinessWarning[];
  inFlight: number;
  queueDepth: number;
  threads: number;
  queueMax: number;
}

/**
 * The share of free capacity HAProxy scales the server's configured `weight` by, in percent:
 *
 *   N = max(1, round(100 × T / (T + inFlight + queued) × (1 − queued / queueMax)))   T: capacityLeft's slots
 *
 * The first factor is the share of the worker's threads a new task would get: 100% idle, 50% with
 * every thread busy, 33% with a queue as long as the thread count. It falls with the backlog per
 * thread, which is how long a new task waits, and it does not depend on --queue-max: the plain
 * (inFlight + queued) / (threads + queueMax) would leave a saturated worker with the default queue of
 * 1000 at 98%, indistinguishable from an idle one. The second factor is the free share of the queue,
 * so a worker nearing queue_full (429) nears zero. The floor is 1%, not 0%: HAProxy treats a zero
 * weight as DRAIN, and a worker that is ready should still get some work (unready answers `down`).
 * Weights only matter relative to the other servers of the backend.
 */
export function freeCapacityPercent(s: Pick<AgentState, "inFlight" | "queueDepth" | "threads" | "queueMax">): number {
  const threads = Math.max(1, s.threads);
  const inFlight = Math.max(0, s.inFlight);
  const queued = Math.min(Math.max(0, s.queueDepth), s.queueMax);
  const threadShare = threads / (threads + inFlight + queued);
  const queueFree = s.queueMax > 0 ? 1 - queued / s.queueMax : 1;
  return Math.max(1, Math.round(100 * threadShare * queueFree));
}

/** What the weight is computed over: the slots that can take work now and the tasks holding them. */
export interface Capacity {
  /** T of freeCapacityPercent; 0: no provider can take work now. */
  threads: number;
  inFlight: number;
}

/**
 * The capacity left across providers (docs/deploy-vm.md, HAProxy): only providers that can take work now count
 * (one down, over its budget or removed by a reload adds neither slots nor load). The slots are the
 * thread plans' threads; a per-solve provider's tasks count as load but its slots do not while a plan
 * can take work, so a replica paying per solve weighs less than one with plan threads free and new
 * work goes where it costs nothing (a per-solve provider's cap is the worker's, not the account's).
 * With no plan able to take work, the per-solve providers' slots are the capacity. Undefined when a
 * provider's load is unknown (then --threads and the in-flight count, as with one upstream).
 */
export function capacityLeft(providers: readonly ProviderStatus[]): Capacity | undefined {
  if (providers.length === 0 || providers.some((p) => p.load === undefined)) return undefined;
  const up = providers.filter((p) => p.state === "up").map((p) => p.load!);
  const plans = up.filter((l) => l.plan !== undefined);
  return {
    threads: (plans.length > 0 ? plans : up).reduce((n, l) => n + l.limit, 0),
    inFlight: up.reduce((n, l) => n + l.busy, 0),
  };
}

/**
 * The agent's answer, newline included: `drain` while draining, `down #<issues>` when not ready,
 * else `up ready N%` (`ready` cancels a DRAIN this agent set before a restart; only the agent can),
 * N capped on probation and while a warning holds.
 *
 * The space before `#` is required: HAProxy splits the line into words at spaces, tabs and commas
 * and takes a description only from a word that starts with `#` (the rest of the line, commas
 * included); `down#reason` is one unknown word and leaves the server UP (checked on HAProxy 2.6).
 */
export function agentLine(s: AgentState): string {
  if (s.phase === "draining") return "drain\n";
  if (!s.ready) {
    // Printable ASCII only: a control character would end the line early.
    const reason = (s.issues.length > 0 ? s.issues.map(formatIssue).join(",") : "not_ready").replace(/[^\x21-\x7e]/g, "_").slice(0, MAX_REASON_CHARS);
    return `down #${reason}\n`;
  }
  // Ready, yet no provider can take work now (a lone provider's budget spent): the floor.
  let weight = s.threads > 0 ? freeCapacityPercent(s) : 1;
  if (s.state === "probation") weight = Math.min(weight, PROBATION_WEIGHT_PERCENT);
  else if ((s.warnings?.length ?? 0) > 0) weight = Math.min(weight, WARNING_WEIGHT_PERCENT);
  return `up ready ${weight}%\n`;
}

export interface HaproxyAgentOptions {
  listen: HostPort;
  /** Read once per connection (pure: an agent check changes nothing). */
  view: Pick<HealthView, "evaluate">;
  /** Each provider's state and load (the view's providerStates); without, `threads` and the in-flight count. */
  providers?: () => readonly ProviderStatus[];
  threads: number;
  queueMax: number;
  log: Logger;
}

export interface HaproxyAgent {
  /** The bound address (the real port when asked for port 0). */
  address: HostPort;
  /** Stops accepting and ends open connections. */
  close(): Promise<void>;
}

/** Starts the responder; rejects with ERR_LISTEN (the OS error as `cause`) if the address is taken. */
export async function startHaproxyAgent(o: HaproxyAgentOptions): Promise<HaproxyAgent> {
  const sockets = new Set<Socket>();
  const answer = (): string => {
    try {
      const r = o.view.evaluate();
      const capacity = o.providers && capacityLeft(o.providers());
      return agentLine({
        phase: r.phase,
        ready: r.ready,
        state: r.state,
        issues: r.issues,
        warnings: r.warnings,
        inFlight: capacity?.inFlight ?? r.snapshot.inFlight,
        queueDepth: r.snapshot.queueDepth,
        threads: capacity?.threads ?? o.threads,
        queueMax: o.queueMax,
      });
    } catch (err) {
      o.log.error("haproxy agent: cannot compute the answer", { err });
      return "down #agent_error\n";
    }
  };
  const server = createServer({ allowHalfOpen: false }, (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    // HAProxy closing first, resets, and `agent-send` bytes nobody asked for are all fine to drop.
    socket.on("error", () => {});
    socket.setTimeout(IDLE_TIMEOUT_MS, () => socket.destroy());
    socket.resume();
    socket.end(answer());
  });
  server.maxConnections = MAX_CONNECTIONS;
  const address = await listen(server, o.listen, { purpose: "for HAProxy agent checks", field: "--agent-listen" });
  // Later server errors (e.g. EMFILE on accept) must not crash the worker.
  server.on("error", (err) => o.log.warn("haproxy agent: server error", { err }));
  o.log.info("haproxy agent listening", { listen: formatHostPort(address) });
  return {
    address,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}
