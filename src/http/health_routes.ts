/**
 * The health endpoints (docs/health.md): each serialises one document built from the pure health view and
 * takes its status code from the document's status; never awaits I/O, never answers 500.
 */
import type { Logger } from "../base/log.ts";
import { dependenciesDocument, healthReport, historyDocument, liveDocument, readyDocument, startupDocument } from "../health/health_documents.ts";
import type { HealthView } from "../health/health_view.ts";
import type { ReadinessNotifier } from "../health/readiness_notifier.ts";
import { JsonAnswer } from "./json_answer.ts";
import type { ServerResponse } from "node:http";
import type { Router } from "./router.ts";

interface Answer {
  status: number;
  body: unknown;
  type?: string;
}

/**
 * A handler that cannot fail: if computing the view throws (it should not), the answer is a 503
 * saying so, not a 500 and not a crash (a check wrapper, applied to the handler: a probe never answers 500).
 */
function guarded(log: Logger, compute: () => Answer) {
  // Per endpoint: the bytes are serialised again only when the document changes (json_answer.ts).
  const answers = new Map<string, JsonAnswer>();
  return (_req: unknown, res: ServerResponse) => {
    let out: Answer;
    try {
      out = compute();
    } catch (err) {
      log.error("health view failed", { err });
      out = { status: 503, body: { status: "error", error: "health state unavailable" } };
    }
    const type = out.type ?? "application/json";
    let answer = answers.get(type);
    if (!answer) answers.set(type, (answer = new JsonAnswer(type)));
    answer.send(res, out.status, out.body);
  };
}

export function registerHealthRoutes(router: Router, view: HealthView, notifier: Pick<ReadinessNotifier, "history">, log: Logger): void {
  router.on("GET", "/health/live", guarded(log, () => {
    const body = liveDocument(view.live());
    return { status: body.status === "ok" ? 200 : 503, body };
  }));

  router.on("GET", "/health/ready", guarded(log, () => {
    const body = readyDocument(view.evaluate(), view.thresholds);
    return { status: body.status === "ready" ? 200 : 503, body };
  }));

  router.on("GET", "/health/startup", guarded(log, () => {
    const body = startupDocument(view.phase);
    return { status: body.status === "started" ? 200 : 503, body };
  }));

  router.on("GET", "/health/dependencies", guarded(log, () => {
    const checks = view.dependencies();
    const body = dependenciesDocument(checks, view.providerStates(checks));
    return { status: body.status === "ok" ? 200 : 503, body };
  }));

  router.on("GET", "/health/history", guarded(log, () => ({ status: 200, body: historyDocument(view.evaluate().state, notifier.history()) })));

  router.on("GET", "/health", guarded(log, () => {
    const body = healthReport(view.state());
    return { status: body.status === "fail" ? 503 : 200, body, type: "application/health+json" };
  }));
}
