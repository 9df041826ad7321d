import assert from "node:assert/strict";
import { chmodSync, existsSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { recordAddress } from "../../../src/app/address_file.ts";
import { createLogger } from "../../../src/base/log.ts";
import { tempDir } from "../../_support/temp_dirs.ts";

function capture() {
  const lines: string[] = [];
  return { lines, log: createLogger({ level: "debug", write: (l) => void lines.push(l) }) };
}

describe("recordAddress", () => {
  test("writes host:port and a newline, with no temporary file left; remove() deletes it", () => {
    const dir = tempDir("cw-address-");
    const path = join(dir, "captcha-worker.address");
    const { log, lines } = capture();
    const file = recordAddress(path, { host: "0.0.0.0", port: 9000 }, log);
    assert.ok(file);
    assert.equal(readFileSync(path, "utf8"), "0.0.0.0:9000\n");
    assert.deepEqual(readdirSync(dir), ["captcha-worker.address"]);
    assert.deepEqual(lines, []);
    file.remove();
    assert.equal(existsSync(path), false);
    file.remove(); // twice: nothing left, no throw
  });

  test("IPv6 in brackets; a file from an earlier run is replaced", () => {
    const path = join(tempDir("cw-address-"), "a");
    writeFileSync(path, "127.0.0.1:1\n");
    recordAddress(path, { host: "::1", port: 8080 }, capture().log);
    assert.equal(readFileSync(path, "utf8"), "[::1]:8080\n");
  });

  test("remove() leaves a file another worker has written since", () => {
    const path = join(tempDir("cw-address-"), "a");
    const mine = recordAddress(path, { host: "127.0.0.1", port: 9000 }, capture().log)!;
    writeFileSync(path, "127.0.0.1:9001\n");
    mine.remove();
    assert.equal(readFileSync(path, "utf8"), "127.0.0.1:9001\n");
  });

  test("an unwritable place is one warning naming the file and the fallback, not a throw", (t) => {
    const dir = tempDir("cw-address-");
    writeFileSync(join(dir, "not-a-dir"), "");
    chmodSync(join(dir, "not-a-dir"), 0o444);
    const path = join(dir, "not-a-dir", "captcha-worker.address");
    const { log, lines } = capture();
    assert.equal(recordAddress(path, { host: "127.0.0.1", port: 9000 }, log), undefined);
    assert.equal(lines.length, 1, lines.join(""));
    const rec = JSON.parse(lines[0]!) as Record<string, unknown>;
    assert.equal(rec.level, "warn");
    assert.equal(rec.address_file, path);
    assert.match(String(rec.msg), /--listen/);
    t.diagnostic(String(rec.msg));
  });

  test("a link planted at the old temporary name is not written through", () => {
    const dir = tempDir("cw-address-");
    const victim = join(tempDir("cw-address-victim-"), "precious");
    writeFileSync(victim, "precious\n");
    const path = join(dir, "a");
    symlinkSync(victim, `${path}.tmp`);
    assert.ok(recordAddress(path, { host: "127.0.0.1", port: 9000 }, capture().log));
    assert.equal(readFileSync(victim, "utf8"), "precious\n");
    assert.equal(readFileSync(path, "utf8"), "127.0.0.1:9000\n");
    assert.deepEqual(readdirSync(dir).sort(), ["a", "a.tmp"], "no temporary file of ours left");
  });
});
