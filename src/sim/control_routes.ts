/**
 * The simulator's control API under /__sim/ (JSON in and out, no key needed): faults per endpoint,
 * balance, unsolvable ratio, the idle timeout of keep-alive connections, the code past the thread
 * limit, methods answered as unsupported, reset, the counts of everything received and the last
 * in.php forms.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { isSelector, parseFault, SELECTORS } from "./faults.ts";
import { CAPACITY_CODES, type CapacityCode, type SimControl, type SimCounts } from "./sim_control.ts";

export function handleControl(req: IncomingMessage, res: ServerResponse, url: URL, body: Buffer, control: SimControl, counts: () => SimCounts, submits: () => Record<string, string>[]): void {
  const send = (status: number, value: unknown) => {
    const text = JSON.stringify(value);
    res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) }).end(text);
  };
  let input: Record<string, unknown> = {};
  if (body.length > 0) {
    try {
      const parsed: unknown = JSON.parse(body.toString("utf8"));
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error();
      input = parsed as Record<string, unknown>;
    } catch {
      return send(400, { error: "expected a JSON object" });
    }
  }
  const route = `${req.method} ${url.pathname}`;
  switch (route) {
    case "GET /__sim/counts":
      return send(200, counts());
    case "GET /__sim/submits":
      return send(200, submits());
    case "GET /__sim/state":
      return send(200, control.state());
    case "POST /__sim/reset":
      control.reset();
      return send(200, control.state());
    case "POST /__sim/faults": {
      const endpoint = input.endpoint ?? "all";
      if (!isSelector(endpoint)) return send(400, { error: `endpoint: one of ${SELECTORS.join(", ")}` });
      try {
        control.setFault(endpoint, parseFault(input));
      } catch (err) {
        return send(400, { error: (err as Error).message });
      }
      return send(200, control.state());
    }
    case "DELETE /__sim/faults":
      control.clearFaults();
      return send(200, control.state());
    case "POST /__sim/balance":
      if (typeof input.balance !== "number" || !Number.isFinite(input.balance)) return send(400, { error: "balance: a number" });
      control.setBalance(input.balance);
      return send(200, control.state());
    case "POST /__sim/idle-timeout": {
      const idleMs = input.idle_ms ?? input.idleMs;
      const onIdle = input.on_idle ?? input.onIdle ?? "close";
      if (typeof idleMs !== "number" || !Number.isInteger(idleMs) || idleMs < 1 || idleMs > 3_600_000) return send(400, { error: "idle_ms: 1 to 3600000" });
      const closeLatencyMs = input.close_latency_ms ?? input.closeLatencyMs ?? 0;
      if (onIdle !== "close" && onIdle !== "reset") return send(400, { error: "on_idle: close or reset" });
      if (typeof closeLatencyMs !== "number" || !Number.isInteger(closeLatencyMs) || closeLatencyMs < 0 || closeLatencyMs > 60_000) return send(400, { error: "close_latency_ms: 0 to 60000" });
      control.setIdleTimeout({ idleMs, onIdle, closeLatencyMs });
      return send(200, control.state());
    }
    case "DELETE /__sim/idle-timeout":
      control.setIdleTimeout(undefined);
      return send(200, control.state());
    case "POST /__sim/capacity-code":
      if (!(CAPACITY_CODES as readonly unknown[]).includes(input.code)) return send(400, { error: `code: ${CAPACITY_CODES.join(" or ")}` });
      control.setCapacityCode(input.code as CapacityCode);
      return send(200, control.state());
    case "POST /__sim/unsupported": {
      const methods = input.methods;
      const code = input.code;
      if (!Array.isArray(methods) || methods.length > 100 || !methods.every((m) => typeof m === "string" && /^[a-z0-9_]{1,64}$/.test(m))) return send(400, { error: "methods: a list of method names such as geetest" });
      if (code !== undefined && (typeof code !== "string" || !/^[A-Za-z0-9_: ]{3,64}$/.test(code))) return send(400, { error: "code: an upstream code such as ERROR_METHOD_CALL, or words such as Unsupported captcha type" });
      control.setUnsupported(methods as string[], code as string | undefined);
      return send(200, control.state());
    }
    case "DELETE /__sim/unsupported":
      control.setUnsupported([]);
      return send(200, control.state());
    case "POST /__sim/unsolvable":
      if (typeof input.ratio !== "number" || !(input.ratio >= 0 && input.ratio <= 1)) return send(400, { error: "ratio: 0 to 1" });
      control.setUnsolvableRatio(input.ratio);
      return send(200, control.state());
    default:
      return send(404, { error: "unknown control endpoint", endpoints: ["GET counts", "GET submits", "GET state", "POST reset", "POST faults", "DELETE faults", "POST balance", "POST unsolvable", "POST idle-timeout", "DELETE idle-timeout", "POST capacity-code", "POST unsupported", "DELETE unsupported"] });
  }
}
