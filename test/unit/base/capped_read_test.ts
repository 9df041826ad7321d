import assert from "node:assert/strict";
import { PassThrough, Readable } from "node:stream";
import { describe, test } from "node:test";
import { readCapped } from "../../../src/base/capped_read.ts";

describe("readCapped", () => {
  test("reads a stream to its end into one buffer", async () => {
    const read = await readCapped(Readable.from([Buffer.from("ab"), Buffer.from("cd"), Buffer.from("e")]), 5);
    assert.deepEqual(read, { kind: "complete", body: Buffer.from("abcde") });
  });

  test("an empty stream is an empty body", async () => {
    assert.deepEqual(await readCapped(Readable.from([]), 10), { kind: "complete", body: Buffer.alloc(0) });
  });

  test("string chunks are read as UTF-8 bytes and counted as such", async () => {
    assert.deepEqual(await readCapped(Readable.from(["é"], { objectMode: false }), 2), { kind: "complete", body: Buffer.from("é") });
    const over = await readCapped(Readable.from(["éé"], { objectMode: false }), 3);
    assert.equal(over.kind, "too_large");
  });

  test("past the cap: too_large with the bytes up to the cap, and nothing more is pulled from the source", async () => {
    let pulled = 0;
    const source = Readable.from(
      (function* () {
        for (let i = 0; i < 1000; i++) {
          pulled++;
          yield Buffer.alloc(1024, i % 256);
        }
      })(),
    );
    const read = await readCapped(source, 2500);
    assert.equal(read.kind, "too_large");
    assert.equal(read.kind === "too_large" && read.head.length, 2500);
    assert.equal(read.kind === "too_large" && read.head[2048], 2);
    await new Promise((r) => setImmediate(r));
    assert.ok(pulled < 100, `read on past the cap: ${pulled} chunks`);
    assert.ok(source.isPaused());
    assert.equal(source.listenerCount("data"), 0);
    source.destroy();
  });

  test("exactly the cap is complete", async () => {
    const read = await readCapped(Readable.from([Buffer.alloc(3), Buffer.alloc(2)]), 5);
    assert.equal(read.kind, "complete");
  });

  test("rejects with the stream's error", async () => {
    const stream = new PassThrough();
    const reading = readCapped(stream, 100);
    stream.write("abc");
    stream.destroy(new Error("ECONNRESET"));
    await assert.rejects(reading, /ECONNRESET/);
  });

  test("rejects when the stream closes before its end (a client gone away)", async () => {
    const stream = new PassThrough();
    const reading = readCapped(stream, 100);
    stream.write("abc");
    stream.destroy();
    await assert.rejects(reading, /aborted/);
  });

  test("a stream already ended or destroyed settles at once", async () => {
    const ended = new PassThrough();
    ended.end();
    ended.resume();
    await new Promise((r) => ended.once("end", r));
    assert.equal((await readCapped(ended, 10)).kind, "complete");
    const destroyed = new PassThrough();
    destroyed.destroy();
    await assert.rejects(readCapped(destroyed, 10), /aborted/);
  });
});

describe("readCapped with a declared length", () => {
  const from = (parts: string[]) => Readable.from(parts.map((p) => Buffer.from(p)));
  test("reads into one buffer of the declared size; a longer or shorter body still reads whole, up to the cap", async () => {
    assert.deepEqual(await readCapped(from(["ab", "cd"]), 10, 4).then((r) => r.kind === "complete" && r.body.toString()), "abcd");
    assert.deepEqual(await readCapped(from(["ab", "cdef"]), 10, 4).then((r) => r.kind === "complete" && r.body.toString()), "abcdef", "longer than declared");
    assert.deepEqual(await readCapped(from(["ab"]), 10, 4).then((r) => r.kind === "complete" && r.body.toString()), "ab", "shorter than declared");
    const big = await readCapped(from(["abcd", "efgh", "ijkl"]), 10, 8);
    assert.equal(big.kind, "too_large");
    assert.equal(big.kind === "too_large" && big.head.toString(), "abcdefghij");
  });
});
