/**
 * The worker with --state-dir, whole: the CLI's exit 78, a restart on the same dir through the
 * harness, and a full state dir (a small tmpfs, mounted as root). FileJournal itself is unit-tested
 * in test/unit/journal/.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { JOURNAL_FILE } from "../../src/journal/file_journal.ts";
import { runMain } from "../_support/cli.ts";
import { eventually, startHarness } from "../_support/harness.ts";
import { journalLines, tempDir } from "../_support/temp_dirs.ts";
import { requireOrSkip } from "../_support/programs.ts";
import { PNG_B64, pngOfSize } from "../_support/images.ts";

const lines = journalLines;

describe("the worker with --state-dir", () => {
  test("run with a state dir it cannot write exits 78 naming the flag, before listening", async () => {
    const file = join(tempDir(), "a-file");
    writeFileSync(file, "");
    const r = await runMain(["run", "--listen", "127.0.0.1:0", "--state-dir", join(file, "state")], { CAPTCHAAI_API_KEY: "k-0123456789" });
    assert.equal(r.code, 78);
    assert.match(r.stderr, /--state-dir/);
    assert.match(r.stderr, /ENOTDIR/);
    assert.ok(!r.stderr.includes("captcha-worker started"));
  });

  test("an unusable journal exits 78 naming --state-dir and the reason, never 1 \"cannot listen\": a directory in its place, a newer format", async () => {
    const env = { CAPTCHAAI_API_KEY: "k-0123456789" };
    const isDir = tempDir();
    mkdirSync(join(isDir, JOURNAL_FILE));
    const newer = tempDir();
    writeFileSync(join(newer, JOURNAL_FILE), JSON.stringify({ op: "format", version: 99 }) + "\n");
    for (const [dir, reason] of [[isDir, /EISDIR/], [newer, /newer worker/]] as const) {
      const r = await runMain(["run", "--listen", "127.0.0.1:0", "--state-dir", dir], env);
      assert.equal(r.code, 78, r.stderr);
      assert.match(r.stderr, /--state-dir/);
      assert.match(r.stderr, reason);
      assert.ok(!r.stderr.includes("cannot listen") && !r.stderr.includes("captcha-worker started"));
    }
  });

  test("a record that cannot be applied (an accept without params, an unknown op) is skipped and counted at start, never a crash", async () => {
    const dir = tempDir();
    const now = Date.UTC(2026, 0, 1);
    writeFileSync(join(dir, JOURNAL_FILE), [
      JSON.stringify({ op: "accept", id: "no-params", type: "image", created_at: now, deadline_at: now + 60_000 }),
      JSON.stringify({ op: "accept", id: "ok", type: "image", params: { type: "image", image: PNG_B64 }, created_at: now, deadline_at: now + 60_000 }),
      JSON.stringify({ op: "explode", id: "ok" }),
      "",
    ].join("\n"));
    const h = await startHarness({ flags: { "state-dir": dir } });
    try {
      const replayed = h.logs.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === "journal replayed")!;
      assert.equal(replayed.skipped, 2);
      assert.equal(replayed.queued, 1);
      assert.equal(h.worker.pool.find("no-params"), undefined);
      assert.ok(h.worker.pool.find("ok"));
    } finally {
      await h.close();
    }
  });

  test("an immutable journal (chattr +i: EPERM) exits 78 naming --state-dir", async (t) => {
    const dir = tempDir();
    const file = join(dir, JOURNAL_FILE);
    writeFileSync(file, "");
    if (!requireOrSkip(t, spawnSync("chattr", ["+i", file]).status === 0, "chattr +i needs root and a file system with attributes")) return;
    try {
      const r = await runMain(["run", "--listen", "127.0.0.1:0", "--state-dir", dir], { CAPTCHAAI_API_KEY: "k-0123456789" });
      assert.equal(r.code, 78, r.stderr);
      assert.match(r.stderr, /--state-dir/);
      assert.match(r.stderr, /EPERM/);
    } finally {
      spawnSync("chattr", ["-i", file]);
    }
  });

  test("an accepted task is on disk before its 202; a restart on the same dir takes up the open ones", async () => {
    const dir = tempDir();
    const h = await startHarness({ flags: { "state-dir": dir, threads: "1" } });
    const post = () => fetch(h.base + "/v1/tasks", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ type: "image", image: pngOfSize(150, 7).toString("base64") }) });
    const a = (await (await post()).json()) as { id: string };
    assert.ok(lines(dir).some((r) => r.op === "accept" && r.id === a.id), "on disk when the 202 arrived");
    const b = (await (await post()).json()) as { id: string };
    await eventually(() => h.worker.pool.find(a.id)?.status === "submitted", "a submitted");
    await eventually(() => lines(dir).some((r) => r.op === "submitted" && r.id === a.id), "its upstream id recorded");
    // Drain: with a journal, the queued task is kept, not failed with `shutdown`.
    h.worker.beginDrain();
    assert.equal(h.worker.pool.find(b.id)!.status, "queued");
    const drained = h.worker.drain(0); // no time to finish: the submitted task stays open
    await h.clock.advance(1);
    assert.equal(await drained, 0, "nothing failed with shutdown");
    await h.close();
    const submitsBefore = h.sim.counts().submitted;

    const h2 = await startHarness({ flags: { "state-dir": dir }, sim: {} });
    try {
      const restored = h2.logs.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === "journal replayed")!;
      assert.equal(restored.polled, 1);
      assert.equal(restored.queued, 1);
      assert.equal(h2.worker.pool.find(a.id)!.status, "submitted", "polled by its upstream id, not submitted again");
      assert.equal(h2.worker.pool.find(b.id)!.status, "queued");
    } finally {
      await h2.close();
    }
    assert.equal(submitsBefore, 1);
  });

  test("a report survives a restart: the restored task answers a second report 409 and nothing goes upstream", async () => {
    const dir = tempDir();
    const h = await startHarness({ flags: { "state-dir": dir } });
    const report = (base: string, id: string) =>
      fetch(`${base}/v1/tasks/${id}/report`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ correct: false }) });
    let id: string;
    try {
      const created = await fetch(h.base + "/v1/tasks", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ type: "image", image: pngOfSize(150, 7).toString("base64") }) });
      id = ((await created.json()) as { id: string }).id;
      await h.clock.advance(5000);
      await eventually(() => h.worker.pool.find(id)?.status === "solved", "solved");
      assert.equal((await report(h.base, id)).status, 200);
      await eventually(() => lines(dir).some((r) => r.op === "reported" && r.id === id), "the report journaled");
    } finally {
      await h.close();
    }
    const h2 = await startHarness({ flags: { "state-dir": dir }, sim: {} });
    try {
      assert.equal(h2.worker.pool.find(id)?.reported, "bad");
      const again = await report(h2.base, id);
      assert.equal(again.status, 409);
      assert.match(((await again.json()) as { detail: string }).detail, /already reported \(bad\)/);
      assert.equal(h2.sim.counts().requests["res.php:report"] ?? 0, 0, "not sent upstream again");
    } finally {
      await h2.close();
    }
  });

  test("a full state dir: the task is refused with 503 naming it, readiness says so, and both recover when space returns", async (t) => {
    const mnt = tempDir();
    const mounted = spawnSync("mount", ["-t", "tmpfs", "-o", "size=256k", "tmpfs", mnt]).status === 0;
    if (!requireOrSkip(t, mounted, "mounting a small tmpfs needs root (to fill a state dir)")) return;
    try {
      const dir = join(mnt, "state");
      mkdirSync(dir);
      const h = await startHarness({ flags: { "state-dir": dir } });
      try {
        const filler = join(mnt, "filler");
        spawnSync("sh", ["-c", `cat /dev/zero > ${filler}`]); // fills the tmpfs
        const big = { type: "image", image: pngOfSize(120_000, 9).toString("base64") };
        const res = await fetch(h.base + "/v1/tasks", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(big) });
        assert.equal(res.status, 503);
        const problem = (await res.json()) as { code: string; detail: string };
        assert.equal(problem.code, "ERR_STATE_DIR");
        assert.match(problem.detail, /ENOSPC/);
        assert.equal(h.worker.pool.queueDepth, 0, "the refused task was withdrawn");
        const ready = (await (await fetch(h.base + "/health/ready")).json()) as { issues: string[] };
        assert.ok(ready.issues.includes("state_dir=ENOSPC"), JSON.stringify(ready));
        rmSync(filler);
        await h.clock.advance(1000); // the journal re-checks its directory
        assert.deepEqual(((await (await fetch(h.base + "/health/ready")).json()) as { issues: string[] }).issues, []);
        const ok = await fetch(h.base + "/v1/tasks", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(big) });
        assert.equal(ok.status, 202);
        assert.deepEqual(((await (await fetch(h.base + "/health/ready")).json()) as { issues: string[] }).issues, []);
      } finally {
        await h.close();
      }
    } finally {
      spawnSync("umount", [mnt]);
    }
  });
});
