/**
 * The protocol client of one provider (docs/providers.md): in.php/res.php for a legacy provider
 * (CaptchaAI, 2captcha, ... alike), the JSON API in the provider's dialect for a v2 one. Both give
 * the solver's port (submit, poll, balance, report) with the same outcome classes.
 */
import type { Clock } from "../base/clock.ts";
import type { ProviderApi, ProviderSpec } from "../config/providers.ts";
import { createCaptchaAiClient, type CaptchaAiClient } from "./captchaai_client.ts";
import type { Endpoint, OutcomeKind } from "./endpoints.ts";
import type { Transport } from "./transport.ts";
import { createV2Client, type V2Client } from "./v2_client.ts";

export type ProviderClient = ({ readonly protocol: "legacy" } & CaptchaAiClient) | ({ readonly protocol: "v2" } & V2Client);

export interface ProviderClientOptions {
  /** The key in use, when it may change (a reload): @default the spec's key */
  apiKey?: () => string;
  /** Redacts every key so far. @default a redactor of the spec's key */
  redact?: (text: string) => string;
  transport?: Transport;
  fetch?: typeof fetch;
  clock?: Clock;
  /** @default 5000 */
  timeoutMs?: number;
  /** @default 3000 */
  connectTimeoutMs?: number;
  /** The legacy `soft_id`, the JSON APIs' softId (CapSolver's appId). */
  softId?: string;
  maxBodyBytes?: number;
  /** After every call: its role (the metrics' endpoint label) and outcome. */
  onCall?: (endpoint: Endpoint, kind: OutcomeKind, durationMs: number) => void;
}

/** A provider's client: `spec` a ProviderSpec (config/providers.ts), or its protocol, dialect, URL and key. */
export function createProviderClient(spec: ProviderApi & Pick<ProviderSpec, "url" | "key">, o: ProviderClientOptions = {}): ProviderClient {
  const common = {
    baseUrl: spec.url,
    apiKey: o.apiKey ?? spec.key,
    ...(o.redact ? { redact: o.redact } : {}),
    ...(o.transport ? { transport: o.transport } : {}),
    ...(o.fetch ? { fetch: o.fetch } : {}),
    ...(o.clock ? { clock: o.clock } : {}),
    ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}),
    ...(o.connectTimeoutMs !== undefined ? { connectTimeoutMs: o.connectTimeoutMs } : {}),
    ...(o.softId ? { softId: o.softId } : {}),
    ...(o.maxBodyBytes !== undefined ? { maxBodyBytes: o.maxBodyBytes } : {}),
    ...(o.onCall ? { onCall: o.onCall } : {}),
  };
  if (spec.protocol === "v2") return Object.assign(createV2Client({ ...common, dialect: spec.dialect }), { protocol: "v2" as const });
  return Object.assign(createCaptchaAiClient(common), { protocol: "legacy" as const });
}
