/**
 * Any replica answers for any task (SPEC §12): a read of a task another node owns (its number is in
 * the id's low bits) is forwarded to that node once, with a bounded timeout, and the owner's answer
 * is passed back byte for byte. The client's own credential travels as the client sent it (the
 * owner checks it again); the peer token rides in its own header, so the CaptchaAI key never does.
 * A forwarded request carries X-Captcha-Worker-Forwarded and is always answered where it lands.
 */
import { Agent, request, type ClientRequest, type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from "node:http";
import { request as httpsRequest } from "node:https";
import type { Clock } from "../base/clock.ts";
import { WorkerError } from "../base/errors.ts";
import type { Logger } from "../base/log.ts";
import { secretMatcher } from "../base/secret_match.ts";
import type { Counter, Registry } from "../metrics/registry.ts";
import { createdAtOfTaskId, nodeOfTaskId } from "../tasks/task_id.ts";
import type { AskOutcome, OwnerQuestion, RouteOutcome, TaskRouting } from "../http/task_routing.ts";

/** Marks a request as forwarded by a peer (its value: the sender's node number); never forwarded again. */
export const FORWARDED_HEADER = "x-captcha-worker-forwarded";
/** The peers' shared token (--peer-token-file). */
export const PEER_TOKEN_HEADER = "x-captcha-worker-peer-token";
/** How long an owner may take beyond the wait the client asked for. */
export const FORWARD_TIMEOUT_MS = 5000;
/** The most of an owner's answer to a question (ask) that is read; a longer one counts as no answer. */
const MAX_ANSWER_BYTES = 4 * 1024 * 1024;
/** The longest Retry-After told while an owner is unreachable. */
const MAX_RETRY_AFTER_S = 5;
/** Client headers the owner needs; nothing else is passed on (no cookies, no proxies' headers). */
const PASSED_ON = ["authorization", "content-type", "content-length", "transfer-encoding", "prefer", "accept", "user-agent"];
/** Hop-by-hop headers not copied from the owner's answer. */
const HOP_BY_HOP = new Set(["connection", "keep-alive", "transfer-encoding", "proxy-connection", "upgrade"]);

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
  registry?: Registry;
  /** Writes an error as the HTTP edge does (http/problem.ts sendProblem): the refusal of a wrong peer token. */
  sendError: (res: ServerResponse, err: WorkerError) => void;
}

export class PeerRouter implements TaskRouting {
  readonly #o: PeerRouterOptions;
  readonly #peers = new Map<number, URL>();
  readonly #token: ((candidate: string) => boolean) | undefined;
  readonly #agent = new Agent({ keepAlive: true, maxSockets: 64 });
  readonly #counted: Counter | undefined;

  constructor(o: PeerRouterOptions) {
    this.#o = o;
    for (const p of o.peers) this.#peers.set(p.node, p.url);
    this.#token = o.token === undefined ? undefined : secretMatcher(o.token);
    this.#counted = o.registry?.counter(
      "captcha_worker_peer_requests_total",
      "Reads of tasks owned by another node, by outcome: forwarded (the owner answered), owner_unavailable, refused (a forwarded request with a wrong peer token).",
      ["outcome"],
    );
  }

  async route(id: string, req: IncomingMessage, res: ServerResponse, body?: Buffer, waitS = 0): Promise<RouteOutcome> {
    const peerRequest = this.#peerRequest(req, res);
    if (peerRequest) return { kind: peerRequest };
    const node = nodeOfTaskId(id);
    if (node === undefined || node === this.#o.nodeId || this.#peers.size === 0 || this.#token === undefined) return { kind: "local" };
    const peer = this.#peers.get(node);
    if (!peer) return { kind: "unknown_node" };
    try {
      await this.#forward(peer, req, res, body, waitS);
      this.#counted?.inc({ outcome: "forwarded" });
      return { kind: "answered" };
    } catch (err) {
      if (res.headersSent) {
        res.destroy(); // the owner went away part-way through its answer
        return { kind: "answered" };
      }
      if (this.#o.log.enabled("debug")) this.#o.log.debug("task owner unreachable", { node, err });
      this.#counted?.inc({ outcome: "owner_unavailable" });
      return this.#unreachable(id);
    }
  }

  async ask(questions: readonly OwnerQuestion[], req: IncomingMessage, res: ServerResponse): Promise<{ kind: "answered" } | { kind: "asked"; outcomes: AskOutcome[] }> {
    const peerRequest = this.#peerRequest(req, res);
    if (peerRequest === "answered") return { kind: "answered" };
    if (peerRequest === "local") return { kind: "asked", outcomes: questions.map(() => ({ kind: "local" })) };
    return { kind: "asked", outcomes: await whileClientStays(res, (outs) => Promise.all(questions.map((q) => this.#ask(q, req, outs)))) };
  }

  /**
   * A peer's request (it carries FORWARDED_HEADER): the token first, before any task is looked at;
   * "local" (answered here, never sent on) or "answered" (refused with 403). undefined: a client's.
   */
  #peerRequest(req: IncomingMessage, res: ServerResponse): "local" | "answered" | undefined {
    if (req.headers[FORWARDED_HEADER] === undefined) return undefined;
    if (this.#token?.(String(req.headers[PEER_TOKEN_HEADER] ?? ""))) return "local";
    this.#o.sendError(res, new WorkerError("ERR_PEER_UNAUTHORIZED"));
    this.#counted?.inc({ outcome: "refused" });
    return "answered";
  }

  /** Closes the idle connections to peers. */
  close(): void {
    this.#agent.destroy();
  }

  #unreachable(id: string): RouteOutcome & { kind: "unreachable" } {
    const deadline = (createdAtOfTaskId(id) ?? 0) + this.#o.taskTimeoutMs;
    const left = deadline - this.#o.clock.now();
    return { kind: "unreachable", final: left <= 0, retryAfterS: Math.max(1, Math.min(MAX_RETRY_AFTER_S, Math.ceil(left / 1000))) };
  }

  #forward(peer: URL, req: IncomingMessage, res: ServerResponse, body: Buffer | undefined, waitS: number): Promise<void> {
    const incoming = new URL(req.url ?? "/", "http://peer.invalid");
    const timeoutMs = (this.#o.timeoutMs ?? FORWARD_TIMEOUT_MS) + waitS * 1000;
    return whileClientStays(res, (outs) => this.#exchange<void>(peer, incoming.pathname + incoming.search, req.method ?? "GET", passedOn(req.headers, body), outs, timeoutMs, (out) => {
      if (body !== undefined) out.end(body);
      else if (req.method === "GET" || req.method === "HEAD") out.end();
      else req.pipe(out);
    }, (answer, settle, timer) => {
      timer.cancel(); // the owner's answer streams through as long as it takes
      const copied: OutgoingHttpHeaders = {};
      for (const [k, v] of Object.entries(answer.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) copied[k] = v;
      res.writeHead(answer.statusCode ?? 502, copied);
      answer.on("data", (c: Buffer) => res.write(c));
      answer.once("end", () => {
        res.end();
        settle(undefined, undefined);
      });
    }));
  }

  /** One question to its owner, its 2xx answer read whole (at most MAX_ANSWER_BYTES) within the forward's bound. */
  async #ask(q: OwnerQuestion, req: IncomingMessage, outs: Set<ClientRequest>): Promise<AskOutcome> {
    const node = nodeOfTaskId(q.ids[0] ?? "");
    if (node === undefined || node === this.#o.nodeId || this.#peers.size === 0 || this.#token === undefined) return { kind: "local" };
    const peer = this.#peers.get(node);
    if (!peer) return { kind: "unknown_node" };
    const body = Buffer.from(q.form.toString());
    const headers: OutgoingHttpHeaders = { "content-type": "application/x-www-form-urlencoded", "content-length": body.length };
    if (req.headers["user-agent"] !== undefined) headers["user-agent"] = req.headers["user-agent"];
    try {
      const answer = await this.#exchange<string>(peer, q.path, "POST", headers, outs, this.#o.timeoutMs ?? FORWARD_TIMEOUT_MS, (out) => out.end(body), (answer, settle) => {
        const chunks: Buffer[] = [];
        let size = 0;
        answer.on("data", (c: Buffer) => {
          size += c.length;
          if (size > MAX_ANSWER_BYTES) answer.destroy(new Error(`the owner's answer is over ${MAX_ANSWER_BYTES} bytes`));
          else chunks.push(c);
        });
        answer.once("end", () => {
          const status = answer.statusCode ?? 502;
          if (status >= 200 && status < 300) settle(undefined, Buffer.concat(chunks).toString("utf8"));
          else settle(new Error(`the owner answered ${status}`), undefined);
        });
      });
      this.#counted?.inc({ outcome: "forwarded" });
      return { kind: "answer", body: answer };
    } catch (err) {
      if (this.#o.log.enabled("debug")) this.#o.log.debug("task owner unreachable", { node, err });
      this.#counted?.inc({ outcome: "owner_unavailable" });
      return { kind: "unreachable", final: q.ids.map((id) => this.#unreachable(id).final) };
    }
  }

  /**
   * One request to a peer (path and query as given, on the peer's base URL) with the peer headers,
   * bounded by `timeoutMs` on the clock, kept in `outs` while out (see whileClientStays). `receive`
   * reads the answer and settles; the bound runs until it settles unless `receive` cancels it.
   */
  #exchange<T>(
    peer: URL, pathAndQuery: string, method: string, headers: OutgoingHttpHeaders, outs: Set<ClientRequest>, timeoutMs: number,
    send: (out: ClientRequest) => void,
    receive: (answer: IncomingMessage, settle: (err: Error | undefined, value: T | undefined) => void, timer: { cancel(): void }) => void,
  ): Promise<T> {
    const target = new URL(peer);
    const wanted = new URL(pathAndQuery, "http://peer.invalid");
    target.pathname = peer.pathname.replace(/\/$/, "") + wanted.pathname;
    target.search = wanted.search;
    headers[FORWARDED_HEADER] = String(this.#o.nodeId);
    headers[PEER_TOKEN_HEADER] = this.#o.token!;
    return new Promise<T>((resolve, reject) => {
      const https = target.protocol === "https:";
      const out = (https ? httpsRequest : request)(target, { method, headers, agent: https ? undefined : this.#agent });
      const timer = this.#o.clock.setTimeout(() => out.destroy(new Error(`no answer from the owner within ${timeoutMs}ms`)), timeoutMs);
      outs.add(out);
      let settled = false;
      const settle = (err: Error | undefined, value: T | undefined) => {
        if (settled) return;
        settled = true;
        timer.cancel();
        outs.delete(out);
        if (err) reject(err);
        else resolve(value as T);
      };
      out.once("error", (err) => settle(err, undefined));
      out.once("response", (answer) => {
        answer.once("error", (err) => settle(err, undefined));
        receive(answer, settle, timer);
      });
      send(out);
    });
  }
}

/** Runs requests to peers that are given up when the client goes away: one listener on its response, however many requests. */
async function whileClientStays<T>(res: ServerResponse, run: (outs: Set<ClientRequest>) => Promise<T>): Promise<T> {
  const outs = new Set<ClientRequest>();
  const gone = () => {
    for (const out of outs) out.destroy(new Error("the client went away"));
  };
  res.once("close", gone);
  try {
    return await run(outs);
  } finally {
    res.off("close", gone);
  }
}

function passedOn(h: IncomingHttpHeaders, body: Buffer | undefined): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const k of PASSED_ON) if (h[k] !== undefined) out[k] = h[k];
  if (body !== undefined) {
    delete out["transfer-encoding"];
    out["content-length"] = body.length;
  }
  return out;
}
