/** A worker with the gateway on: two clients in a keys file, quick solves on the fake clock. */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { HarnessOptions } from "./harness.ts";
import { tempDir } from "./temp_dirs.ts";
import { pngOfSize } from "./images.ts";

export const CLIENT_KEY = "client-key-alpha-0123456789abcdef";
export const OTHER_KEY = "client-key-bravo-0123456789abcdef";
export const PNG = pngOfSize(300, 1).toString("base64");

/** A keys file for alpha and bravo (bravo limited to one open task), plus extra lines. */
export function keysFile(extra = ""): string {
  const path = join(tempDir("cw-keys-"), "clients");
  writeFileSync(path, `# the gateway's clients\nalpha ${CLIENT_KEY}\nbravo ${OTHER_KEY} max_in_flight=1\n${extra}`);
  return path;
}

export const gatewayHarness = (flags: Record<string, string> = {}): HarnessOptions => ({
  flags: { "client-keys-file": keysFile(), "first-poll": "1s", "poll-interval": "1s", ...flags },
  sim: { solveTimeMs: { image: 500, token: 500 } },
});

