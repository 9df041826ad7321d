/**
 * What `run --demo` prints on stdout: the banner once it listens, every command in it ready to paste
 * as is (ids captured by the shell, the token read from its file, nothing to fill in), and the
 * banner in short for a terminal whose log has scrolled the banner away.
 */
import { resolve } from "node:path";
import type { Config, HostPort } from "../config/config.ts";
import { formatDuration } from "../config/duration.ts";
import { formatHostPort } from "../config/host_port.ts";

/** The published 2captcha client the banner's snippet runs, at the version this repository tests (docs/gateway.md). */
export const CLIENT_PACKAGE = "2captcha-ts@2.4.1";

export interface Overflow {
  planThreads: number;
  everyMs: number;
  afterMs: number;
  name: string;
  /** Per 1000 tokens. */
  priceUsd: number;
  /** Per 1000 images (grid and BLS are images too). */
  imagePriceUsd: number;
  dailyBudgetUsd: number;
  url: URL;
}

/** What the banner names. */
export interface BannerFacts {
  /** The bound address. */
  address: HostPort;
  simulator: URL;
  config: Pick<Config, "apiTokenFile" | "clientKeysFile" | "balanceTtlMs">;
  /** The gateway's demo client key; undefined with --client-keys-file (the file names the clients). */
  clientKey: string | undefined;
  /** The account's balance at the start: what the restore line sets back. */
  balanceUsd: number;
  /** A sample image (base64) the commands post. */
  sampleImage: string;
  /** With --demo-overflow: the plan's threads, the per-solve provider behind it and its simulator. */
  overflow: Overflow | undefined;
  /** How the short banner comes back: at Enter, every `everyMs`; neither: not said. */
  reminders: { enter: boolean; everyMs: number | undefined };
}

/** The full banner. */
export function demoBanner(f: BannerFacts): string {
  const base = baseUrl(f.address);
  const sim = f.simulator.href;
  const auth = authHeader(f.config);
  const json = `-H 'content-type: application/json'`;
  const sample = JSON.stringify({ type: "image", image: f.sampleImage, numeric: 1 });
  const ttl = formatDuration(f.config.balanceTtlMs);
  const key = f.clientKey;
  const also = f.overflow ? " --demo-overflow" : "";
  return (
    `\nDemo: the worker solves sample tasks on the built-in simulator (no key, no network); it listens on ${formatHostPort(f.address)}${wildcard(f.address) ? " (every interface)" : ""}.\n` +
    `  status page   ${base}/\n  readiness     ${base}/health/ready\n  health report ${base}/health\n  metrics       ${base}/metrics\n  simulator     ${sim}__sim/counts\n` +
    (f.overflow ? overflowText(f.overflow, base) : "") +
    `\nPost a task, then read it back by its id (the read waits up to 30 s for the solution):\n` +
    `  id=$(curl -s "${base}/v1/tasks"${auth} ${json} -d '${sample}' | sed -n 's/.*"id":"\\([^"]*\\)".*/\\1/p')\n` +
    `  curl -s${auth} "${base}/v1/tasks/$id?wait=30"\n` +
    (f.overflow
      ? // With a second provider the worker stays ready: the plan going down is the failover to watch.
        `Run the plan's simulated account low, then restore it: within ${ttl} the plan is down (a warning on /health/ready and the status page, a "provider down" log line), ` +
        `every task goes to ${f.overflow.name}, and readiness stays 200 while ${f.overflow.name} can take work:\n`
      : `Run the simulated account low, then restore it (readiness and the status page follow at the next balance read, within ${ttl}):\n`) +
    `  curl -s -X POST ${sim}__sim/balance ${json} -d '{"balance":0.5}'\n` +
    `  curl -s -X POST ${sim}__sim/balance ${json} -d '{"balance":${f.balanceUsd}}'\n` +
    (f.overflow
      ? `Make the plan's simulator answer HTTP 500 to every call, then clear the fault (the plan down and back within ${ttl}, as above):\n`
      : `Make the simulator answer HTTP 500 to every call, then clear the fault (readiness follows within ${ttl}, busy or idle):\n`) +
    `  curl -s -X POST ${sim}__sim/faults ${json} -d '{"endpoint":"all","status":500}'\n` +
    `  curl -s -X DELETE ${sim}__sim/faults\n` +
    (key === undefined
      ? ""
      : `\n2captcha gateway, demo client key ${key}: post an image, then read it back by its id, asked every 2 s while CAPCHA_NOT_READY as a 2captcha client does:\n` +
        `  id=$(curl -s "${base}/in.php?key=${key}&method=base64&body=${encodeURIComponent(f.sampleImage)}&json=1" | sed -n 's/.*"request":"\\([^"]*\\)".*/\\1/p')\n` +
        // The wait depends on the load (an overflowing plan holds a task 5 s), so the shell asks until the answer is in.
        `  until r=$(curl -s "${base}/res.php?key=${key}&action=get&id=$id&json=1"); [ "\${r#*CAPCHA_NOT_READY}" = "$r" ]; do sleep 2; done; echo "$r"\n` +
        `The same through the published 2captcha-ts client: as is in this repository's directory (a dev dependency), elsewhere after npm i ${CLIENT_PACKAGE}:\n` +
        `  node -e 'const {Solver}=require("2captcha-ts");const p=require("2captcha-ts/dist/structs/constants/constants.js").supportedProviders.twoCaptcha;` +
        `p.in="${base}/in.php";p.res="${base}/res.php";new Solver("${key}",1000).imageCaptcha({body:"${f.sampleImage}"}).then(console.log)'\n`) +
    `\nAnother address: npm start --${also} --listen 127.0.0.1:9090 (the executable: captcha-worker run --demo${also} --listen 127.0.0.1:9090).\n` +
    `Stop with Ctrl-C.${remindersLine(f.reminders)}\n\n`
  );
}

function overflowText(o: Overflow, base: string): string {
  return (
    `\nOverflow: the simulated CaptchaAI plan has ${o.planThreads} threads and a sample task arrives every ${formatDuration(o.everyMs)}; a task that waits ` +
    `${formatDuration(o.afterMs)} for them goes to the per-solve ${o.name} simulator ($${o.imagePriceUsd} per 1000 images, $${o.priceUsd} per 1000 tokens, daily budget $${o.dailyBudgetUsd.toFixed(2)}).\n` +
    `  Each task line names its provider; watch both on the status page and in ${base}/metrics (captcha_worker_provider_*).\n` +
    `  ${o.name} simulator ${o.url.href}__sim/counts\n`
  );
}

/** The banner in short: where to look, the gateway's key, the simulator. */
export function demoReminder(f: BannerFacts): string {
  const base = baseUrl(f.address);
  return (
    `\nDemo on ${formatHostPort(f.address)} (the full banner is above the log):\n` +
    `  status page   ${base}/\n` +
    (f.clientKey === undefined ? "" : `  gateway key   ${f.clientKey} (${base}/in.php, ${base}/res.php)\n`) +
    `  simulator     ${f.simulator.href}__sim/counts\n` +
    (f.overflow ? `  ${f.overflow.name} simulator ${f.overflow.url.href}__sim/counts\n` : "") +
    `  restore       curl -s -X POST ${f.simulator.href}__sim/balance -H 'content-type: application/json' -d '{"balance":${f.balanceUsd}}'; curl -s -X DELETE ${f.simulator.href}__sim/faults\n` +
    `Stop with Ctrl-C.${remindersLine(f.reminders)}\n\n`
  );
}

function remindersLine(r: BannerFacts["reminders"]): string {
  const when = [r.enter ? "at Enter" : "", r.everyMs === undefined ? "" : `every ${formatDuration(r.everyMs)}`].filter(Boolean).join(" and ");
  return when ? ` The addresses and the key come back in short ${when}.` : "";
}

function baseUrl(address: HostPort): string {
  return `http://${formatHostPort(reachable(address))}`;
}

function wildcard(address: HostPort): boolean {
  return address.host === "0.0.0.0" || address.host === "::";
}

/** The bound address as a client reaches it: on every interface, through loopback (same port). */
function reachable(address: HostPort): HostPort {
  if (!wildcard(address)) return address;
  return { host: address.host === "::" ? "::1" : "127.0.0.1", port: address.port };
}

/**
 * The task API's credential as a curl option, read from its file by the shell so the banner never
 * prints it: the token, or the first client key of --client-keys-file (`NAME KEY` lines, `#`
 * comments); none when the demo's API is open.
 */
function authHeader(config: Pick<Config, "apiTokenFile" | "clientKeysFile">): string {
  // Absolute: the command is pasted into another terminal, often in another directory.
  if (config.apiTokenFile !== undefined) return ` -H "authorization: Bearer $(cat ${shellQuote(resolve(config.apiTokenFile))})"`;
  if (config.clientKeysFile !== undefined) return ` -H "authorization: Bearer $(awk '!/^[[:space:]]*#/ && NF >= 2 {print $2; exit}' ${shellQuote(resolve(config.clientKeysFile))})"`;
  return "";
}

function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}
