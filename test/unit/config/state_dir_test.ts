import assert from "node:assert/strict";
import { mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { prepareStateDir } from "../../../src/config/state_dir.ts";
import { isWorkerError } from "../../../src/base/errors.ts";

const root = mkdtempSync(join(tmpdir(), "cw-state-dir-"));
after(() => rmSync(root, { recursive: true, force: true }));

function refusal(dir: string): Error {
  try {
    prepareStateDir(dir);
  } catch (err) {
    assert.ok(isWorkerError(err, "ERR_CONFIG_INVALID"), String(err));
    assert.equal(err.field, "--state-dir");
    return err;
  }
  assert.fail(`${dir} was accepted`);
}

describe("prepareStateDir", () => {
  test("creates a missing directory and its parents, owner-only; an existing one passes", () => {
    const dir = join(root, "a", "b", "c");
    prepareStateDir(dir);
    assert.ok(statSync(dir).isDirectory());
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    prepareStateDir(dir);
  });

  test("a file, or a path below one, is refused naming the file", () => {
    const file = join(root, "file");
    writeFileSync(file, "x");
    assert.match(refusal(file).message, /^Invalid --state-dir: ".*file" exists and is not a directory \(ENOTDIR\)$/);
    assert.match(refusal(join(file, "sub")).message, /".*file" \(a parent of .*\) is not a directory/);
    assert.match(refusal("").message, /empty/);
  });

  test("a path under /proc is refused at once (Node's recursive mkdir would loop there)", () => {
    assert.match(refusal("/proc/captcha-worker/state").message, /cannot create "\/proc\/captcha-worker" \(ENOENT/);
  });

  test("a link to nowhere is named with its target, not a bare EEXIST", () => {
    const link = join(root, "dangling");
    symlinkSync(join(root, "nowhere", "state"), link);
    assert.match(refusal(link).message, /^Invalid --state-dir: ".*dangling" is a symbolic link to ".*nowhere\/state", which does not exist$/);
    assert.match(refusal(join(link, "sub")).message, /".*dangling" is a symbolic link to/);
  });
});
