/**
 * SIGTERM under load (docs/durability.md): with tasks streaming in, readiness turns 503 before the listener
 * goes, the process exits 0 within --drain-timeout, and no accepted task is lost: each ends solved
 * or failed with `shutdown` (no state dir), or is finished by the next start (with one).
 */
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { startSimulator, type Simulator } from "../../src/sim/simulator.ts";
import { spawnCli, waitForStart } from "../_support/cli.ts";
import { pngOfSize } from "../_support/images.ts";

const KEY = "drain-test-key-01234567890123456";
const IMAGE = JSON.stringify({ type: "image", image: pngOfSize(150, 4).toString("base64") });
let sim: Simulator;
before(async () => (sim = await startSimulator({ host: "127.0.0.1", port: 0 }, { keys: [KEY], solveTimeMs: { image: 300, token: 300 }, seed: 5 })));
const children = new Set<ChildProcess>();
after(async () => {
  for (const c of children) c.kill("SIGKILL"); // a failed assertion must not leave a worker running
  await sim.close();
});

interface Load {
  accepted: Map<string, string | undefined>; // id -> final status seen by the waiting client
  refused503: number;
  stop: () => Promise<void>;
}

/** POSTs a task every few ms, each waiting for its end; records what every client was told. */
function stream(base: string): Load {
  const accepted = new Map<string, string | undefined>();
  let refused503 = 0;
  let running = true;
  const pending: Promise<void>[] = [];
  const one = async () => {
    try {
      const res = await fetch(base + "/v1/tasks?wait=30", { method: "POST", headers: { "content-type": "application/json" }, body: IMAGE });
      if (res.status === 503) return void refused503++;
      const body = (await res.json()) as { id: string; status: string; error?: { code: string } };
      accepted.set(body.id, body.status === "failed" ? `failed:${body.error?.code}` : body.status);
    } catch {
      // refused once the listener is gone: not accepted, nothing to lose
    }
  };
  const loop = (async () => {
    while (running) {
      pending.push(one());
      await new Promise((r) => setTimeout(r, 5)); // a client's pace, not a wait for the worker
    }
  })();
  return {
    accepted,
    get refused503() {
      return refused503;
    },
    stop: async () => {
      running = false;
      await loop;
      await Promise.all(pending);
    },
  };
}

/** Samples /health/ready until the connection is refused; returns the order things happened in. */
async function watchReadiness(base: string): Promise<string[]> {
  const seen: string[] = [];
  for (;;) {
    try {
      const res = await fetch(base + "/health/ready");
      const label = res.status === 200 ? "ready" : `503:${((await res.json()) as { issues: string[] }).issues.join(",")}`;
      if (seen.at(-1) !== label) seen.push(label);
    } catch {
      seen.push("refused");
      return seen;
    }
  }
}

async function run(args: string[]): Promise<{ child: ChildProcess; base: string }> {
  const child = spawnCli(["run", "--listen", "127.0.0.1:0", "--upstream", sim.url.href, "--first-poll", "300ms", "--poll-interval", "100ms", "--threads", "20", ...args], { CAPTCHAAI_API_KEY: KEY });
  children.add(child);
  child.once("exit", () => children.delete(child));
  const { listen } = await waitForStart(child);
  const base = `http://${listen}`;
  // The start line comes before the first balance check ends; tasks are taken once ready.
  for (let i = 0; (await fetch(base + "/health/ready")).status !== 200; i++) {
    if (i > 400) throw new Error("not ready within 20 s");
    await new Promise((r) => setTimeout(r, 50)); // waiting on another process
  }
  return { child, base };
}

describe("SIGTERM under load", () => {
  test("without a state dir: readiness flips first, exit 0 in time, every accepted task solved or failed with shutdown", async () => {
    const { child, base } = await run(["--drain-timeout", "2s"]);
    const load = stream(base);
    while (load.accepted.size < 20) await new Promise((r) => setTimeout(r, 20));
    const watching = watchReadiness(base);
    const started = Date.now();
    child.kill("SIGTERM");
    const [code] = await once(child, "exit");
    const took = Date.now() - started;
    await load.stop();
    const order = await watching;
    assert.equal(code, 0);
    assert.ok(took < 2000 + 3000, `exited ${took} ms after SIGTERM with a 2 s drain`);
    assert.ok(order.some((s) => s.startsWith("503:") && s.includes("draining")), `readiness said draining: ${order.join(" > ")}`);
    assert.equal(order.at(-1), "refused");
    assert.ok(order.indexOf("refused") > order.findIndex((s) => s.includes("draining")), "503 draining before the listener went");
    const outcomes = [...load.accepted.values()];
    assert.ok(outcomes.length >= 20);
    for (const o of outcomes) assert.ok(o === "solved" || o === "failed:shutdown", `an accepted task ended as ${o}`);
    assert.ok(load.refused503 > 0, "tasks sent while draining were refused with 503");
  });

  test("with a state dir, clients waiting 60 s on tasks that cannot finish are answered at the drain deadline and the process exits", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cw-drain-"));
    sim.control.setFault("in.php", { hang: true }); // the one submit in flight never returns; the rest stay queued
    try {
      const { child, base } = await run(["--drain-timeout", "2s", "--state-dir", dir, "--threads", "1", "--check-timeout", "60s"]);
      const post = () => fetch(base + "/v1/tasks?wait=60", { method: "POST", headers: { "content-type": "application/json" }, body: IMAGE });
      const waiting: Promise<Response>[] = [post(), post(), post()];
      const queued: string[] = [];
      for (let i = 0; i < 3; i++) {
        const res = await fetch(base + "/v1/tasks", { method: "POST", headers: { "content-type": "application/json" }, body: IMAGE });
        assert.equal(res.status, 202);
        queued.push(((await res.json()) as { id: string }).id);
      }
      waiting.push(fetch(`${base}/v1/tasks/${queued[0]}?wait=60`), fetch(`${base}/v1/tasks/${queued[1]}`, { headers: { prefer: "wait=60" } }));
      await new Promise((r) => setTimeout(r, 200)); // let the waits reach the worker (another process)
      const exited = once(child, "exit") as Promise<[number | null, string | null]>;
      const answeredBeforeExit: boolean[] = [];
      let exitedYet = false;
      void exited.then(() => (exitedYet = true));
      child.kill("SIGTERM");
      const answers = await Promise.all(
        waiting.map(async (p) => {
          const res = await p;
          answeredBeforeExit.push(!exitedYet);
          return { status: res.status, retryAfter: res.headers.get("retry-after"), body: (await res.json()) as { status: string } };
        }),
      );
      // The waits asked for 60 s; the exit came at the 2 s drain deadline (plus the close grace), not after them.
      const [code, signal] = await Promise.race([exited, new Promise<[string, null]>((r) => setTimeout(() => r(["still running after 20 s", null]), 20_000).unref())]);
      assert.deepEqual([code, signal], [0, null]);
      assert.equal(answers.length, 5);
      for (const a of answers) {
        assert.equal(a.status, 200, JSON.stringify(a));
        assert.ok(["queued", "submitting"].includes(a.body.status), `answered with the task as it stands: ${JSON.stringify(a.body)}`);
        assert.equal(a.retryAfter, "10", "told when to ask again (the task is kept for the next start)");
      }
      assert.ok(answeredBeforeExit.every(Boolean), "every client answered before the process went");
    } finally {
      sim.control.clearFaults();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("with a state dir: what the drain leaves is journaled and finished by the next start", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cw-drain-"));
    try {
      // A first poll far beyond the drain: every submitted task is left open at exit.
      const first = await run(["--drain-timeout", "500ms", "--state-dir", dir, "--first-poll", "20s"]);
      const ids: string[] = [];
      for (let i = 0; i < 10; i++) {
        const res = await fetch(first.base + "/v1/tasks", { method: "POST", headers: { "content-type": "application/json" }, body: IMAGE });
        assert.equal(res.status, 202);
        ids.push(((await res.json()) as { id: string }).id);
      }
      first.child.kill("SIGTERM");
      const [code] = await once(first.child, "exit");
      assert.equal(code, 0);
      const submittedBefore = sim.counts().submitted;

      const second = await run(["--state-dir", dir]);
      try {
        for (const id of ids) {
          const body = (await (await fetch(`${second.base}/v1/tasks/${id}?wait=30`)).json()) as { status: string };
          assert.equal(body.status, "solved", `${id} after the restart`);
        }
        assert.equal(sim.counts().submitted, submittedBefore, "polled by their upstream ids, none submitted twice");
      } finally {
        second.child.kill("SIGTERM");
        await once(second.child, "exit");
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
