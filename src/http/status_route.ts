/** GET / : the status page for a person (SPEC §4), rendered from the same documents the health endpoints serve. */
import type { Logger } from "../base/log.ts";
import { statusDocuments } from "../health/health_documents.ts";
import type { HealthView } from "../health/health_view.ts";
import { statusModel } from "../status_report/status_model.ts";
import { renderHtml } from "../status_report/status_render.ts";
import { sendText } from "./respond.ts";
import type { Router } from "./router.ts";

export function registerStatusRoute(router: Router, view: HealthView, log: Logger): void {
  router.on("GET", "/", (_req, res) => {
    let page: string;
    try {
      page = renderHtml(statusModel(statusDocuments(view.state())));
    } catch (err) {
      log.error("status page failed", { err });
      page = `<!doctype html><title>captcha-worker</title><p>Health state unavailable; see <a href="/health">/health</a>.</p>`;
    }
    sendText(res, 200, page, "text/html; charset=utf-8");
  });
}
