// The processes a benchmark starts (workers, simulators, bare servers): spawned, tracked, stopped,
// and killed when the benchmark ends, however it ends.
import { spawn } from "node:child_process";
import { once } from "node:events";

const children = new Set();
process.on("exit", () => killAll());

/** spawn(), remembered until the child exits. */
export function spawnTracked(command, args, options) {
  const child = spawn(command, args, options);
  children.add(child);
  child.on("exit", () => children.delete(child));
  return child;
}

/** Stops `child` with `signal` and waits for it to exit (nothing when it already has). */
export async function stop(child, signal = "SIGTERM") {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill(signal);
  await once(child, "exit");
}

/** Kills every child still running. */
export function killAll() {
  for (const c of children) c.kill("SIGKILL");
}
