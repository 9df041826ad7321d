/**
 * A refused second instance is visible to Prometheus, with two real processes: the refused one exits
 * 75 with one plain line and appends its line to DIR/.refused; the owner's
 * `captcha_worker_state_dir_refusals_total` counts it (and only what appeared after it started).
 */
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { REFUSED_FILE } from "../../src/base/dir_refusals.ts";
import { pollUntil } from "../_support/net.ts";
import { tempDir } from "../_support/temp_dirs.ts";
import { waitForStart } from "../_support/cli.ts";
import { spawnWorker } from "../_support/worker_child.ts";

const KEY = "refusals-test-key-0123456789";

const refusals = async (base: string) => {
  const text = await (await fetch(`${base}/metrics`)).text();
  const m = /^captcha_worker_state_dir_refusals_total (\d+)$/m.exec(text);
  assert.ok(m, "the counter is exposed");
  return Number(m[1]);
};

describe("state dir refusals", () => {
  test("a second run on an owned --state-dir exits 75 with a plain line, appends to .refused, and the owner counts it", async () => {
    const dir = tempDir("cw-refusals-");
    writeFileSync(join(dir, REFUSED_FILE), '{"ts":"2026-01-01T00:00:00.000Z","pid":1,"host":"earlier","owner_pid":2}\n');
    const args = ["run", "--listen", "127.0.0.1:0", "--upstream", "http://127.0.0.1:9", "--state-dir", dir];
    const owner = spawnWorker(args, { CAPTCHAAI_API_KEY: KEY });
    const base = `http://${(await waitForStart(owner.child)).listen}`;
    try {
      assert.equal(await refusals(base), 0, "lines from before the owner started are not counted");
      for (let i = 1; i <= 2; i++) {
        const second = spawnWorker(args, { CAPTCHAAI_API_KEY: KEY });
        assert.equal(await second.exited, 75);
        const plain = second.lines.filter((l) => !l.startsWith("{"));
        assert.equal(plain.length, 1, second.lines.join("\n"));
        assert.ok(plain[0]!.startsWith(`captcha-worker: The state directory ${dir} (--state-dir) is in use`), plain[0]);
        assert.match(plain[0]!, new RegExp(`pid ${owner.child.pid}\\b`));
        const last = JSON.parse(readFileSync(join(dir, REFUSED_FILE), "utf8").trim().split("\n").at(-1)!) as Record<string, unknown>;
        assert.equal(last.pid, second.child.pid);
        assert.equal(last.owner_pid, owner.child.pid);
        assert.equal(last.host, hostname());
        await pollUntil(`the owner counts refusal ${i}`, () => refusals(base), { until: (n) => n === i, timeoutMs: 10_000, intervalMs: 100 });
      }
      assert.ok(owner.lines.some((l) => l.includes("another process was refused the state directory")), owner.lines.join("\n"));
    } finally {
      owner.child.kill("SIGTERM");
      assert.equal(await owner.exited, 0);
    }
  });

  test("without --state-dir the counter is there at 0, so the alert reads the same everywhere", async () => {
    const w = spawnWorker(["run", "--listen", "127.0.0.1:0", "--upstream", "http://127.0.0.1:9"], { CAPTCHAAI_API_KEY: KEY });
    const base = `http://${(await waitForStart(w.child)).listen}`;
    assert.equal(await refusals(base), 0);
    w.child.kill("SIGTERM");
    assert.equal(await w.exited, 0);
  });
});
