import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { MINUTE_MS } from "../../../src/status_report/history_rings.ts";
import { medianOfBuckets, ProviderHistory, SOLVE_EDGES_S } from "../../../src/status_report/provider_history.ts";
import { StatusHistory } from "../../../src/status_report/status_history.ts";
import { FakeClock } from "../../_support/fake_clock.ts";

const T0 = Date.UTC(2026, 0, 1, 6, 0, 0);
const solved = (provider: string, submittedAt: number, endedAt: number) => ({ status: "solved", provider, submittedAt, endedAt });

describe("provider history", () => {
  test("medianOfBuckets interpolates inside the bucket holding the median, as histogram_quantile does; none without a solve", () => {
    const buckets = new Array<number>(SOLVE_EDGES_S.length + 1).fill(0);
    assert.equal(medianOfBuckets(buckets), undefined);
    buckets[SOLVE_EDGES_S.indexOf(10)] = 4; // four solves in (8 s, 10 s]
    assert.equal(medianOfBuckets(buckets), 9);
    buckets[0] = 4; // four more in (0, 0.5 s]: the median is the top of the first bucket
    assert.equal(medianOfBuckets(buckets), 0.5);
    const slow = new Array<number>(SOLVE_EDGES_S.length + 1).fill(0);
    slow[SOLVE_EDGES_S.length] = 3; // slower than the last edge: the last edge
    assert.equal(medianOfBuckets(slow), 600);
  });

  test("ProviderHistory counts each provider's solves and failures apart, per minute over the hour, with its median solve", () => {
    const h = new ProviderHistory(["plan", "paid"]);
    for (let i = 0; i < 6; i++) h.taskEnded(solved("plan", T0, T0 + 9_000), T0 + 9_000);
    h.taskEnded(solved("paid", T0, T0 + 3_500), T0 + 3_500);
    h.taskEnded({ status: "failed", provider: "paid" }, T0 + 4_000);
    h.taskEnded({ status: "failed", provider: undefined }, T0 + 4_000); // never left the queue: no provider's
    h.taskEnded({ status: "solved", provider: "gone" }, T0 + 4_000); // a name it does not keep
    const [plan, paid] = h.view(T0 + 2 * MINUTE_MS, T0);
    assert.deepEqual([plan!.name, plan!.solved, plan!.failed, plan!.minutes, plan!.solvedPerMin, plan!.p50S], ["plan", 6, 0, 2, 3, 9]);
    assert.deepEqual([paid!.name, paid!.solved, paid!.failed, paid!.failedPerMin, paid!.p50S], ["paid", 1, 1, 0.5, 3.5]);
  });

  test("ProviderHistory's rates are per minute since the start, never above the count in a first minute", () => {
    const h = new ProviderHistory(["plan"]);
    for (let i = 0; i < 10; i++) h.taskEnded(solved("plan", T0, T0 + 1000), T0 + 1000);
    const [plan] = h.view(T0 + 20_000, T0);
    assert.equal(plan!.minutes, 1);
    assert.equal(plan!.solvedPerMin, 10);
  });

  test("ProviderHistory charges the time between samples to the state each provider was in; removed time is neither up nor down", () => {
    const h = new ProviderHistory(["plan", "paid"]);
    h.sample([{ name: "plan", state: "up" }, { name: "paid", state: "down" }], T0);
    h.sample([{ name: "plan", state: "down" }, { name: "paid", state: "removed" }], T0 + 90_000);
    const [plan, paid] = h.view(T0 + 120_000, T0);
    assert.deepEqual([plan!.msDown, plan!.msKnown], [30_000, 120_000]);
    assert.deepEqual([paid!.msDown, paid!.msKnown], [90_000, 90_000]);
  });

  test("ProviderHistory keeps a thread plan's limit over the hour: its time-weighted mean, its range and the plan; none for a per-solve provider", () => {
    const h = new ProviderHistory(["plan", "paid"]);
    const at = (limit: number) => [{ name: "plan", state: "up" as const, load: { limit, plan: 12 } }, { name: "paid", state: "up" as const, load: { limit: 100, plan: undefined } }];
    h.sample(at(12), T0);
    h.sample(at(4), T0 + 30_000); // 30 s at 12
    h.sample(at(8), T0 + 60_000); // 30 s at 4, then 60 s at 8 to the view
    const [plan, paid] = h.view(T0 + 120_000, T0);
    assert.deepEqual(plan!.limit, { mean: 8, min: 4, max: 12, plan: 12 });
    assert.equal(paid!.limit, undefined);
  });

  test("ProviderHistory forgets what is older than the hour, and its memory is the ring's whatever the traffic", () => {
    const h = new ProviderHistory(["plan"]);
    h.taskEnded(solved("plan", T0, T0 + 1000), T0 + 1000);
    h.sample([{ name: "plan", state: "down" }], T0);
    const later = T0 + 61 * MINUTE_MS;
    for (let i = 0; i < 10_000; i++) h.taskEnded(solved("plan", later, later + 20_000), later + 20_000);
    const [plan] = h.view(later + 30_000, T0);
    assert.equal(plan!.solved, 10_000);
    assert.equal(plan!.p50S, 20 - 5 / 2); // all in (15 s, 20 s]: interpolated to the middle
    // The ring's hour: 59 whole minutes and this one's first 30 s.
    assert.equal(plan!.msDown, 59.5 * MINUTE_MS, "only the hour's down time");
    assert.equal(plan!.minutes, 59.5);
  });

  test("StatusHistory keeps its providers' hours: task ends with their provider, states sampled with the gauges", async () => {
    const clock = new FakeClock(T0);
    let state: "up" | "down" = "up";
    const h = new StatusHistory({ clock, providers: ["plan", "paid"], providerStates: () => [{ name: "plan", state }, { name: "paid", state: "up" }] });
    h.start(() => ({ state: "ready", issues: [], snapshot: { queueDepth: 0, inFlight: 0 } as never, balanceUsd: 5 }));
    h.taskEnded({ status: "solved", provider: "paid", submittedAt: T0, endedAt: T0 + 2000 });
    state = "down";
    await clock.advance(5000); // the next sample sees it down
    await clock.advance(60_000);
    h.stop();
    const [plan, paid] = h.view().providers!;
    assert.equal(plan!.msDown, 60_000);
    assert.equal(paid!.solved, 1);
    assert.equal(paid!.p50S, 1.5);
    assert.equal(h.view().totals.solved, 1, "the worker's totals count it too");
  });
});
