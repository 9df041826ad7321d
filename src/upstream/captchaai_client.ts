/**
 * The CaptchaAI (2captcha-compatible) protocol client: in.php and res.php, always `json=1`, the key
 * only in a POST form body (never in a URL), every call bounded by a connect timeout and a response
 * timeout on the injected clock, every answer classified (never thrown), bodies read with a size cap
 * (upstream_call.ts: a call never delivered is known so; polls, balance reads and reports are sent
 * again on a new connection after a stale keep-alive one, a submit never is).
 */
import { classifyAnswer, type RawAnswer } from "./classify.ts";
import { BALANCE, POLL, REPORT, SUBMIT, type Endpoint, type OutcomeKind } from "./endpoints.ts";
import type { Outcome } from "./outcome.ts";
import type { TaskParams } from "../tasks/task_catalogue.ts";
import type { TaskProxy } from "../tasks/task_proxy.ts";
import { taskToForm } from "./task_form.ts";
import { callUpstream, clientParts, IDEMPOTENT, type ClientOptions } from "./upstream_call.ts";

export type { Endpoint };

export interface CaptchaAiClientOptions extends ClientOptions {
  /** Called after every call, for metrics. */
  onCall?: (endpoint: Endpoint, kind: OutcomeKind, durationMs: number) => void;
}

export interface CaptchaAiClient {
  submit(task: TaskParams, signal?: AbortSignal): Promise<Outcome<string>>;
  /** `proxy`: the task's, whose password is redacted from the answer as the key is (an upstream may echo it). */
  poll(id: string, signal?: AbortSignal, proxy?: TaskProxy): Promise<Outcome<RawAnswer>>;
  balance(signal?: AbortSignal): Promise<Outcome<number>>;
  report(id: string, correct: boolean, signal?: AbortSignal): Promise<Outcome<string>>;
  /** Closes idle upstream connections. */
  close(): void;
}

export function createCaptchaAiClient(o: CaptchaAiClientOptions): CaptchaAiClient {
  const { setup, key, redact, close } = clientParts(o);
  const clock = setup.clock;
  const inUrl = new URL("in.php", o.baseUrl);
  const resUrl = new URL("res.php", o.baseUrl);

  async function call<T>(
    endpoint: Endpoint,
    url: URL,
    fields: Record<string, string>,
    value: (answer: RawAnswer) => T | undefined,
    signal?: AbortSignal,
    proxy?: TaskProxy,
  ): Promise<Outcome<T>> {
    const started = clock.now();
    // A task's proxy password is redacted from what the upstream echoes of this call, on top of the key.
    const callRedact = proxy ? (t: string) => proxy.redact(redact(t)) : redact;
    const form = new URLSearchParams({ key: key(), json: "1", ...fields });
    if (o.softId) form.set("soft_id", o.softId);
    const outcome = await callUpstream(setup, {
      name: endpoint,
      url,
      body: form.toString(),
      idempotent: IDEMPOTENT.has(endpoint),
      signal,
      classify: (answer) => classifyAnswer(answer, value, { redact: callRedact }),
    });
    o.onCall?.(endpoint, outcome.kind, clock.now() - started);
    return outcome;
  }

  return {
    submit: (task, signal) => call(SUBMIT, inUrl, taskToForm(task), text(idValue), signal, task.proxy),
    poll: (id, signal, proxy) => call(POLL, resUrl, { action: "get", id }, (a) => (a.request === "" ? undefined : a), signal, proxy),
    balance: (signal) => call(BALANCE, resUrl, { action: "getbalance" }, text(balanceValue), signal),
    report: (id, correct, signal) =>
      call(REPORT, resUrl, { action: correct ? "reportgood" : "reportbad", id }, text((r) => r), signal),
    close,
  };
}

/** A value read from the answer's text (a number as text); an answer that is not text is none. */
function text<T>(value: (request: string) => T | undefined): (a: RawAnswer) => T | undefined {
  return (a) => (typeof a.request === "string" ? value(a.request) : undefined);
}

/** Upstream ids are strings even when JSON sends a number. */
export function idValue(request: string): string | undefined {
  const id = request.trim();
  return /^[A-Za-z0-9_-]{1,64}$/.test(id) ? id : undefined;
}

/** A balance is a decimal number ("12.5", "-3.20", "1e-7"): Number() alone would also take 0x10, 0b101 and 0o7. */
export function balanceValue(request: string): number | undefined {
  const text = request.trim();
  const n = Number(text);
  return /^-?\d+(?:\.\d+)?(?:e[+-]?\d+)?$/i.test(text) && Number.isFinite(n) ? n : undefined;
}
