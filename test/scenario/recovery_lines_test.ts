/**
 * A fault that clears is one log line: the balance check that answers again both marks the
 * upstream reachable and closes the circuit its unreachability opened, and readiness is judged
 * once after both, so the log says `ready` and not first `not ready` with what is left for a
 * moment (`circuit_open`, in the same millisecond). The circuit closing is news, not a warning.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { advance, eventually, startHarness } from "../_support/harness.ts";
import { pngOfSize } from "../_support/images.ts";

const IMAGE = { type: "image", image: pngOfSize(150, 2).toString("base64") };

interface Line {
  level: string;
  msg: string;
  issues?: string[];
}

describe("a fault that clears", () => {
  test("HTTP 500 on every call, then none: ready comes back in one line, with no not ready on the way", async () => {
    const h = await startHarness({ flags: { "balance-ttl": "10s" } });
    try {
      h.sim.control.setFault("all", { status: 500 });
      // As many tasks as threads: five transport failures in a row open the circuit.
      await Promise.all(
        Array.from({ length: 5 }, () => fetch(h.base + "/v1/tasks", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(IMAGE) }).then((r) => r.body?.cancel())),
      );
      await advance(h.clock, 5000);
      await eventually(() => h.worker.notifier.last.issues.some((i) => i.kind === "circuit_open"), "the circuit open");
      assert.ok(h.worker.notifier.last.issues.some((i) => i.kind === "upstream_unreachable"), "the upstream unreachable too");
      const cleared = h.logs.length;
      h.sim.control.clearFaults();
      await advance(h.clock, 3000);
      await eventually(() => h.worker.notifier.last.ready, "ready again");
      const after = h.logs.slice(cleared).map((l) => JSON.parse(l) as Line);
      const readiness = after.filter((l) => l.msg === "ready" || l.msg === "not ready").map((l) => `${l.msg} ${JSON.stringify(l.issues)}`);
      assert.deepEqual(readiness, ["ready []"]);
      const closed = after.find((l) => l.msg === "upstream circuit closed");
      assert.equal(closed?.level, "info", "a circuit that closes is no trouble");
      assert.deepEqual(after.filter((l) => l.level === "warn" || l.level === "error"), []);
    } finally {
      await h.close();
    }
  });
});
