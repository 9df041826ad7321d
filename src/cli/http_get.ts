/** One GET for `probe` and `status` through the worker's HTTP client (http/http_client.ts): never throws, never outlives its timeout. */
import { systemClock, type Clock } from "../base/clock.ts";
import { HttpClientError, sendRequest } from "../http/http_client.ts";

export type GetResult = { status: number; body: string; ms: number } | { error: string; ms: number };

/** A body over `maxBodyBytes` is cut there; the rest is not waited for. */
export async function httpGet(url: URL, timeoutMs: number, clock: Clock = systemClock, maxBodyBytes = 1 << 20): Promise<GetResult> {
  const started = clock.now();
  const ms = () => Math.round(clock.now() - started);
  try {
    const answer = await sendRequest(url, {
      clock, timeoutMs, maxAnswerBytes: maxBodyBytes, overCap: "cut", agent: false,
      headers: { "user-agent": "captcha-worker-cli", connection: "close" },
    });
    return { status: answer.status, body: answer.body.toString("utf8"), ms: ms() };
  } catch (err) {
    const kind = err instanceof HttpClientError ? err.kind : "network";
    return { error: kind === "timeout" ? `no answer within ${timeoutMs}ms` : (err as Error).message, ms: ms() };
  }
}
