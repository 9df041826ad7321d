/**
 * --address-file: the bound HTTP address (`host:port`) in a small file for `probe`, because a Docker
 * HEALTHCHECK runs with the image's environment, never the container's arguments. Written
 * atomically (a temporary file of its own, then rename) once listening; removed at a clean stop. A file that
 * cannot be written is a warning, not a failed start: the probe then falls back to --listen.
 */
import { readFileSync, renameSync, unlinkSync, writeFileSync } from "node:fs";
import { loadBuiltin } from "../base/builtin.ts";
import type { Logger } from "../base/log.ts";
import type { HostPort } from "../config/config.ts";
import { formatHostPort } from "../config/host_port.ts";

export interface AddressFile {
  /** Deletes the file if it still holds this worker's address (another worker may have taken the path since). */
  remove(): void;
}

/** Writes `address` to `path` (`host:port` and a newline); undefined when it could not be written. */
export function recordAddress(path: string, address: HostPort, log: Logger): AddressFile | undefined {
  const text = formatHostPort(address) + "\n";
  // A name no one can plant a link at beforehand, created exclusively (O_EXCL does not follow a link):
  // a fixed `${path}.tmp` let whoever could write the directory have the worker overwrite any file through it.
  const tmp = `${path}.${loadBuiltin("node:crypto").randomBytes(6).toString("hex")}.tmp`;
  try {
    writeFileSync(tmp, text, { mode: 0o644, flag: "wx" });
    renameSync(tmp, path);
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      // never created
    }
    log.warn("cannot write the address file: probe falls back to --listen", { address_file: path, err });
    return undefined;
  }
  return {
    remove() {
      try {
        if (readFileSync(path, "utf8") === text) unlinkSync(path);
      } catch {
        // already gone, or unreadable: nothing of ours to remove
      }
    },
  };
}
