/**
 * `captcha-worker status`: reads a running worker's /health/ready, /health/dependencies and /health
 * and prints a compact table for a person (colour only on a TTY), or the model as JSON with --json.
 * Exit 0 ready, 1 not ready, 2 unreachable.
 */
import type { FlagValues } from "../config/config.ts";
import { STATUS_FLAGS } from "../config/options.ts";
import { statusModel } from "../status_report/status_model.ts";
import { providerJson } from "../status_report/provider_rows.ts";
import { readStatusDocs } from "../status_report/status_docs.ts";
import { renderText } from "../status_report/status_render.ts";
import { httpGet } from "./http_get.ts";
import { resolveTarget } from "./probe.ts";
import { EXIT_FAILURE, EXIT_OK, type Runtime } from "../base/runtime.ts";

export const EXIT_UNREACHABLE = 2;

export async function runStatusCommand(flags: FlagValues, rt: Runtime): Promise<number> {
  const { base, timeoutMs } = resolveTarget(STATUS_FLAGS, flags, rt.env);
  const paths = { ready: "/health/ready", dependencies: "/health/dependencies", health: "/health" } as const;
  const answers = await Promise.all(Object.values(paths).map((p) => httpGet(new URL(p, base), timeoutMs)));
  const docs: Record<string, unknown> = {};
  let readyStatus = 0;
  for (const [i, key] of Object.keys(paths).entries()) {
    const a = answers[i]!;
    if ("error" in a) {
      rt.stderr(`captcha-worker status: ${base.href} unreachable: ${a.error}\n`);
      return EXIT_UNREACHABLE;
    }
    if (key === "ready") readyStatus = a.status;
    try {
      docs[key] = JSON.parse(a.body);
    } catch {
      rt.stderr(`captcha-worker status: ${new URL(paths[key as keyof typeof paths], base).href} answered ${a.status} without JSON; is this a captcha-worker?\n`);
      return EXIT_UNREACHABLE;
    }
  }
  const read = readStatusDocs({ ready: docs.ready, dependencies: docs.dependencies, health: docs.health });
  if (read.ready.status === undefined && read.ready.state === undefined) {
    // JSON, but no readiness in it (another service's health endpoint on that port): not a worker.
    rt.stderr(`captcha-worker status: ${new URL(paths.ready, base).href} answered ${readyStatus} without a readiness status; is this a captcha-worker?\n`);
    return EXIT_UNREACHABLE;
  }
  const model = statusModel(read);
  if (flags.json === true) {
    // Numbers as numbers for scripts; the formatted rows are the text view's.
    const { rows: _rows, uptimeS, checks, providers, ...rest } = model;
    // The checks spelled as /health/dependencies spells them (snake case), like the rest of this document.
    const snakeChecks = checks.map((c) => ({ name: c.name, status: c.status, response_ms: c.responseMs, checked_at: c.checkedAt, stale: c.stale, error: c.error }));
    rt.stdout(JSON.stringify({ url: base.href, ...rest, checks: snakeChecks, providers: providers.map(providerJson), uptime_s: uptimeS ?? null }, null, 2) + "\n");
  } else {
    rt.stdout(renderText(model, base.href, rt.isTTY && rt.env.NO_COLOR === undefined));
  }
  return model.ready ? EXIT_OK : EXIT_FAILURE;
}
