/** One GET with a deadline on the injected clock, for `probe` and `status`: never throws, never outlives its timeout. */
import { loadBuiltin } from "../base/builtin.ts";
import { request as httpRequest } from "node:http";
import { readCapped } from "../base/capped_read.ts";
import { systemClock, type Clock } from "../base/clock.ts";

export type GetResult = { status: number; body: string; ms: number } | { error: string; ms: number };

export function httpGet(url: URL, timeoutMs: number, clock: Clock = systemClock, maxBodyBytes = 1 << 20): Promise<GetResult> {
  const started = clock.now();
  const ms = () => Math.round(clock.now() - started);
  return new Promise((resolve) => {
    let done = false;
    const finish = (result: GetResult) => {
      if (done) return;
      done = true;
      timer.cancel();
      req.destroy();
      resolve(result);
    };
    const send = url.protocol === "https:" ? loadBuiltin("node:https").request : httpRequest;
    const req = send(url, { method: "GET", headers: { "user-agent": "captcha-worker-cli", connection: "close" } }, (res) => {
      // A body over the cap is cut at the cap, and the rest not waited for (finish destroys the request).
      readCapped(res, maxBodyBytes).then(
        (read) => finish({ status: res.statusCode ?? 0, body: (read.kind === "complete" ? read.body : read.head).toString("utf8"), ms: ms() }),
        (err: Error) => finish({ error: err.message, ms: ms() }),
      );
    });
    const timer = clock.setTimeout(() => finish({ error: `no answer within ${timeoutMs}ms`, ms: ms() }), timeoutMs);
    req.on("error", (err: NodeJS.ErrnoException) => finish({ error: err.code ?? err.message, ms: ms() }));
    req.end();
  });
}
