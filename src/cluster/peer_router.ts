/**
 * Any replica answers for any task (docs/cluster.md): a read of a task another node owns (its
 * number is in the id's low bits) is forwarded to that node once, within a bound that covers the
 * whole exchange (queueing for a socket included), and the owner's answer is passed back as it is.
 * The client's own credential travels as the client sent it (the owner checks it again); the peer
 * token rides in its own header, so the CaptchaAI key never does. A forwarded request carries
 * X-Captcha-Worker-Forwarded and is always answered where it lands, and names the node it is meant
 * for, so a wrong --peers map is refused instead of answered as an unknown task. Waiting reads use
 * their own connections and are capped per client, so one client's long-polls never hold the
 * sockets another client's read needs.
 */
import { Agent, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from "node:http";
import type { Readable } from "node:stream";
import type { Clock } from "../base/clock.ts";
import { WorkerError } from "../base/errors.ts";
import type { Logger } from "../base/log.ts";
import { RepeatLimiter } from "../base/repeat_limiter.ts";
import { secretMatcher } from "../base/secret_match.ts";
import type { Counter, Registry } from "../metrics/registry.ts";
import { createdAtOfTaskId, nodeOfTaskId } from "../tasks/task_id.ts";
import { sendRequest, type HttpAnswer } from "../http/http_client.ts";
import type { AskOutcome, ForwardedWait, OwnerQuestion, RouteOutcome, TaskRouting } from "../http/task_routing.ts";
import { forwardedHeaders, FORWARDED_HEADER, NODE_HEADER, PEER_TOKEN_HEADER, requestTarget, sendOwnerAnswer } from "./_forwarding.ts";

export { FORWARDED_HEADER, NODE_HEADER, PEER_TOKEN_HEADER } from "./_forwarding.ts";

/** How long an owner may take beyond the wait the client asked for. */
export const FORWARD_TIMEOUT_MS = 5000;
/** A client's waiting reads forwarded at once, at most; past it the task API answers 429 (docs/cluster.md). */
export const MAX_FORWARDED_WAITS = 8;
/** Sockets to one peer for reads that do not wait (the owner answers them at once). */
const READ_SOCKETS = 64;
/** The most of an owner's answer that is read; a longer one counts as no answer. */
const MAX_ANSWER_BYTES = 4 * 1024 * 1024;
/** The longest Retry-After told while an owner is unreachable. */
const MAX_RETRY_AFTER_S = 5;
/** Retry-After for a wait past MAX_FORWARDED_WAITS: about when one of the client's waits may end. */
const BUSY_RETRY_AFTER_S = 1;

export interface PeerRouterOptions {
  nodeId: number;
  /** Every node (this one included). */
  peers: readonly { node: number; url: URL }[];
  /** The shared token; undefined: forwarded requests are refused and nothing is forwarded. */
  token: string | undefined;
  /** --task-timeout: a task's deadline is its id's time plus this. */
  taskTimeoutMs: number;
  clock: Clock;
  log: Logger;
  /** @default FORWARD_TIMEOUT_MS */
  timeoutMs?: number;
  /** @default MAX_FORWARDED_WAITS */
  maxWaitsPerClient?: number;
  registry?: Registry;
  /** Writes an error as the HTTP edge does (http/problem.ts sendProblem): the refusal of a wrong peer token or node. */
  sendError: (res: ServerResponse, err: WorkerError) => void;
}

type Outcome = "forwarded" | "owner_unavailable" | "refused" | "misaddressed" | "busy";

export class PeerRouter implements TaskRouting {
  readonly #o: PeerRouterOptions;
  readonly #peers = new Map<number, URL>();
  readonly #tokenMatches: ((candidate: string) => boolean) | undefined;
  /** Reads answered at once share a bounded pool; queueing in it counts against each read's bound. */
  readonly #reads = new Agent({ keepAlive: true, maxSockets: READ_SOCKETS });
  /** Waiting reads have their own connections (bounded by the per-client cap), so they never queue reads. */
  readonly #waits = new Agent({ keepAlive: true });
  /** Forwarded waits under way per caller. */
  readonly #waiting = new Map<string, number>();
  #waitsOut = 0;
  readonly #counted: Counter | undefined;
  readonly #warnings: RepeatLimiter;

  constructor(o: PeerRouterOptions) {
    this.#o = o;
    for (const p of o.peers) this.#peers.set(p.node, p.url);
    this.#tokenMatches = o.token === undefined ? undefined : secretMatcher(o.token);
    this.#warnings = new RepeatLimiter(o.log, o.clock);
    this.#counted = o.registry?.counter(
      "captcha_worker_peer_requests_total",
      "Reads of tasks owned by another node, by outcome: forwarded (the owner answered), owner_unavailable, refused (a forwarded request with a wrong peer token), misaddressed (a forwarded request for another node id, either side: a wrong --peers map), busy (a waiting read past the client's cap, not forwarded).",
      ["outcome"],
    );
    for (const outcome of ["forwarded", "owner_unavailable", "refused", "misaddressed", "busy"]) this.#counted?.init({ outcome });
    o.registry?.gauge("captcha_worker_peer_waits", "Waiting reads forwarded to their owners now.", [], (set) => set(undefined, this.#waitsOut));
  }

  async route(id: string, req: IncomingMessage, res: ServerResponse, body?: Buffer, wait?: ForwardedWait): Promise<RouteOutcome> {
    const peerRequest = this.#peerRequest(req, res);
    if (peerRequest) return { kind: peerRequest };
    const node = nodeOfTaskId(id);
    if (node === undefined || node === this.#o.nodeId || this.#peers.size === 0 || !this.#tokenMatches) return { kind: "local" };
    const peer = this.#peers.get(node);
    if (!peer) return { kind: "unknown_node" };
    const incoming = new URL(req.url ?? "/", "http://peer.invalid");
    const waitMs = (wait?.seconds ?? 0) * 1000;
    const limit = this.#o.maxWaitsPerClient ?? MAX_FORWARDED_WAITS;
    const who = wait?.caller ?? "";
    if (waitMs > 0 && (this.#waiting.get(who) ?? 0) >= limit) {
      this.#count("busy");
      return { kind: "busy", limit, retryAfterS: BUSY_RETRY_AFTER_S };
    }
    if (waitMs > 0) this.#hold(who, +1);
    const streamed: Readable | undefined = body === undefined && req.method !== "GET" && req.method !== "HEAD" ? req : undefined;
    try {
      const answer = await whileClientStays(res, (signal) => this.#send(peer, node, incoming.pathname + incoming.search, {
        method: req.method ?? "GET", headers: forwardedHeaders(req.headers, body), body: body ?? streamed, signal,
        timeoutMs: (this.#o.timeoutMs ?? FORWARD_TIMEOUT_MS) + waitMs, agent: waitMs > 0 ? this.#waits : this.#reads,
      }));
      const actual = this.#misaddressed(answer, node, peer);
      if (actual === undefined) {
        this.#count("forwarded");
        sendOwnerAnswer(res, answer);
      } else {
        // This node's --peers is wrong: said to the client as such, never read as an unknown task.
        this.#o.sendError(res, new WorkerError("ERR_OWNER_MISADDRESSED", undefined, { data: { node, url: peer.href, actual } }));
      }
      return { kind: "answered" };
    } catch (err) {
      if (this.#o.log.enabled("debug")) this.#o.log.debug("task owner unreachable", { node, err });
      this.#count("owner_unavailable");
      return this.#unreachable(id);
    } finally {
      if (waitMs > 0) this.#hold(who, -1);
    }
  }

  async ask(questions: readonly OwnerQuestion[], req: IncomingMessage, res: ServerResponse): Promise<{ kind: "answered" } | { kind: "asked"; outcomes: AskOutcome[] }> {
    const peerRequest = this.#peerRequest(req, res);
    if (peerRequest === "answered") return { kind: "answered" };
    if (peerRequest === "local") return { kind: "asked", outcomes: questions.map(() => ({ kind: "local" })) };
    return { kind: "asked", outcomes: await whileClientStays(res, (signal) => Promise.all(questions.map((q) => this.#ask(q, req, signal)))) };
  }

  /** Closes the idle connections to peers. */
  close(): void {
    this.#reads.destroy();
    this.#waits.destroy();
  }

  /**
   * A peer's request (it carries FORWARDED_HEADER): the token first, before any task is looked at,
   * then the node it was meant for; "local" (answered here, never sent on) or "answered" (refused:
   * 403, or 421 for another node id). undefined: a client's.
   */
  #peerRequest(req: IncomingMessage, res: ServerResponse): "local" | "answered" | undefined {
    if (req.headers[FORWARDED_HEADER] === undefined) return undefined;
    if (!this.#tokenMatches?.(String(req.headers[PEER_TOKEN_HEADER] ?? ""))) {
      this.#o.sendError(res, new WorkerError("ERR_PEER_UNAUTHORIZED"));
      this.#count("refused");
      return "answered";
    }
    const expected = req.headers[NODE_HEADER];
    // A sender that names no node (an older version) is answered as before.
    if (expected === undefined || expected === String(this.#o.nodeId)) return "local";
    const from = String(req.headers[FORWARDED_HEADER]);
    this.#warnings.warn(`misaddressed:${from}:${String(expected)}`, "a peer forwarded a request meant for another node: its --peers maps that node to this node's address", {
      node: this.#o.nodeId, expected: String(expected), from,
    });
    this.#count("misaddressed");
    res.setHeader(NODE_HEADER, String(this.#o.nodeId));
    this.#o.sendError(res, new WorkerError("ERR_PEER_MISADDRESSED", undefined, { data: { node: this.#o.nodeId, expected: String(expected) } }));
    return "answered";
  }

  #unreachable(id: string): RouteOutcome & { kind: "unreachable" } {
    const deadline = (createdAtOfTaskId(id) ?? 0) + this.#o.taskTimeoutMs;
    const left = deadline - this.#o.clock.now();
    return { kind: "unreachable", final: left <= 0, retryAfterS: Math.max(1, Math.min(MAX_RETRY_AFTER_S, Math.ceil(left / 1000))) };
  }

  /** One question to its owner, its 2xx answer read whole within the forward's bound. */
  async #ask(q: OwnerQuestion, req: IncomingMessage, signal: AbortSignal): Promise<AskOutcome> {
    const node = nodeOfTaskId(q.ids[0] ?? "");
    if (node === undefined || node === this.#o.nodeId || this.#peers.size === 0 || !this.#tokenMatches) return { kind: "local" };
    const peer = this.#peers.get(node);
    if (!peer) return { kind: "unknown_node" };
    const body = Buffer.from(q.form.toString());
    const headers: OutgoingHttpHeaders = { "content-type": "application/x-www-form-urlencoded", "content-length": body.length };
    if (req.headers["user-agent"] !== undefined) headers["user-agent"] = req.headers["user-agent"];
    try {
      const answer = await this.#send(peer, node, q.path, { method: "POST", headers, body, signal, timeoutMs: this.#o.timeoutMs ?? FORWARD_TIMEOUT_MS, agent: this.#reads });
      if (this.#misaddressed(answer, node, peer) !== undefined) throw new Error(`the peer at ${peer.href} is not node ${node}`);
      if (answer.status < 200 || answer.status >= 300) throw new Error(`the owner answered ${answer.status}`);
      this.#count("forwarded");
      return { kind: "answer", body: answer.body.toString("utf8") };
    } catch (err) {
      if (this.#o.log.enabled("debug")) this.#o.log.debug("task owner unreachable", { node, err });
      this.#count("owner_unavailable");
      return { kind: "unreachable", final: q.ids.map((id) => this.#unreachable(id).final) };
    }
  }

  /** One request to a peer (path and query on its base URL) with the peer headers and the node it is meant for. */
  #send(peer: URL, node: number, pathAndQuery: string, o: { method: string; headers: OutgoingHttpHeaders; body: Buffer | Readable | undefined; signal: AbortSignal; timeoutMs: number; agent: Agent }): Promise<HttpAnswer> {
    const target = requestTarget(peer, pathAndQuery);
    o.headers[FORWARDED_HEADER] = String(this.#o.nodeId);
    o.headers[PEER_TOKEN_HEADER] = this.#o.token!;
    o.headers[NODE_HEADER] = String(node);
    return sendRequest(target, {
      ...o, clock: this.#o.clock, maxAnswerBytes: MAX_ANSWER_BYTES,
      // https peers use node's global https agent (loaded only then).
      agent: target.protocol === "https:" ? undefined : o.agent,
    });
  }

  /**
   * The node that answered, when the answer is its refusal of a request meant for another node
   * (logged and counted here too: this node's --peers is the wrong one); undefined otherwise.
   */
  #misaddressed(answer: HttpAnswer, node: number, peer: URL): string | undefined {
    const actual = answer.headers[NODE_HEADER];
    if (answer.status !== 421 || typeof actual !== "string") return undefined;
    this.#warnings.warn(`misaddressed-peer:${node}`, "--peers names the wrong address for a node: the peer there is another node", { expected: node, url: peer.href, actual });
    this.#count("misaddressed");
    return actual;
  }

  #hold(who: string, by: 1 | -1): void {
    const n = (this.#waiting.get(who) ?? 0) + by;
    if (n > 0) this.#waiting.set(who, n);
    else this.#waiting.delete(who);
    this.#waitsOut += by;
  }

  #count(outcome: Outcome): void {
    this.#counted?.inc({ outcome });
  }
}

/** Runs requests to peers under a signal that aborts when the client goes away: one listener on its response, however many requests. */
async function whileClientStays<T>(res: ServerResponse, run: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const gone = new AbortController();
  const onClose = () => gone.abort(new Error("the client went away"));
  res.once("close", onClose);
  try {
    return await run(gone.signal);
  } finally {
    res.off("close", onClose);
  }
}
