/** The health endpoints: read precomputed state only, never await I/O, never answer 500. */
import type { Clock } from "../clock.ts";
import { sendJson } from "./respond.ts";
import type { Router } from "./router.ts";

export interface HealthRoutesOptions {
  clock: Clock;
  startedAtMs: number;
}

export function registerHealthRoutes(router: Router, opts: HealthRoutesOptions): void {
  router.on("GET", "/health/live", (_req, res) => {
    sendJson(res, 200, { status: "ok", uptime_s: Math.floor((opts.clock.now() - opts.startedAtMs) / 1000) });
  });
}
