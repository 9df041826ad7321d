import assert from "node:assert/strict";
import { existsSync, lstatSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { lockDir, OWNER_FILE } from "../../../src/base/dir_lock.ts";
import { tempDir } from "../../_support/temp_dirs.ts";

describe("lockDir", () => {
  test("lockDir gives a dir one owner: a second lock is busy and names the owner's pid, until the first is released", () => {
    const dir = tempDir("cw-lock-");
    const first = lockDir(dir, 4242);
    assert.equal(first.kind, "locked");
    assert.equal(readFileSync(join(dir, OWNER_FILE), "utf8").trim(), "4242");
    assert.deepEqual(lockDir(dir, 5151), { kind: "busy", ownerPid: 4242 }, "in this process too (SQLite tracks its own locks)");
    if (first.kind === "locked") first.lock.release();
    assert.equal(existsSync(join(dir, OWNER_FILE)), false);
    const second = lockDir(dir, 5151);
    assert.equal(second.kind, "locked");
    if (second.kind === "locked") second.lock.release();
  });

  test("lockDir on a directory it cannot create files in throws the file system's error, not busy", () => {
    const file = join(tempDir("cw-lock-"), "missing", "deeper");
    assert.throws(() => lockDir(file, 1), (err: NodeJS.ErrnoException) => typeof err.code === "string" && err.code !== "");
  });

  test("the owner's pid file replaces a link planted at its name instead of writing through it", () => {
    const dir = tempDir();
    const victim = join(tempDir(), "precious");
    writeFileSync(victim, "precious\n");
    symlinkSync(victim, join(dir, OWNER_FILE));
    const taken = lockDir(dir, 4242);
    assert.equal(taken.kind, "locked");
    assert.equal(readFileSync(victim, "utf8"), "precious\n");
    assert.ok(lstatSync(join(dir, OWNER_FILE)).isFile());
    assert.equal(readFileSync(join(dir, OWNER_FILE), "utf8"), "4242\n");
    if (taken.kind === "locked") taken.lock.release();
  });
});
