/** Finding outside programs for tests: skip with the Debian package to install, but never skip under CI=true. */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { TestContext } from "node:test";

export const IN_CI = process.env.CI === "true";

/**
 * The path of `program`, or undefined; also looks in the sbin directories, which `command -v`
 * misses (/usr/sbin/haproxy) when a non-root PATH lacks them.
 */
export function which(program: string): string | undefined {
  const r = spawnSync("sh", ["-c", `command -v ${program}`], { encoding: "utf8" });
  if (r.status === 0) return r.stdout.trim();
  return ["/usr/sbin", "/sbin", "/usr/local/sbin"].map((d) => join(d, program)).find((p) => existsSync(p));
}

/**
 * Returns true when the test can go on. Otherwise skips the test with `reason`, or, under CI=true,
 * fails it: CI installs everything, so a missing prerequisite there is a broken pipeline.
 */
export function requireOrSkip(t: TestContext, ok: boolean, reason: string): boolean {
  if (ok) return true;
  if (IN_CI) throw new Error(`required under CI=true: ${reason}`);
  t.skip(reason);
  return false;
}

/** requireOrSkip for a program from a Debian package. */
export function requireProgram(t: TestContext, program: string, debianPackage: string): string | undefined {
  const path = which(program);
  return requireOrSkip(t, path !== undefined, `${program} not found: apt-get install -y ${debianPackage}`) ? path : undefined;
}
