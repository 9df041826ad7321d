// The providers file re-read on SIGHUP by a real process (docs/providers.md, Reloads): a bad file keeps
// the providers in use and the process running, naming the line and the field; a provider removed
// while it holds a task finishes it there and takes no new one; changed threads apply at once; a new
// provider needs a restart; no key ever reaches the log.
import { pngOfSize } from "../_support/images.ts";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { startSimulator, type Simulator } from "../../src/sim/simulator.ts";
import { pollUntil } from "../_support/net.ts";
import { tempDir } from "../_support/temp_dirs.ts";
import { postTask, spawnWorker, whenReady } from "../_support/worker_child.ts";

const PLAN_KEY = "plan-key-for-the-reload-test-012";
const PAID_KEY = "paid-key-for-the-reload-test-567";
const PASTED = "pasted-key-reload-test-abcdef01234";
const IMAGE = { type: "image" as const, image: pngOfSize(150, 3).toString("base64") };

let plan: Simulator;
let paid: Simulator;
before(async () => {
  // A one-thread plan whose solves take 3 s, and a per-solve provider taking the overflow at once.
  plan = await startSimulator({ host: "127.0.0.1", port: 0 }, { keys: [PLAN_KEY], threads: 4, solveTimeMs: { image: 3000, token: 3000 } });
  paid = await startSimulator({ host: "127.0.0.1", port: 0 }, { keys: [PAID_KEY], solveTimeMs: { image: 1500, token: 1500 } });
});
after(async () => {
  await plan.close();
  await paid.close();
});

const lines = (o: { threads?: string; paid?: boolean; more?: string[] } = {}) =>
  [
    `plan legacy ${plan.url.href} key-file=plan.key threads=${o.threads ?? "1"}`,
    ...(o.paid === false ? [] : [`paid legacy ${paid.url.href} key-file=paid.key price=2 after=0s`]),
    ...(o.more ?? []),
  ].join("\n") + "\n";

describe("providers file reload", () => {
  test("SIGHUP re-reads --providers-file: a bad file keeps the providers, a removed one finishes its task and takes no new one, more threads apply, a new one waits for a restart", async () => {
    const dir = tempDir("cw-providers-");
    const file = join(dir, "providers");
    writeFileSync(join(dir, "plan.key"), `${PLAN_KEY}\n`);
    writeFileSync(join(dir, "paid.key"), `${PAID_KEY}\n`);
    writeFileSync(file, lines());
    const w = spawnWorker(["run", "--listen", "127.0.0.1:0", "--providers-file", file, "--first-poll", "1s", "--poll-interval", "500ms"], {});
    const base = await whenReady(w);
    const logged = (msg: string) => w.lines.filter((l) => l.includes(msg));
    const hup = async (text: string, until: string) => {
      const seen = logged(until).length;
      writeFileSync(file, text);
      w.child.kill("SIGHUP");
      await pollUntil(until, () => logged(until).length > seen, { timeoutMs: 10_000, intervalMs: 25 });
    };

    await hup(lines({ threads: PASTED }), "the providers file cannot be used");
    assert.match(logged("the providers file cannot be used")[0]!, /line 1, field threads/);
    assert.equal((await fetch(`${base}/health/live`)).status, 200, "still running");

    const first = await postTask(base, IMAGE);
    const second = await postTask(base, IMAGE);
    assert.deepEqual([first.status, second.status], [202, 202]);
    await pollUntil("one at each provider", () => plan.counts().submitted === 1 && paid.counts().submitted === 1, { timeoutMs: 10_000, intervalMs: 25 });

    await hup(lines({ threads: "2", paid: false }), "reload: providers file re-read");
    assert.equal(logged("reload: provider removed").length, 1);
    const third = await postTask(base, IMAGE);
    await pollUntil("the plan's second thread takes it at once", () => plan.counts().submitted === 2, { timeoutMs: 10_000, intervalMs: 25 });
    const task = async (id: unknown) => (await (await fetch(`${base}/v1/tasks/${id}`)).json()) as { status: string; provider?: string };
    await pollUntil("the removed provider's task solved there", async () => (await task(second.json.id)).status === "solved", { timeoutMs: 15_000, intervalMs: 50 });
    assert.equal((await task(second.json.id)).provider, "paid");
    await pollUntil("its check gone", async () => {
      const deps = (await (await fetch(`${base}/health/dependencies`)).json()) as { checks: Record<string, unknown> };
      return !("paid_api" in deps.checks);
    }, { timeoutMs: 10_000, intervalMs: 50 });
    await pollUntil("every task solved", async () => (await task(third.json.id)).status === "solved" && (await task(first.json.id)).status === "solved", { timeoutMs: 15_000, intervalMs: 50 });
    assert.equal(paid.counts().submitted, 1, "no new task for the removed provider");
    assert.equal((await fetch(`${base}/health/ready`)).status, 200);

    await hup(lines({ threads: "2", paid: false, more: [`spare legacy ${paid.url.href} key-file=paid.key price=1`] }), "a new provider needs a restart");
    const log = w.lines.join("\n");
    for (const key of [PLAN_KEY, PAID_KEY, PASTED]) assert.ok(!log.includes(key), "no key in the log");
    w.child.kill("SIGTERM");
    assert.equal(await w.exited, 0);
  });
});
