/** `captcha-worker run`: starts the worker, logs one line, stops cleanly on SIGTERM/SIGINT (a second signal exits at once). */
import { systemClock } from "../clock.ts";
import { formatHostPort, parseConfig, type FlagValues } from "../config.ts";
import { registerHealthRoutes } from "../http/health_routes.ts";
import { Router } from "../http/router.ts";
import { startHttpServer } from "../http/server.ts";
import { createLogger } from "../log.ts";
import { VERSION } from "../version.ts";
import { loadApiKey } from "./load_key.ts";
import { EXIT_FAILURE, EXIT_OK, type Runtime } from "./runtime.ts";

export async function runRunCommand(flags: FlagValues, rt: Runtime): Promise<number> {
  const { config } = parseConfig(flags, rt.env);
  const key = loadApiKey(config, flags, rt);
  const log = createLogger({
    level: config.logLevel,
    format: config.logFormat,
    secrets: key ? [key.value] : [],
    write: rt.stderr,
  });
  const clock = systemClock;
  const startedAtMs = clock.now();

  const router = new Router();
  registerHealthRoutes(router, { clock, startedAtMs });

  let http;
  try {
    http = await startHttpServer(config.listen, router, log);
  } catch (err) {
    log.error("cannot listen", { listen: formatHostPort(config.listen), err });
    return EXIT_FAILURE;
  }
  log.info("captcha-worker started", {
    version: VERSION,
    node: process.version,
    listen: formatHostPort(http.address),
    upstream: config.upstream.host,
    threads: config.threads,
    demo: config.demo,
  });

  const signal = await new Promise<string>((resolve) => {
    const off = rt.onSignal((sig) => {
      off();
      rt.onSignal((again) => {
        log.warn("second signal: exiting at once", { signal: again });
        rt.exit(EXIT_FAILURE);
      });
      resolve(sig);
    });
  });
  log.info("stopping", { signal });
  await http.close();
  log.info("stopped");
  return EXIT_OK;
}
