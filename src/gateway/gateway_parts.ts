/** The gateway assembled (keys, callbacks, the shared core, both APIs' routes), so the composition root wires it in a few lines. */
import type { ByteBudget } from "../base/byte_budget.ts";
import type { Clock } from "../base/clock.ts";
import type { Logger } from "../base/log.ts";
import type { Registry } from "../metrics/registry.ts";
import { Callbacks, type CallbackJournal } from "./callbacks.ts";
import type { ClientKeys } from "./client_keys.ts";
import { Gateway, type GatewayOptions } from "./gateway.ts";
import { legacyRoutes, renderLegacyError } from "./legacy.ts";
import { renderV2Error, v2Routes } from "./v2.ts";
import type { Router } from "../http/router.ts";
import type { TaskRouting } from "../http/task_routing.ts";

export interface GatewayPartsOptions extends Pick<GatewayOptions, "pool" | "submit" | "balanceUsd"> {
  keys: ClientKeys;
  /** --callback-allow */
  callbackAllow: readonly string[];
  clock: Clock;
  log: Logger;
  registry: Registry;
  /** Reads of a peer's task go to the owner (--peers, docs/cluster.md). */
  routing?: TaskRouting | undefined;
  /** The worker's budget for request bodies being read, shared with the task API. */
  bodies?: ByteBudget;
  /** With --state-dir: callbacks' attempts are journaled, so a restart resumes what is owed. */
  journal?: CallbackJournal | undefined;
}

export interface GatewayParts {
  gateway: Gateway;
  callbacks: Callbacks;
  /** Mounts /in.php, /res.php and API v2's methods on the worker's router, each API with its own error renderer. */
  mount(router: Router): void;
}

export function createGatewayParts(o: GatewayPartsOptions): GatewayParts {
  const log = o.log.child({ component: "gateway" });
  const callbacks = new Callbacks({ allow: o.callbackAllow, clock: o.clock, log, registry: o.registry, journal: o.journal });
  const gateway = new Gateway({ ...o, log, onCallback: (task) => callbacks.deliver(task) });
  const routeOptions = { gateway, log, checkCallback: callbacks.check, routing: o.routing, bodies: o.bodies };
  return {
    gateway,
    callbacks,
    mount: (router) => void router.mount(legacyRoutes(routeOptions), renderLegacyError).mount(v2Routes(routeOptions), renderV2Error),
  };
}
