/**
 * kill -9 with several providers (docs/providers.md; Durability): a CaptchaAI-like thread plan and a
 * 2captcha-like per-solve provider behind it, each a simulator that outlives the worker. A burst
 * overflows, the worker is killed mid-run and restarted on the same --state-dir: every acknowledged
 * task ends solved exactly once, no task reaches two providers, each held task is polled where it
 * was submitted, and the day's spend equals the paid provider's own count times its price.
 */
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { once } from "node:events";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { startSimulator, type Simulator } from "../../src/sim/simulator.ts";
import { spawnCli, waitForStart } from "../_support/cli.ts";
import { pngOfSize } from "../_support/images.ts";
import { pollUntil } from "../_support/net.ts";
import { tempDir } from "../_support/temp_dirs.ts";

const PLAN_KEY = "crash-plan-key-0123456789abcdef0";
const PAID_KEY = "crash-paid-key-0123456789abcdef0";
const PRICE_PER_1000 = 2;
const TASKS = 12;

let plan: Simulator;
let paid: Simulator;
const children = new Set<ChildProcess>();
before(async () => {
  // The plan's solves are slow (its two threads stay busy, so the burst overflows); the paid ones quick.
  plan = await startSimulator({ host: "127.0.0.1", port: 0 }, { keys: [PLAN_KEY], threads: 2, solveTimeMs: { image: 3000, token: 3000 }, seed: 5 });
  paid = await startSimulator({ host: "127.0.0.1", port: 0 }, { keys: [PAID_KEY], solveTimeMs: { image: 1500, token: 1500 }, seed: 6 });
});
after(async () => {
  for (const c of children) c.kill("SIGKILL");
  await plan.close();
  await paid.close();
});

function providersFile(dir: string): string {
  writeFileSync(join(dir, "plan.key"), PLAN_KEY);
  writeFileSync(join(dir, "paid.key"), PAID_KEY);
  const path = join(dir, "providers");
  writeFileSync(path, `plan legacy ${plan.url.href} key-file=plan.key threads=2\npaid legacy ${paid.url.href} key-file=paid.key price=${PRICE_PER_1000} after=1s\n`);
  return path;
}

async function start(state: string, providers: string): Promise<{ child: ChildProcess; base: string; lines: string[] }> {
  const child = spawnCli(["run", "--listen", "127.0.0.1:0", "--providers-file", providers, "--state-dir", state, "--first-poll", "300ms", "--poll-interval", "200ms"], {});
  children.add(child);
  child.once("exit", () => children.delete(child));
  const lines: string[] = [];
  let partial = "";
  child.stderr!.on("data", (c: Buffer) => {
    const parts = (partial + c.toString()).split("\n");
    partial = parts.pop()!;
    lines.push(...parts.filter(Boolean));
  });
  const { listen } = await waitForStart(child);
  const base = `http://${listen}`;
  await until("ready", async () => (await fetch(`${base}/health/ready`)).status === 200);
  return { child, base, lines };
}

async function kill9(child: ChildProcess): Promise<void> {
  const exited = once(child, "exit");
  child.kill("SIGKILL");
  await exited;
}

const until = (what: string, fn: () => boolean | Promise<boolean>) => pollUntil(what, fn, { timeoutMs: 30_000, intervalMs: 25 });
const read = async (base: string, id: string) => (await (await fetch(`${base}/v1/tasks/${id}`)).json()) as { status: string; provider?: string; error?: { code: string } };

describe("kill -9 with two providers", () => {
  test("mid-run: every acknowledged task solved once, none at two providers, held ones polled where they went, spend equal to the paid provider's count times its price", async () => {
    const dir = tempDir("cw-provcrash-");
    const state = join(dir, "state");
    const providers = providersFile(dir);
    const first = await start(state, providers);
    const ids: string[] = [];
    for (let i = 0; i < TASKS; i++) {
      const res = await fetch(`${first.base}/v1/tasks`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ type: "image", image: pngOfSize(150 + i, 7).toString("base64") }) });
      assert.equal(res.status, 202);
      ids.push(((await res.json()) as { id: string }).id);
    }
    // Killed once both providers hold work and the paid one has solved some: tasks at each, queued, ended.
    await until("overflow under way", async () => paid.counts().submitted >= 3 && (await Promise.all(ids.map((id) => read(first.base, id)))).some((t) => t.provider === "paid" && t.status === "solved"));
    await kill9(first.child);

    const second = await start(state, providers);
    try {
      const replay = JSON.parse(second.lines.find((l) => l.includes('"journal replayed"'))!) as Record<string, number>;
      assert.equal(replay.gone, 0);
      assert.ok((replay.polled ?? 0) >= 2, `held tasks polled after the restart: ${replay.polled}`);
      assert.equal(replay.uncertain, 0, "no submit was cut mid-flight here");
      for (const id of ids) await until(`${id} solved`, async () => (await read(second.base, id)).status === "solved");
      const tasks = await Promise.all(ids.map((id) => read(second.base, id)));
      const at = (p: string) => tasks.filter((t) => t.provider === p).length;
      assert.equal(at("plan") + at("paid"), TASKS, "every task names the one provider that solved it");
      assert.equal(plan.counts().submitted, at("plan"), "the plan took each of its tasks once");
      assert.equal(paid.counts().submitted, at("paid"), "the paid provider took each of its tasks once");
      assert.equal(plan.counts().submitted + paid.counts().submitted, TASKS, "no task reached two providers");
      const deps = (await (await fetch(`${second.base}/health/dependencies`)).json()) as { providers: { name: string; spent_today_usd: number | null }[] };
      const spent = deps.providers.find((p) => p.name === "paid")!.spent_today_usd!;
      assert.ok(Math.abs(spent - (paid.counts().submitted * PRICE_PER_1000) / 1000) < 1e-9, `spent ${spent} for ${paid.counts().submitted} paid solves: the journal kept the spend across the kill`);
    } finally {
      await kill9(second.child);
    }
  });
});
