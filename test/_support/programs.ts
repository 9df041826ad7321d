/** Finding outside programs for tests: skip with the Debian package to install, but never skip under CI=true. */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { TestContext } from "node:test";

export const IN_CI = process.env.CI === "true";

/** The path of `program`, or undefined. */
export function which(program: string): string | undefined {
  const r = spawnSync("sh", ["-c", `command -v ${program}`], { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : undefined;
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

/**
 * requireProgram, also looking in the sbin directories: `command -v` misses /usr/sbin/haproxy when a
 * non-root PATH lacks them.
 */
export function requireProgramAnywhere(t: TestContext, program: string, debianPackage: string): string | undefined {
  const found = which(program) ?? ["/usr/sbin", "/sbin", "/usr/local/sbin"].map((d) => join(d, program)).find((p) => existsSync(p));
  return requireOrSkip(t, found !== undefined, `${program} not found: apt-get install -y ${debianPackage}`) ? found : undefined;
}
