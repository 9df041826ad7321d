import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { refreshLead, TtlCache } from "../../../src/health/ttl_cache.ts";
import { FakeClock, settle } from "../../_support/fake_clock.ts";

/** A loader the test resolves by hand, counting calls. */
function manualLoader<T>() {
  const pending: Array<{ resolve: (v: T) => void; reject: (e: unknown) => void; signal: AbortSignal }> = [];
  return {
    pending,
    load: (signal: AbortSignal) => new Promise<T>((resolve, reject) => pending.push({ resolve, reject, signal })),
  };
}

describe("TtlCache", () => {
  test("serves a fresh value within the TTL without loading again", async () => {
    const clock = new FakeClock();
    const l = manualLoader<number>();
    const cache = new TtlCache({ clock, ttlMs: 10_000, timeoutMs: 1000, load: l.load });
    void cache.refresh();
    l.pending[0]!.resolve(12.5);
    await settle();
    await clock.advance(9_999);
    const r = cache.read();
    assert.equal(r.value, 12.5);
    assert.equal(r.stale, false);
    assert.equal(r.ageMs, 9_999);
    assert.equal(cache.loads, 1);
  });

  test("serves the stale value while one refresh runs, however many readers", async () => {
    const clock = new FakeClock();
    const l = manualLoader<number>();
    const cache = new TtlCache({ clock, ttlMs: 1000, timeoutMs: 5000, load: l.load });
    void cache.refresh();
    l.pending[0]!.resolve(5);
    await settle();
    await clock.advance(1000);
    for (let i = 0; i < 1000; i++) {
      const r = cache.read();
      assert.equal(r.value, 5);
      assert.equal(r.stale, true);
    }
    assert.equal(cache.loads, 2, "one refresh for 1000 readers");
    assert.equal(cache.read().refreshing, true);
    l.pending[1]!.resolve(4);
    await settle();
    assert.deepEqual([cache.read().value, cache.read().stale], [4, false]);
  });

  test("a failed refresh keeps the last good value, marked stale with the error and its age", async () => {
    const clock = new FakeClock();
    const l = manualLoader<number>();
    const cache = new TtlCache({ clock, ttlMs: 1000, timeoutMs: 5000, load: l.load, random: () => 0 });
    void cache.refresh();
    l.pending[0]!.resolve(7);
    await settle();
    await clock.advance(1500);
    cache.read();
    l.pending[1]!.reject(new Error("ECONNRESET"));
    await settle();
    const r = cache.read();
    assert.equal(r.value, 7);
    assert.equal(r.stale, true);
    assert.equal(r.ageMs, 1500);
    assert.equal(r.error?.code, "ERR_CHECK_FAILED");
    assert.match(r.error!.message, /ECONNRESET/);
    assert.equal(cache.loads, 2, "no retry before the back-off passes, however often it is read");
  });

  test("retries with back-off after failures, then recovers", async () => {
    const clock = new FakeClock();
    const l = manualLoader<number>();
    const cache = new TtlCache({ clock, ttlMs: 60_000, timeoutMs: 5000, load: l.load, retryBaseMs: 1000, random: () => 0 });
    void cache.start();
    l.pending[0]!.reject(new Error("down"));
    await settle();
    await clock.advance(499);
    assert.equal(cache.loads, 1);
    await clock.advance(1);
    assert.equal(cache.loads, 2, "first retry at half the base (full jitter, random 0)");
    l.pending[1]!.reject(new Error("down"));
    await clock.advance(999);
    assert.equal(cache.loads, 2);
    await clock.advance(1);
    assert.equal(cache.loads, 3, "second retry doubled");
    l.pending[2]!.resolve(9);
    await settle();
    assert.equal(cache.read().error, undefined);
    assert.equal(cache.read().value, 9);
    cache.stop();
  });

  test("refreshes in the background before expiry, so readers never see stale data", async () => {
    const clock = new FakeClock();
    let n = 0;
    const cache = new TtlCache({ clock, ttlMs: 10_000, timeoutMs: 1000, load: async () => ++n });
    await cache.start();
    for (let t = 0; t < 100; t++) {
      await clock.advance(1000);
      assert.equal(cache.read().stale, false, `at ${t + 1}s`);
    }
    assert.equal(cache.loads, 1 + Math.floor(100_000 / 9_900), "about one load per TTL, 100 ms ahead of expiry");
    cache.stop();
  });

  test("the refresh lead follows the last load's duration, within 100 ms and a fifth of the TTL", () => {
    assert.equal(refreshLead(0, 10_000), 100);
    assert.equal(refreshLead(300, 10_000), 1200);
    assert.equal(refreshLead(30_000, 10_000), 2000);
  });

  test("a slow load starts its refresh early enough that readers still never see stale data", async () => {
    const clock = new FakeClock();
    const cache = new TtlCache({
      clock,
      ttlMs: 10_000,
      timeoutMs: 5000,
      load: () => new Promise<number>((resolve) => clock.setTimeout(() => resolve(clock.now()), 400)),
    });
    const started = cache.start();
    await clock.advance(400);
    await started;
    for (let t = 0; t < 600; t++) {
      await clock.advance(100);
      assert.equal(cache.read().stale, false, `at ${(t + 1) / 10}s`);
    }
    assert.ok(cache.loads >= 6 && cache.loads <= 8, `about one load per TTL, got ${cache.loads}`);
    cache.stop();
  });

  test("a load that never answers is cut off at the timeout and aborted", async () => {
    const clock = new FakeClock();
    const l = manualLoader<number>();
    const cache = new TtlCache({ clock, ttlMs: 1000, timeoutMs: 500, load: l.load });
    const done = cache.refresh();
    await clock.advance(500);
    await done;
    assert.equal(l.pending[0]!.signal.aborted, true);
    const r = cache.read();
    assert.equal(r.error?.code, "ERR_CHECK_TIMEOUT");
    assert.equal(r.value, undefined);
    assert.equal(r.stale, true);
  });

  test("error messages are sanitized", async () => {
    const clock = new FakeClock();
    const cache = new TtlCache({
      clock,
      ttlMs: 1000,
      timeoutMs: 500,
      load: async () => {
        throw new Error("bad key SECRET");
      },
      sanitize: (m) => m.replaceAll("SECRET", "[REDACTED]"),
    });
    await cache.refresh();
    assert.equal(cache.read().error?.message, "bad key [REDACTED]");
  });

  test("TtlCache calls onSettled once per load, after the load is recorded and no longer refreshing", async () => {
    const clock = new FakeClock();
    const l = manualLoader<number>();
    const reads: Array<[number | undefined, boolean]> = [];
    const cache: TtlCache<number> = new TtlCache({ clock, ttlMs: 1000, timeoutMs: 500, load: l.load, onSettled: () => reads.push([cache.read().value, cache.read().refreshing]) });
    const first = cache.refresh();
    void cache.refresh(); // joins the one running
    l.pending[0]!.resolve(7);
    await first;
    assert.deepEqual(reads, [[7, false]]);
    const second = cache.refresh();
    l.pending[1]!.reject(new Error("boom"));
    await second;
    assert.equal(reads.length, 2);
    assert.equal(cache.read().error?.code, "ERR_CHECK_FAILED");
  });

  test("TtlCache.peek reads the same state as read but never starts a load", async () => {
    const clock = new FakeClock();
    const l = manualLoader<number>();
    const cache = new TtlCache({ clock, ttlMs: 1000, timeoutMs: 5000, load: l.load });
    assert.deepEqual([cache.peek().value, cache.peek().stale, cache.loads], [undefined, true, 0]);
    void cache.refresh();
    l.pending[0]!.resolve(3);
    await settle();
    await clock.advance(5000);
    for (let i = 0; i < 10; i++) assert.deepEqual([cache.peek().value, cache.peek().stale, cache.peek().ageMs], [3, true, 5000]);
    assert.equal(cache.loads, 1);
  });
});
