import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { CircuitBreaker, type CircuitState } from "../../../src/base/circuit_breaker.ts";
import { FakeClock } from "../../_support/fake_clock.ts";

describe("CircuitBreaker", () => {
  test("opens after the threshold of consecutive failures; a success in between resets the count", () => {
    const clock = new FakeClock();
    const cb = new CircuitBreaker(clock, { failureThreshold: 3 });
    cb.failure();
    cb.failure();
    cb.success();
    cb.failure();
    cb.failure();
    assert.equal(cb.state, "closed");
    cb.failure();
    assert.equal(cb.state, "open");
    assert.equal(cb.tryAcquire(), false);
  });

  test("half-opens after the cool-down and lets exactly one trial through", async () => {
    const clock = new FakeClock();
    const changes: CircuitState[] = [];
    const cb = new CircuitBreaker(clock, { failureThreshold: 1, coolDownMs: 1000, onChange: (s) => changes.push(s) });
    cb.failure();
    assert.equal(cb.retryInMs, 1000);
    await clock.advance(999);
    assert.equal(cb.tryAcquire(), false);
    await clock.advance(1);
    assert.equal(cb.state, "half_open");
    assert.equal(cb.tryAcquire(), true);
    assert.equal(cb.tryAcquire(), false, "only one trial");
    cb.success();
    assert.equal(cb.state, "closed");
    assert.equal(cb.tryAcquire(), true);
    assert.deepEqual(changes, ["open", "half_open", "closed"]);
  });

  test("a failed trial re-opens with a doubled cool-down, capped", async () => {
    const clock = new FakeClock();
    const cb = new CircuitBreaker(clock, { failureThreshold: 1, coolDownMs: 1000, maxCoolDownMs: 3000 });
    cb.failure();
    for (const expected of [2000, 3000, 3000]) {
      await clock.advance(cb.retryInMs);
      assert.equal(cb.tryAcquire(), true);
      cb.failure();
      assert.equal(cb.state, "open");
      assert.equal(cb.retryInMs, expected);
    }
    await clock.advance(3000);
    assert.equal(cb.tryAcquire(), true);
    cb.success();
    cb.failure();
    assert.equal(cb.retryInMs, 1000, "a success resets the cool-down");
  });
});
