/**
 * kill -9 at several points, restart on the same --state-dir: every accepted task ends exactly
 * once, and the simulator's counts show no second submission. The worker runs as a child process
 * (the real CLI); the simulator lives here, so it outlives the worker and keeps count.
 */
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { once } from "node:events";
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { JOURNAL_FILE } from "../../src/journal/file_journal.ts";
import { startSimulator, type Simulator } from "../../src/sim/simulator.ts";
import { spawnCli, waitForStart } from "../_support/cli.ts";
import { pollUntil } from "../_support/net.ts";
import { pngOfSize } from "../_support/images.ts";

const KEY = "crash-test-key-01234567890123456";
const IMAGE = JSON.stringify({ type: "image", image: pngOfSize(150, 5).toString("base64") });

let sim: Simulator;
const dirs: string[] = [];
before(async () => (sim = await startSimulator({ host: "127.0.0.1", port: 0 }, { keys: [KEY], solveTimeMs: { image: 200, token: 200 }, seed: 3 })));
const children = new Set<ChildProcess>();
after(async () => {
  for (const c of children) c.kill("SIGKILL"); // a failed assertion must not leave a worker running
  await sim.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function start(dir: string, extra: string[] = []): Promise<{ child: ChildProcess; base: string; lines: string[] }> {
  const child = spawnCli(
    ["run", "--listen", "127.0.0.1:0", "--upstream", sim.url.href, "--state-dir", dir, "--poll-interval", "100ms", "--balance-ttl", "60s", ...extra],
    { CAPTCHAAI_API_KEY: KEY },
  );
  const lines: string[] = [];
  let partial = "";
  child.stderr!.on("data", (c: Buffer) => {
    const parts = (partial + c.toString()).split("\n");
    partial = parts.pop()!; // a line may arrive in two chunks
    lines.push(...parts.filter(Boolean));
  });
  children.add(child);
  child.once("exit", () => children.delete(child));
  const { listen } = await waitForStart(child);
  const base = `http://${listen}`;
  // The start line comes before the first balance check ends; tasks are taken once ready.
  await until("ready", async () => (await fetch(base + "/health/ready")).status === 200);
  return { child, base, lines };
}

async function kill9(child: ChildProcess): Promise<void> {
  const exited = once(child, "exit");
  child.kill("SIGKILL");
  await exited;
}

/** Waits on the child worker or the simulator, which run on the wall clock. */
const until = (what: string, fn: () => boolean | Promise<boolean>) => pollUntil(what, fn, { timeoutMs: 20_000, intervalMs: 25 });

const post = async (base: string) => {
  const res = await fetch(base + "/v1/tasks", { method: "POST", headers: { "content-type": "application/json" }, body: IMAGE });
  assert.equal(res.status, 202);
  return ((await res.json()) as { id: string }).id;
};
const status = async (base: string, id: string) => ((await (await fetch(`${base}/v1/tasks/${id}`)).json()) as { status: string; error?: { code: string } });
const replayLine = (lines: string[]) => JSON.parse(lines.find((l) => l.includes('"journal replayed"'))!) as Record<string, number | boolean>;

describe("kill -9 and restart on the same state dir", () => {
  test("before and after submit: queued tasks are submitted once after the restart, submitted ones polled by their id", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cw-crash-"));
    dirs.push(dir);
    sim.control.reset();
    // One thread, a long first poll: one task submitted and waiting, the rest queued, at the kill.
    const first = await start(dir, ["--threads", "1", "--first-poll", "30s"]);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await post(first.base));
    await until("one submit", () => sim.counts().submitted === 1);
    await until("its upstream id journaled", () => readFileSync(join(dir, JOURNAL_FILE), "utf8").includes('"op":"submitted"'));
    await kill9(first.child);

    const second = await start(dir, ["--threads", "5", "--first-poll", "300ms"]);
    try {
      const replay = replayLine(second.lines);
      assert.equal(replay.polled, 1);
      assert.equal(replay.queued, 4);
      for (const id of ids) await until(`${id} solved`, async () => (await status(second.base, id)).status === "solved");
      assert.equal(sim.counts().submitted, 5, "five tasks, five submissions: none twice");
      // An end record follows its answer by a group commit (it is not waited for): let it land.
      const journal = () => readFileSync(join(dir, JOURNAL_FILE), "utf8");
      await until("the end records", () => ids.every((id) => journal().includes(`{"op":"end","id":"${id}"`)));
    } finally {
      await kill9(second.child);
    }
    // A third start finds nothing open: each task ended exactly once.
    const third = await start(dir);
    try {
      assert.equal(replayLine(third.lines).polled, 0);
      assert.equal(replayLine(third.lines).queued, 0);
      assert.equal(sim.counts().submitted, 5);
    } finally {
      await kill9(third.child);
    }
  });

  test("ended tasks survive kill -9: every task solved before the crash answers 200 with its solution after the restart", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cw-crash-"));
    dirs.push(dir);
    sim.control.reset();
    const first = await start(dir, ["--threads", "5", "--first-poll", "300ms"]);
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) ids.push(await post(first.base));
    const before = new Map<string, unknown>();
    for (const id of ids) {
      await until(`${id} solved`, async () => (await status(first.base, id)).status === "solved");
      before.set(id, await (await fetch(`${first.base}/v1/tasks/${id}`)).json());
    }
    // The end record follows the answer by one group commit (not waited for): let it land, then crash.
    const journal = () => readFileSync(join(dir, JOURNAL_FILE), "utf8");
    await until("the end records", () => ids.every((id) => journal().includes(`{"op":"end","id":"${id}"`)));
    await kill9(first.child);

    const second = await start(dir);
    try {
      assert.equal(replayLine(second.lines).ended, 8);
      for (const id of ids) {
        const res = await fetch(`${second.base}/v1/tasks/${id}`);
        assert.equal(res.status, 200);
        assert.deepEqual(await res.json(), before.get(id), "the same answer as before the crash");
      }
      assert.equal(sim.counts().submitted, 8, "none sent again");
    } finally {
      await kill9(second.child);
    }
  });

  test("mid-submit: a submit that may have landed is never sent again; it fails with SUBMIT_UNCERTAIN", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cw-crash-"));
    dirs.push(dir);
    sim.control.reset();
    sim.control.setFault("in.php", { hang: true });
    const first = await start(dir, ["--threads", "2"]);
    const ids = [await post(first.base), await post(first.base)];
    await until("both submits out", () => (sim.counts().requests["in.php"] ?? 0) === 2);
    await kill9(first.child);
    sim.control.clearFaults();

    const second = await start(dir);
    try {
      assert.equal(replayLine(second.lines).uncertain, 2);
      for (const id of ids) {
        const s = await status(second.base, id);
        assert.equal(s.status, "failed");
        assert.equal(s.error?.code, "SUBMIT_UNCERTAIN");
      }
      assert.equal(sim.counts().requests["in.php"], 2, "no in.php call after the restart");
    } finally {
      await kill9(second.child);
    }
  });

  test("mid-write: a torn last line is skipped and reported; every whole record is honoured", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cw-crash-"));
    dirs.push(dir);
    sim.control.reset();
    const first = await start(dir, ["--threads", "1", "--first-poll", "30s"]);
    const ids = [await post(first.base), await post(first.base)];
    await until("one submit", () => sim.counts().submitted === 1);
    await until("its upstream id journaled", () => readFileSync(join(dir, JOURNAL_FILE), "utf8").includes('"op":"submitted"'));
    await kill9(first.child);
    appendFileSync(join(dir, JOURNAL_FILE), '{"op":"accept","id":"half-writ'); // what a crash mid-write leaves

    const second = await start(dir, ["--first-poll", "300ms"]);
    try {
      const replay = replayLine(second.lines);
      assert.equal(replay.torn, true);
      assert.equal(replay.skipped, 1);
      assert.ok(second.lines.some((l) => l.includes("torn last line")));
      for (const id of ids) await until(`${id} solved`, async () => (await status(second.base, id)).status === "solved");
      assert.equal(sim.counts().submitted, 2);
    } finally {
      await kill9(second.child);
    }
  });
});
