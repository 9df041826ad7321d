/**
 * GET / : the status page for a person (docs/health.md), rendered from the same documents the health
 * endpoints serve, with the last hour from the status history and the changes /health/history keeps.
 */
import type { Logger } from "../base/log.ts";
import type { Config } from "../config/config.ts";
import { statusDocuments } from "../health/health_documents.ts";
import type { HealthView } from "../health/health_view.ts";
import type { UnsupportedTypes } from "../health/unsupported_types.ts";
import type { ReadinessNotifier } from "../health/readiness_notifier.ts";
import type { StatusHistory } from "../status_report/status_history.ts";
import { statusModel } from "../status_report/status_model.ts";
import { renderHtml, type StatusFacts } from "../status_report/status_page.ts";
import { sendText } from "./respond.ts";
import type { Router } from "./router.ts";

/** What the page adds to the health documents; each part is optional. */
export interface StatusPageSources {
  history?: StatusHistory;
  notifier?: Pick<ReadinessNotifier, "history"> & Partial<Pick<ReadinessNotifier, "changes">>;
  config?: Pick<Config, "upstream" | "threads" | "demo" | "nodeId" | "peers">;
  /** The upstream actually called, when not config.upstream (tests point the worker elsewhere). */
  upstream?: URL | undefined;
  /** Task types the upstream refused lately as unsupported: a line of their own. */
  unsupported?: Pick<UnsupportedTypes, "recent">;
  /** With a providers file, its providers in order: named instead of the lone upstream. */
  providers?: readonly string[] | undefined;
}

/** The facts a person wants first: never the key, and of the upstream URL only its host. */
export function statusFacts(config: NonNullable<StatusPageSources["config"]>, upstream = config.upstream, providers?: readonly string[]): StatusFacts {
  return { upstreamHost: upstream.host, providers, threads: config.threads, simulator: config.demo, nodeId: config.nodeId, peers: config.peers.length };
}

/** Every state change since the start (the notifier's history keeps only the last ones). */
const changesSinceStart = (n: StatusPageSources["notifier"]): number | undefined =>
  n?.changes && Object.values(n.changes).reduce((sum, k) => sum + k, 0);

export function registerStatusRoute(router: Router, view: HealthView, log: Logger, sources: StatusPageSources = {}): void {
  const facts = sources.config && statusFacts(sources.config, sources.upstream, sources.providers);
  router.on("GET", "/", (_req, res) => {
    let page: string;
    try {
      const history = sources.history?.view();
      page = renderHtml(statusModel(statusDocuments(view.state()), { tasks: history?.totals, providers: history?.providers }), 5, {
        history,
        changes: sources.notifier?.history(),
        changesTotal: changesSinceStart(sources.notifier),
        facts,
        unsupported: sources.unsupported?.recent(),
      });
    } catch (err) {
      log.error("status page failed", { err });
      page = `<!doctype html><title>captcha-worker</title><p>Health state unavailable; see <a href="/health">/health</a>.</p>`;
    }
    sendText(res, 200, page, "text/html; charset=utf-8");
  });
}
