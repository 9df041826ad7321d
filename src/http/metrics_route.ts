/** GET /metrics: the Prometheus text exposition, rendered at scrape time. */
import { CONTENT_TYPE, type Registry } from "../metrics/registry.ts";
import { sendText } from "./respond.ts";
import type { Router } from "./router.ts";

export function registerMetricsRoute(router: Router, registry: Registry): void {
  router.on("GET", "/metrics", (_req, res) => sendText(res, 200, registry.render(), CONTENT_TYPE));
}
