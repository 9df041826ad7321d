/** The health endpoints (SPEC §4): read state in memory, never await I/O, never answer 500. */
import type { HealthView } from "../health/health_view.ts";
import type { Logger } from "../base/log.ts";
import { sendJson } from "./respond.ts";
import type { Router } from "./router.ts";

/**
 * A handler that cannot fail: if computing the view throws (it should not), the answer is a 503
 * saying so, not a 500 and not a crash (the seed's "wrap every check" row, applied to the handler).
 */
function guarded(log: Logger, compute: () => { status: number; body: unknown; type?: string }) {
  return (_req: unknown, res: Parameters<typeof sendJson>[0]) => {
    let out: { status: number; body: unknown; type?: string };
    try {
      out = compute();
    } catch (err) {
      log.error("health view failed", { err });
      out = { status: 503, body: { status: "error", error: "health state unavailable" } };
    }
    sendJson(res, out.status, out.body, out.type);
  };
}

export function registerHealthRoutes(router: Router, view: HealthView, log: Logger): void {
  router.on("GET", "/health/live", guarded(log, () => {
    const live = view.live();
    return live.ok
      ? { status: 200, body: { status: "ok", uptime_s: live.uptimeS } }
      : { status: 503, body: { status: "stuck", uptime_s: live.uptimeS, stalled_s: Math.floor(live.stalledMs / 1000) } };
  }));

  router.on("GET", "/health/ready", guarded(log, () => {
    const r = view.evaluate();
    return { status: r.ready ? 200 : 503, body: view.readyBody(r) };
  }));

  router.on("GET", "/health/startup", guarded(log, () =>
    view.phase === "starting" ? { status: 503, body: { status: "starting" } } : { status: 200, body: { status: "started" } },
  ));

  router.on("GET", "/health/dependencies", guarded(log, () => {
    const { ok, body } = view.dependenciesBody(view.dependencies());
    return { status: ok ? 200 : 503, body };
  }));

  router.on("GET", "/health", guarded(log, () => {
    const { status, body } = view.report();
    return { status: status === "fail" ? 503 : 200, body, type: "application/health+json" };
  }));
}
