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
    assert.equal(cb.cause, "upstream");
    assert.equal(cb.tryAcquire(), false);
  });

  test("opened by an unreachable upstream, it stays open (no task is risked) until a check succeeds", async () => {
    const clock = new FakeClock();
    const changes: CircuitState[] = [];
    const cb = new CircuitBreaker(clock, { failureThreshold: 1, onChange: (s) => changes.push(s) });
    cb.failure();
    await clock.advance(3_600_000);
    assert.equal(cb.state, "open", "no half-open by time alone: the checks are the trials");
    assert.equal(cb.retryInMs, 1000, "retry when the next check may have run");
    cb.checkSucceeded();
    assert.equal(cb.state, "closed");
    assert.deepEqual(changes, ["open", "closed"]);
  });

  test("failures of calls sent before it closed do not re-open it", async () => {
    const clock = new FakeClock();
    const cb = new CircuitBreaker(clock, { failureThreshold: 1 });
    const sentAt = clock.now();
    cb.failure(sentAt);
    await clock.advance(1000);
    cb.checkSucceeded();
    cb.failure(sentAt);
    assert.equal(cb.state, "closed");
    cb.failure(clock.now());
    assert.equal(cb.state, "open");
  });

  test("re-opened by the task path while checks pass: a cool-down, then half-open lets tasks try; 10 s doubling to the cap", async () => {
    const clock = new FakeClock();
    const cb = new CircuitBreaker(clock, { failureThreshold: 2, coolDownMs: 10_000, maxCoolDownMs: 30_000 });
    cb.failure();
    cb.failure();
    cb.checkSucceeded(); // getbalance works...
    await clock.advance(1);
    cb.failure();
    cb.failure(); // ...but in.php does not: only a task can tell
    assert.equal(cb.state, "open");
    assert.equal(cb.cause, "task_path");
    cb.checkSucceeded();
    assert.equal(cb.state, "open", "a check cannot close a task-path fault");
    assert.equal(cb.retryInMs, 10_000);
    for (const next of [20_000, 30_000, 30_000]) {
      await clock.advance(cb.retryInMs);
      assert.equal(cb.state, "half_open");
      assert.equal(cb.halfOpenSince, clock.now());
      assert.equal(cb.tryAcquire(), true, "half-open lets tasks through");
      cb.failure();
      assert.equal(cb.state, "open");
      assert.equal(cb.retryInMs, next);
    }
    await clock.advance(30_000);
    cb.success();
    assert.equal(cb.state, "closed");
    assert.equal(cb.coolDownMs, 10_000, "a task-path success resets the cool-down");
  });

  test("a task-path circuit half-opens on its own timer: onChange says so without anyone reading the state", async () => {
    const clock = new FakeClock();
    const changes: CircuitState[] = [];
    const cb = new CircuitBreaker(clock, { failureThreshold: 1, coolDownMs: 10_000, onChange: (s) => changes.push(s) });
    cb.failure();
    cb.checkSucceeded();
    await clock.advance(1);
    cb.failure(); // re-opened by the task path while checks pass
    assert.deepEqual(changes, ["open", "closed", "open"]);
    await clock.advance(10_000);
    assert.deepEqual(changes, ["open", "closed", "open", "half_open"], "no read needed");
  });

  test("half-open lets exactly one call through, its trial, until its verdict; a trial never sent is given back", async () => {
    const clock = new FakeClock();
    const cb = new CircuitBreaker(clock, { failureThreshold: 1, coolDownMs: 10_000 });
    cb.failure();
    cb.checkSucceeded();
    await clock.advance(1);
    cb.failure(); // task-path fault: a cool-down, then one trial
    await clock.advance(10_000);
    assert.equal(cb.state, "half_open");
    assert.equal(cb.trialOut, false);
    assert.equal(cb.tryAcquire(), true, "the trial");
    assert.equal(cb.trialOut, true);
    assert.equal(cb.tryAcquire(), false, "nothing else while the trial is out");
    assert.equal(cb.tryAcquire(), false);
    cb.releaseTrial(); // its task ended before it was sent
    assert.equal(cb.tryAcquire(), true, "the next call is the trial");
    cb.failure(clock.now());
    assert.equal(cb.state, "open", "the trial failed: open again, twice as long");
    await clock.advance(20_000);
    assert.equal(cb.state, "half_open");
    assert.equal(cb.tryAcquire(), true, "a new half-open has a new trial");
    assert.equal(cb.tryAcquire(), false);
    cb.success();
    assert.equal(cb.state, "closed");
    assert.ok([1, 2, 3].every(() => cb.tryAcquire()), "closed: every call goes");
  });
});
