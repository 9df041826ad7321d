/**
 * The key files a reload re-reads (the CaptchaAI key's file, a providers file and the key files it
 * names), looked at once a second: a file that changed is re-read as SIGHUP would, so a Kubernetes
 * Secret the kubelet updates in place (no signal reaches the pod) or a file edited on a VM applies
 * by itself (docs/configuration.md, The CaptchaAI key; docs/providers.md). Only a stat per file per look, never a read;
 * the client keys file has its own look (gateway/client_keys.ts). A change is a new modification
 * time, inode or size: the kubelet's symlink swap gives a new inode, `cp -p` an old time.
 */
import { stat, statSync, type Stats } from "node:fs";
import type { Clock, Timer } from "../base/clock.ts";

/** How often the files are looked at, as the client keys file is. */
export const KEY_FILES_CHECK_MS = 1000;

export interface KeyFilesWatchOptions {
  /** The files to look at now: a reload may name others (a providers file's new key-file=). */
  paths: () => readonly string[];
  clock: Clock;
  /** Called after a look that found changed files (their paths: no secret); the next look waits for it. */
  onChange: (changed: string[]) => void;
  /** A file's identity now; undefined when it cannot be looked at (gone for a moment). @default fs.stat */
  identify?: (path: string) => Promise<string | undefined>;
  /** The same, at once (the first look, before the timer). @default fs.statSync */
  identifyNow?: (path: string) => string | undefined;
}

const identity = (s: Stats) => `${s.mtimeMs}:${s.ino}:${s.size}`;
const identifyLater = (path: string) => new Promise<string | undefined>((resolve) => stat(path, (err, s) => resolve(err ? undefined : identity(s))));
const identifyAtOnce = (path: string): string | undefined => {
  try {
    return identity(statSync(path));
  } catch {
    return undefined;
  }
};

/**
 * Takes each file's identity now (so a change from here on is seen), then looks again every
 * KEY_FILES_CHECK_MS until stop(). A file first seen in a later look (named by a reload, which read
 * it) is taken as it is; one that cannot be looked at keeps its last identity, so the moment a
 * Secret's files are swapped is not a change of its own.
 */
export function watchKeyFiles(o: KeyFilesWatchOptions): { stop(): void } {
  const identify = o.identify ?? identifyLater;
  const seen = new Map<string, string>();
  for (const path of o.paths()) {
    const id = (o.identifyNow ?? identifyAtOnce)(path);
    if (id !== undefined) seen.set(path, id);
  }
  let timer: Timer | undefined;
  let stopped = false;
  const look = async () => {
    const changed: string[] = [];
    for (const path of o.paths()) {
      const id = await identify(path);
      if (id === undefined) continue;
      const before = seen.get(path);
      seen.set(path, id);
      if (before !== undefined && before !== id) changed.push(path);
    }
    if (changed.length > 0 && !stopped) o.onChange(changed);
  };
  const next = () => {
    if (stopped) return;
    timer = o.clock.setTimeout(() => void look().finally(next), KEY_FILES_CHECK_MS);
  };
  next();
  return {
    stop() {
      stopped = true;
      timer?.cancel();
    },
  };
}
