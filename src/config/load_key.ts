/** The secrets `run` and `config` load: the CaptchaAI key (or --demo, else exit 78) and the task API's bearer token. */
import type { Config, FlagValues } from "./config.ts";
import { WorkerError } from "../base/errors.ts";
import { KEY_SOURCES_HELP, resolveApiKey, type ApiKey } from "./key_sources.ts";
import type { Runtime } from "../base/runtime.ts";

/** The key, or undefined in demo mode without one; throws ERR_NO_API_KEY otherwise. */
export function loadApiKey(config: Pick<Config, "demo">, flags: FlagValues, rt: Pick<Runtime, "env" | "readFile" | "exists">): ApiKey | undefined {
  const flagFile = typeof flags["api-key-file"] === "string" ? flags["api-key-file"] : undefined;
  const key = resolveApiKey({ flagFile, env: rt.env, readFile: rt.readFile, exists: rt.exists });
  if (!key && !config.demo) {
    throw new WorkerError("ERR_NO_API_KEY", `No CaptchaAI key: ${KEY_SOURCES_HELP}.`, { field: "CAPTCHAAI_API_KEY" });
  }
  return key;
}

/** The bearer token from --api-token-file, or undefined without one; throws ERR_CONFIG_INVALID naming the flag. */
export function loadApiToken(config: Pick<Config, "apiTokenFile">, rt: Pick<Runtime, "readFile">, flag = "--api-token-file"): string | undefined {
  const path = config.apiTokenFile;
  if (path === undefined) return undefined;
  let token: string;
  try {
    token = rt.readFile(path).trim();
  } catch (err) {
    throw new WorkerError("ERR_CONFIG_INVALID", `Invalid ${flag}: cannot read ${JSON.stringify(path)} (${(err as NodeJS.ErrnoException).code ?? "unreadable"})`, {
      field: flag,
    });
  }
  if (!/^[\x21-\x7e]{16,4096}$/.test(token)) {
    throw new WorkerError("ERR_CONFIG_INVALID", `Invalid ${flag}: expected one token of 16 to 4096 printable characters`, { field: flag });
  }
  return token;
}

/**
 * The peers' shared token from --peer-token-file (docs/cluster.md), or undefined without one. With --peers
 * it is required and the list must name this node; ERR_CONFIG_INVALID otherwise.
 */
export function loadPeerToken(config: Pick<Config, "peerTokenFile" | "peers" | "nodeId">, rt: Pick<Runtime, "readFile">): string | undefined {
  if (config.peers.length > 0 && !config.peers.some((p) => p.node === config.nodeId)) {
    throw new WorkerError("ERR_CONFIG_INVALID", `Invalid --peers: it must name this node (--node-id ${config.nodeId})`, { field: "--peers" });
  }
  if (config.peers.length > 0 && config.peerTokenFile === undefined) {
    throw new WorkerError("ERR_CONFIG_INVALID", "Invalid --peers: peers authenticate with --peer-token-file; set it", { field: "--peer-token-file" });
  }
  if (config.peerTokenFile === undefined) return undefined;
  const token = loadApiToken({ apiTokenFile: config.peerTokenFile }, rt, "--peer-token-file");
  return token;
}
