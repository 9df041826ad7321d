/**
 * The protocol client of one provider (docs/providers.md): in.php/res.php for a legacy provider
 * (CaptchaAI, 2captcha, ... alike), the JSON API in the provider's dialect for a v2 one. Both give
 * the solver's port (submit, poll, balance, report) with the same outcome classes.
 */
import type { ProviderApi, ProviderSpec } from "../config/providers.ts";
import { createCaptchaAiClient, type CaptchaAiClient } from "./captchaai_client.ts";
import type { Endpoint, OutcomeKind } from "./endpoints.ts";
import type { ClientOptions } from "./upstream_call.ts";
import { createV2Client, type V2Client } from "./v2_client.ts";

export type ProviderClient = ({ readonly protocol: "legacy" } & CaptchaAiClient) | ({ readonly protocol: "v2" } & V2Client);

/** A client's options but its URL and key (the spec's); `apiKey`: the key in use, when a reload may change it. */
export interface ProviderClientOptions extends Omit<ClientOptions, "baseUrl" | "apiKey"> {
  apiKey?: () => string;
  /** After every call: its role (the metrics' endpoint label) and outcome. */
  onCall?: (endpoint: Endpoint, kind: OutcomeKind, durationMs: number) => void;
}

/** A provider's client: `spec` a ProviderSpec (config/providers.ts), or its protocol, dialect, URL and key. */
export function createProviderClient(spec: ProviderApi & Pick<ProviderSpec, "url" | "key">, o: ProviderClientOptions = {}): ProviderClient {
  const common = { ...o, baseUrl: spec.url, apiKey: o.apiKey ?? spec.key };
  if (spec.protocol === "v2") return Object.assign(createV2Client({ ...common, dialect: spec.dialect }), { protocol: "v2" as const });
  return Object.assign(createCaptchaAiClient(common), { protocol: "legacy" as const });
}
