import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { appendFileSync, closeSync, constants, existsSync, mkdirSync, openSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
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

  test("a .refused that is a symbolic link is neither written through by a refused process nor read by the owner", async () => {
    const dir = tempDir("cw-refusals-");
    const victim = join(tempDir("cw-refusals-victim-"), "precious");
    writeFileSync(victim, "precious\n");
    const watch = watchRefusals(dir, { clock: new FakeClock() });
    symlinkSync(victim, refused(dir));
    assert.equal(recordRefusal(dir, { pid: 1, ownerPid: 2 }), false);
    assert.equal(readFileSync(victim, "utf8"), "precious\n");
    appendFileSync(victim, '{"pid":3}\n'.repeat(3));
    await watch.check();
    assert.equal(watch.count, 0, "lines in the link's target are not refusals");
    watch.stop();
  });

  test("a .refused that is a FIFO or a directory: the refused process returns at once, the owner keeps counting nothing and does not throw", async () => {
    const dir = tempDir("cw-refusals-");
    execFileSync("mkfifo", [refused(dir)]);
    const watch = watchRefusals(dir, { clock: new FakeClock() });
    const reader = openSync(refused(dir), constants.O_RDONLY | constants.O_NONBLOCK);
    assert.equal(recordRefusal(dir, { pid: 1, ownerPid: 2 }), false, "nothing is written into a FIFO");
    closeSync(reader);
    assert.equal(recordRefusal(dir, { pid: 1, ownerPid: 2 }), false, "no reader: no wait for one");
    await watch.check();
    assert.equal(watch.count, 0);
    const other = tempDir("cw-refusals-");
    mkdirSync(refused(other));
    const watch2 = watchRefusals(other, { clock: new FakeClock() });
    assert.equal(recordRefusal(other, { pid: 1, ownerPid: 2 }), false);
    await watch2.check();
    assert.equal(watch2.count, 0);
    watch.stop();
    watch2.stop();
  });

  test("a garbage file with no line end grown past the limits is read 64 KiB at a time, counted as nothing and moved aside", async () => {
    const dir = tempDir("cw-refusals-");
    const watch = watchRefusals(dir, { clock: new FakeClock() });
    writeFileSync(refused(dir), "x".repeat(REFUSED_MAX_BYTES * 3));
    await watch.check();
    assert.equal(watch.count, 0);
    assert.equal(existsSync(refused(dir)), false, "moved aside, not read again at every look");
    recordRefusal(dir, { pid: 7, ownerPid: 9 });
    await watch.check();
    assert.equal(watch.count, 1);
    watch.stop();
  });
});
