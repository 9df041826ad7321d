/** One GET with a deadline on the injected clock, for `probe` and `status`: never throws, never outlives its timeout. */
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
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
    const send = url.protocol === "https:" ? httpsRequest : httpRequest;
    const req = send(url, { method: "GET", headers: { "user-agent": "captcha-worker-cli", connection: "close" } }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (c: Buffer) => {
        if (size < maxBodyBytes) chunks.push(c);
        size += c.length;
      });
      res.on("end", () => finish({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8", 0, maxBodyBytes), ms: ms() }));
      res.on("error", (err) => finish({ error: err.message, ms: ms() }));
    });
    const timer = clock.setTimeout(() => finish({ error: `no answer within ${timeoutMs}ms`, ms: ms() }), timeoutMs);
    req.on("error", (err: NodeJS.ErrnoException) => finish({ error: err.code ?? err.message, ms: ms() }));
    req.end();
  });
}
