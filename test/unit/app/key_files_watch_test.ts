import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { KEY_FILES_CHECK_MS, watchKeyFiles } from "../../../src/app/key_files_watch.ts";
import { FakeClock } from "../../_support/fake_clock.ts";

/** Files as identities (undefined: cannot be looked at), the watch on them, and each onChange's paths. */
function rig(files: Record<string, string | undefined>, paths: () => readonly string[] = () => Object.keys(files)) {
  const clock = new FakeClock();
  const calls: string[][] = [];
  const watch = watchKeyFiles({
    paths,
    clock,
    onChange: (changed) => calls.push(changed),
    identify: async (p) => files[p],
    identifyNow: (p) => files[p],
  });
  return { clock, calls, watch };
}

describe("watchKeyFiles", () => {
  test("watchKeyFiles calls onChange once per look with the files whose identity changed, and not while nothing changes", async () => {
    const files: Record<string, string | undefined> = { "/etc/cw/providers": "1", "/etc/cw/a.key": "1", "/etc/cw/b.key": "1" };
    const { clock, calls } = rig(files);
    await clock.advance(5 * KEY_FILES_CHECK_MS);
    assert.deepEqual(calls, [], "nothing changed");
    files["/etc/cw/a.key"] = "2";
    files["/etc/cw/b.key"] = "2";
    await clock.advance(KEY_FILES_CHECK_MS);
    assert.deepEqual(calls, [["/etc/cw/a.key", "/etc/cw/b.key"]], "one call for a Secret's swap of several files");
    await clock.advance(3 * KEY_FILES_CHECK_MS);
    assert.equal(calls.length, 1, "a change is reported once");
  });

  test("watchKeyFiles sees a change made before its first timer fires: the first identities are taken at once", async () => {
    const files: Record<string, string | undefined> = { "/k": "1" };
    const { clock, calls } = rig(files);
    files["/k"] = "2";
    await clock.advance(KEY_FILES_CHECK_MS);
    assert.deepEqual(calls, [["/k"]]);
  });

  test("watchKeyFiles keeps a file's last identity while it cannot be looked at (a Secret's swap in progress), and reports it once back changed", async () => {
    const files: Record<string, string | undefined> = { "/k": "1" };
    const { clock, calls } = rig(files);
    files["/k"] = undefined;
    await clock.advance(2 * KEY_FILES_CHECK_MS);
    assert.deepEqual(calls, [], "gone for a moment is no change");
    files["/k"] = "1";
    await clock.advance(KEY_FILES_CHECK_MS);
    assert.deepEqual(calls, [], "back as it was");
    files["/k"] = undefined;
    await clock.advance(KEY_FILES_CHECK_MS);
    files["/k"] = "2";
    await clock.advance(KEY_FILES_CHECK_MS);
    assert.deepEqual(calls, [["/k"]]);
  });

  test("watchKeyFiles follows the paths it is given: a file a reload adds is taken as it is first seen, then watched", async () => {
    const files: Record<string, string | undefined> = { "/providers": "1", "/old.key": "1", "/new.key": "1" };
    let paths = ["/providers", "/old.key"];
    const { clock, calls } = rig(files, () => paths);
    paths = ["/providers", "/new.key"];
    await clock.advance(KEY_FILES_CHECK_MS);
    assert.deepEqual(calls, [], "first seen: what the reload read");
    files["/new.key"] = "2";
    files["/old.key"] = "2";
    await clock.advance(KEY_FILES_CHECK_MS);
    assert.deepEqual(calls, [["/new.key"]], "the file no longer named is not watched");
  });

  test("watchKeyFiles looks no more after stop()", async () => {
    const files: Record<string, string | undefined> = { "/k": "1" };
    const { clock, calls, watch } = rig(files);
    watch.stop();
    files["/k"] = "2";
    await clock.advance(3 * KEY_FILES_CHECK_MS);
    assert.deepEqual(calls, []);
    assert.equal(clock.pendingCount, 0, "no timer left");
  });
});
