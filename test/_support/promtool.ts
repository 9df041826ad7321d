/** Pipes an exposition through `promtool check metrics` (Debian package prometheus); returns its findings. */
import { spawnSync } from "node:child_process";
import type { TestContext } from "node:test";
import { requireProgram } from "./programs.ts";

/** The findings (empty when clean), or undefined when promtool is missing and the test was skipped. */
export function promtoolFindings(t: TestContext, exposition: string): string | undefined {
  const promtool = requireProgram(t, "promtool", "prometheus");
  if (!promtool) return undefined;
  const r = spawnSync(promtool, ["check", "metrics"], { input: exposition, encoding: "utf8" });
  if (r.error) throw r.error;
  return r.status === 0 ? (r.stdout + r.stderr).trim() : `exit ${r.status}: ${(r.stdout + r.stderr).trim()}`;
}
