import assert from "node:assert/strict";
import { appendFileSync, existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { lockDir } from "../../../src/base/dir_lock.ts";
import { recordRefusal, REFUSALS_CHECK_MS, REFUSED_FILE, REFUSED_MAX_BYTES, REFUSED_ROTATE_BYTES, watchRefusals } from "../../../src/base/dir_refusals.ts";
import { FakeClock } from "../../_support/fake_clock.ts";
import { tempDir } from "../../_support/temp_dirs.ts";

const refused = (dir: string) => join(dir, REFUSED_FILE);

describe("state dir refusals", () => {
  test("a refused lockDir appends one line (time, pid, host, owner) to .refused", () => {
    const dir = tempDir("cw-refusals-");
    const owner = lockDir(dir, 4242);
    assert.equal(owner.kind, "locked");
    assert.equal(lockDir(dir, 5151).kind, "busy");
    const lines = readFileSync(refused(dir), "utf8").split("\n").filter(Boolean);
    assert.equal(lines.length, 1);
    const rec = JSON.parse(lines[0]!) as Record<string, unknown>;
    assert.equal(rec.pid, 5151);
    assert.equal(rec.owner_pid, 4242);
    assert.equal(typeof rec.host, "string");
    assert.ok(!Number.isNaN(Date.parse(String(rec.ts))));
    assert.equal(statSync(refused(dir)).mode & 0o777, 0o600);
    if (owner.kind === "locked") owner.lock.release();
  });

  test("recordRefusal stops appending once the file holds 64 KiB", () => {
    const dir = tempDir("cw-refusals-");
    writeFileSync(refused(dir), "x".repeat(REFUSED_MAX_BYTES - 1) + "\n");
    assert.equal(recordRefusal(dir, { pid: 1, ownerPid: 2 }), false);
    assert.equal(statSync(refused(dir)).size, REFUSED_MAX_BYTES);
  });

  test("the watch counts the lines that appear after it began, on its timer, whole lines only", async () => {
    const dir = tempDir("cw-refusals-");
    recordRefusal(dir, { pid: 1, ownerPid: 9 }); // before the owner started: not counted
    const clock = new FakeClock();
    const watch = watchRefusals(dir, { clock });
    recordRefusal(dir, { pid: 2, ownerPid: 9 });
    recordRefusal(dir, { pid: 3, ownerPid: 9 });
    assert.equal(watch.count, 0, "nothing is read between looks");
    await clock.advance(REFUSALS_CHECK_MS);
    await watch.check();
    assert.equal(watch.count, 2);
    appendFileSync(refused(dir), '{"ts":"half a line');
    await watch.check();
    assert.equal(watch.count, 2, "a line being written is not counted yet");
    appendFileSync(refused(dir), '"}\n');
    await watch.check();
    assert.equal(watch.count, 3);
    watch.stop();
    assert.equal(clock.pendingCount, 0);
  });

  test("the watch moves a file of 32 KiB aside once counted, and counts the next file from its start", async () => {
    const dir = tempDir("cw-refusals-");
    const watch = watchRefusals(dir, { clock: new FakeClock() });
    assert.ok(REFUSED_ROTATE_BYTES < 600 * 60);
    for (let i = 0; i < 600; i++) recordRefusal(dir, { pid: 1000 + i, ownerPid: 9 });
    await watch.check();
    assert.equal(watch.count, 600);
    assert.equal(existsSync(refused(dir)), false);
    assert.equal(readFileSync(refused(dir) + ".1", "utf8").split("\n").filter(Boolean).length, 600);
    recordRefusal(dir, { pid: 7, ownerPid: 9 });
    await watch.check();
    assert.equal(watch.count, 601);
    watch.stop();
  });
});
