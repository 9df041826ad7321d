/**
 * The JSON-API protocol client (anti-captcha's API v2, and CapSolver's, CapMonster Cloud's and
 * api.2captcha.com's in their dialects): createTask, getTaskResult, getBalance and the reports,
 * each a JSON POST below the provider's base URL with the key only in the body (`clientKey`), under
 * the same rules as the in.php client (upstream_call.ts: timeouts on the injected clock, a size cap,
 * maybeDelivered, a stale keep-alive connection retried only for idempotent calls) and the same
 * outcome classes (v2_classify.ts). The task object is the catalogue's, in the dialect
 * (tasks/task_dialects.ts). A poll's solution reaches the solver as its answer's `request` (the
 * `solution` object) beside the answer's other fields (`cost` as a number), and the catalogue reads
 * it as it reads an in.php answer (task_dialects.ts solutionFromV2).
 */
import type { TaskParams, TaskType } from "../tasks/task_catalogue.ts";
import { v2TaskFor, type Dialect } from "../tasks/task_dialects.ts";
import type { TaskProxy } from "../tasks/task_proxy.ts";
import { balanceValue, idValue } from "./captchaai_client.ts";
import type { RawAnswer } from "./classify.ts";
import { BALANCE, POLL, REPORT, SUBMIT, type Endpoint, type OutcomeKind } from "./endpoints.ts";
import type { Outcome } from "./outcome.ts";
import { JSON_BODY } from "./transport.ts";
import { callUpstream, clientParts, IDEMPOTENT, type ClientOptions } from "./upstream_call.ts";
import { classifyV2, type V2Result } from "./v2_classify.ts";

export interface V2ClientOptions extends ClientOptions {
  dialect: Dialect;
  /**
   * Called after every call, for metrics: the call's role under the in.php names the metrics know
   * (in.php: createTask; res.php:get: getTaskResult; res.php:getbalance; res.php:report), and the
   * JSON-API method it was.
   */
  onCall?: (endpoint: Endpoint, kind: OutcomeKind, durationMs: number, method: string) => void;
}

export interface V2Client {
  readonly dialect: Dialect;
  /** createTask; ERROR_TASK_NOT_SUPPORTED (charged to nobody, nothing sent) for a task the dialect does not take. */
  submit(task: TaskParams, signal?: AbortSignal): Promise<Outcome<string>>;
  /** getTaskResult: not_ready while processing; ok with `{request: solution, fields: {cost?, ...}}`. */
  /** `proxy`: the task's, whose password is redacted from the answer as the key is (a service may echo it). */
  poll(id: string, signal?: AbortSignal, proxy?: TaskProxy): Promise<Outcome<RawAnswer>>;
  /** getBalance, in USD. */
  balance(signal?: AbortSignal): Promise<Outcome<number>>;
  /**
   * The dialect's report for the task: ok `OK_REPORT_RECORDED` when sent and taken, ok
   * `REPORT_NOT_SUPPORTED` (nothing sent) where the dialect has none for its type. `type`: the
   * task's (anti-captcha's method depends on it); @default the type this client submitted it with
   */
  report(id: string, correct: boolean, signal?: AbortSignal, type?: TaskType): Promise<Outcome<string>>;
  /** Closes idle upstream connections. */
  close(): void;
}

/** The answer fields a RawAnswer leaves out: the envelope and the solution (its `request`). */
const ENVELOPE = new Set(["errorId", "errorCode", "errorDescription", "status", "solution"]);
/** Remembered task types and early solutions: bounded, the oldest dropped first. */
const MAX_REMEMBERED = 10_000;
const RECAPTCHA: ReadonlySet<string> = new Set(["recaptcha_v2", "recaptcha_v3"]);

/**
 * Each dialect's report method for a task's type: undefined, none (nothing is sent); anti-captcha
 * reports wrong images and reCAPTCHA tokens, and right reCAPTCHA tokens (anti-captcha.com/apidoc
 * methods); 2captcha's API v2 takes reportIncorrect and reportCorrect for any task; CapSolver its
 * feedbackTask; CapMonster Cloud documents none.
 */
const REPORT_METHODS: Readonly<Record<Dialect, (type: string, correct: boolean) => string | undefined>> = {
  anticaptcha: (type, correct) =>
    correct ? (RECAPTCHA.has(type) ? "reportCorrectRecaptcha" : undefined) : type === "image" ? "reportIncorrectImageCaptcha" : RECAPTCHA.has(type) ? "reportIncorrectRecaptcha" : undefined,
  "2captcha": (_type, correct) => (correct ? "reportCorrect" : "reportIncorrect"),
  capsolver: () => "feedbackTask",
  capmonster: () => undefined,
};

export function createV2Client(o: V2ClientOptions): V2Client {
  const { setup, key, redact, close } = clientParts(o);
  const clock = setup.clock;
  const dialect = o.dialect;
  /** The type of each task this client submitted, for its report. */
  const types = new Map<string, string>();
  /** Solutions createTask answered at once (CapSolver's recognition tasks), served by the first poll. */
  const early = new Map<string, RawAnswer>();

  async function call<T>(endpoint: Endpoint, method: string, payload: Record<string, unknown>, read: (r: V2Result) => Outcome<T> | undefined, signal?: AbortSignal, proxy?: TaskProxy): Promise<Outcome<T>> {
    const started = clock.now();
    // A task's proxy password is redacted from what the upstream echoes of this call, on top of the key.
    const callRedact = proxy ? (t: string) => proxy.redact(redact(t)) : redact;
    const outcome = await callUpstream(setup, {
      name: method,
      url: new URL(method, o.baseUrl),
      body: JSON.stringify({ clientKey: key(), ...payload }),
      contentType: JSON_BODY,
      idempotent: IDEMPOTENT.has(endpoint),
      signal,
      classify: (answer) => classifyV2(answer, read, { redact: callRedact }),
    });
    o.onCall?.(endpoint, outcome.kind, clock.now() - started, method);
    return outcome;
  }

  const soft = (): Record<string, unknown> => {
    if (!o.softId) return {};
    if (dialect === "capsolver") return { appId: o.softId };
    return /^\d{1,15}$/.test(o.softId) ? { softId: Number(o.softId) } : {};
  };

  return {
    dialect,
    submit: async (params, signal) => {
      const task = v2TaskFor(params, dialect);
      if (task === undefined) {
        const how = params.proxy ? "with a proxy" : "without a proxy";
        return { kind: "task_failed", code: "ERROR_TASK_NOT_SUPPORTED", message: `The ${dialect} dialect has no task type for ${params.type} ${how}; nothing was sent.`, blame: "nobody" };
      }
      return call<string>(SUBMIT, "createTask", { task, ...soft() }, (r) => {
        const id = taskIdOf(r.taskId);
        if (id === undefined) return undefined;
        remember(types, id, params.type);
        // CapSolver answers recognition tasks (ImageToTextTask) in createTask itself: status ready, the
        // solution beside the taskId (docs.capsolver.com, createTask: "synchronous task response").
        if (r.status === "ready" && isObject(r.solution)) remember(early, id, answerOf(r));
        return { kind: "ok", value: id };
      }, signal, params.proxy);
    },
    poll: async (id, signal, proxy) => {
      const ready = early.get(id);
      if (ready !== undefined) {
        early.delete(id);
        return { kind: "ok", value: ready };
      }
      return call<RawAnswer>(POLL, "getTaskResult", { taskId: wireId(id) }, (r) => {
        if (r.status === "ready") return isObject(r.solution) ? { kind: "ok", value: answerOf(r) } : undefined;
        // anti-captcha and 2captcha say processing; CapSolver also idle (queued: its getTaskResult page).
        if (r.status === "processing" || r.status === "idle") return { kind: "not_ready" };
        return undefined;
      }, signal, proxy);
    },
    balance: (signal) => call<number>(BALANCE, "getBalance", {}, (r) => {
      const usd = typeof r.balance === "number" || typeof r.balance === "string" ? balanceValue(String(r.balance)) : undefined;
      return usd === undefined ? undefined : { kind: "ok", value: usd };
    }, signal),
    report: async (id, correct, signal, type) => {
      const taskType = type ?? types.get(id);
      if (taskType === undefined && dialect === "anticaptcha") {
        return { kind: "task_failed", code: "ERROR_REPORT_NOT_RECORDED", message: `The type of task ${id} is not known here; anti-captcha's report method depends on it.`, blame: "worker" };
      }
      const method = REPORT_METHODS[dialect](taskType ?? "", correct);
      if (method === undefined) return { kind: "ok", value: "REPORT_NOT_SUPPORTED" };
      const payload = dialect === "capsolver" ? { taskId: wireId(id), result: { invalid: !correct } } : { taskId: wireId(id) };
      return call<string>(REPORT, method, payload, () => ({ kind: "ok", value: "OK_REPORT_RECORDED" }), signal);
    },
    close,
  };
}

/** USD the provider says a solved task cost (`cost` of getTaskResult: 2captcha and anti-captcha), or undefined. */
export function costUsdOf(answer: RawAnswer): number | undefined {
  const cost = answer.fields.cost;
  return typeof cost === "number" && Number.isFinite(cost) && cost >= 0 ? cost : undefined;
}

/** A poll's answer: the solution as its request, the other fields beside it, `cost` as a number (its text is a decimal). */
function answerOf(r: V2Result): RawAnswer {
  const fields: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(r)) if (!ENVELOPE.has(k)) fields[k] = v;
  const cost = typeof r.cost === "number" || typeof r.cost === "string" ? balanceValue(String(r.cost)) : undefined;
  if (cost === undefined) delete fields.cost;
  else fields.cost = cost;
  return { request: r.solution, fields };
}

/** A task id as a string: anti-captcha's and 2captcha's are numbers, CapSolver's are UUIDs. */
function taskIdOf(v: unknown): string | undefined {
  if (typeof v === "number") return Number.isSafeInteger(v) && v > 0 ? String(v) : undefined;
  return typeof v === "string" ? idValue(v) : undefined;
}

/** The id as the service sent it: a number when it is one (anti-captcha's client checks `taskId > 0`). */
function wireId(id: string): string | number {
  const n = Number(id);
  return /^\d{1,15}$/.test(id) && Number.isSafeInteger(n) ? n : id;
}

function remember<V>(map: Map<string, V>, id: string, value: V): void {
  map.delete(id);
  map.set(id, value);
  if (map.size > MAX_REMEMBERED) map.delete(map.keys().next().value!);
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
