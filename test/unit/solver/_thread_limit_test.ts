import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ThreadLimit, type LimitVerdict } from "../../../src/solver/_thread_limit.ts";
import { FakeClock } from "../../_support/fake_clock.ts";

/** A lane's side of the law: it holds `busy` tasks and submits while the limit lets it. */
function lane(plan: number, random = () => 0.5) {
  const clock = new FakeClock();
  const limit = new ThreadLimit(clock, { plan, random });
  let busy = 0;
  const probes: number[] = [];
  return {
    clock,
    limit,
    get busy() {
      return busy;
    },
    set busy(n: number) {
      busy = n;
    },
    /** Submits as many as the limit lets go now; returns their verdicts. */
    fill(): LimitVerdict[] {
      const out: LimitVerdict[] = [];
      for (;;) {
        const v = limit.verdict(busy);
        if (v === "wait") return out;
        if (v === "probe") {
          limit.probeSent();
          probes.push(busy);
        }
        busy++;
        out.push(v);
      }
    },
    /** The upstream takes every submit under way (`n` of them, probes among them). */
    takeAll(verdicts: LimitVerdict[]): void {
      for (const v of verdicts) limit.taken(v === "probe", busy);
    },
    /** The upstream refuses the last submit under way. */
    refuseLast(v: LimitVerdict): void {
      busy--;
      limit.refused(v === "probe", busy);
    },
  };
}

/** Grows a lane alone on its plan until nothing more may go; returns the verdicts of each round trip. */
function growAlone(l: ReturnType<typeof lane>): LimitVerdict[][] {
  const rounds: LimitVerdict[][] = [];
  for (let i = 0; i < 50; i++) {
    const sent = l.fill();
    if (sent.length === 0) break;
    rounds.push(sent);
    l.takeAll(sent);
  }
  return rounds;
}

describe("ThreadLimit", () => {
  test("a lane alone starts with a quarter of its plan (five threads at least) and grows a quarter again each round trip to the whole plan, never past it, with no refusal", () => {
    const l = lane(12);
    const rounds = growAlone(l);
    assert.deepEqual(rounds[0], ["take", "take", "take", "take", "take", "probe"], "five at once, and a quarter as many probes");
    assert.deepEqual(rounds.map((r) => r.length), [6, 1, 1, 2, 2], "12 in five round trips");
    const big = lane(100);
    assert.deepEqual(growAlone(big).map((r) => r.length), [31, 7, 9, 11, 14, 18, 10], "25 at once, then a quarter again each round trip");
    assert.equal(l.busy, 12);
    assert.equal(l.limit.limit, 12);
    assert.equal(l.limit.verdict(12), "wait", "never past the plan");
    assert.equal(l.limit.refusals, 0);
    assert.equal(l.limit.verdict(11), "take", "a thread freed is taken again at once");
  });

  test("a plan of five or less (the default --threads) goes whole at once", () => {
    assert.deepEqual(lane(1).fill(), ["take"]);
    assert.deepEqual(lane(5).fill(), ["take", "take", "take", "take", "take"]);
  });

  test("a refusal brings the limit to the threads the lane holds, never below, and the next probe waits a pace", async () => {
    const l = lane(12);
    growAlone(l);
    l.busy = 8; // four of its tasks ended; four replacements go
    const sent = l.fill();
    assert.deepEqual(sent, ["take", "take", "take", "take"]);
    l.refuseLast("take"); // a neighbour took that thread
    assert.equal(l.limit.limit, 11, "holds 11 (the other three may still be taken)");
    assert.equal(l.limit.verdict(11), "wait", "paced");
    await l.clock.advance(1999);
    assert.equal(l.limit.verdict(11), "wait");
    await l.clock.advance(1);
    assert.equal(l.limit.verdict(11), "probe", "2 s later (jitter at its middle)");
  });

  test("probes refused in a row double the pace to 4 s; a lane past half the plan gives one thread back per refused probe (an eighth of the limit)", async () => {
    const l = lane(12);
    growAlone(l);
    l.busy = 11;
    l.fill();
    l.refuseLast("take");
    assert.equal(l.limit.limit, 11);
    await l.clock.advance(2000);
    const paces: number[] = [];
    const limits: number[] = [];
    for (let i = 0; i < 4; i++) {
      const at = l.clock.now();
      for (let waited = 0; l.limit.verdict(l.busy) === "wait"; waited += 100) await l.clock.advance(100);
      paces.push(l.clock.now() - at);
      const [v] = l.fill();
      assert.equal(v, "probe");
      l.refuseLast("probe");
      limits.push(l.limit.limit);
      l.busy = Math.min(l.busy, l.limit.limit); // its tasks end and are not replaced past the limit
    }
    assert.deepEqual(paces, [0, 2000, 4000, 4000]);
    assert.deepEqual(limits, [10, 9, 8, 7], "one back each time, the limit never held again at once");
  });

  test("a lane at half the plan or below keeps what it holds when its probe is refused", async () => {
    const l = lane(12);
    l.busy = 5;
    l.limit.refused(false, 5);
    assert.equal(l.limit.limit, 5);
    await l.clock.advance(2000);
    const [v] = l.fill();
    assert.equal(v, "probe");
    l.refuseLast("probe");
    assert.equal(l.limit.limit, 5);
    assert.equal(l.limit.verdict(4), "take", "its own threads go on");
  });

  test("a probe taken adds a thread; after a refusal the next waits a third of the pace, then they go back to back", async () => {
    const l = lane(12);
    growAlone(l);
    l.busy = 8;
    l.limit.refused(false, 8);
    await l.clock.advance(2000);
    let [v] = l.fill();
    assert.equal(v, "probe");
    l.takeAll(["probe"]);
    assert.equal(l.limit.limit, 9);
    assert.equal(l.limit.verdict(9), "wait");
    await l.clock.advance(667);
    [v] = l.fill();
    assert.equal(v, "probe", "a third of 2 s later");
    l.takeAll(["probe"]);
    assert.equal(l.limit.verdict(10), "probe", "two taken in a row: room; at once");
  });

  test("the plan is full while the lane holds all it may: the whole plan, or its limit after a refusal", () => {
    const l = lane(4);
    assert.equal(l.limit.fullAt(3), false);
    assert.equal(l.limit.fullAt(4), true);
    l.limit.refused(false, 2);
    assert.equal(l.limit.fullAt(2), true);
    assert.equal(l.limit.fullAt(1), false);
  });

  test("after a refusal with nothing held, nothing goes until the pace: the limit stays 1, a floor, not a licence", () => {
    const l = lane(12);
    l.limit.refused(false, 0);
    assert.equal(l.limit.limit, 1);
    assert.equal(l.limit.verdict(0), "wait");
    assert.equal(l.limit.wakeAt, l.clock.now() + 2000);
  });

  test("probes never pile up: one under way at a time outside slow start; one that ended otherwise frees the next", async () => {
    const l = lane(12);
    l.limit.refused(false, 3);
    await l.clock.advance(2000);
    l.busy = 3;
    assert.deepEqual(l.fill(), ["probe"]);
    assert.equal(l.limit.verdict(4), "wait");
    l.limit.probeEnded(); // its task expired, say
    l.busy = 3;
    assert.equal(l.limit.verdict(3), "probe");
  });

  test("a lane holding the whole plan with work waiting, once it heard a refusal, lets a thread go for 6 s now and then; taken back: twice as long until the next", async () => {
    const l = lane(4);
    growAlone(l);
    assert.equal(l.busy, 4);
    l.limit.refused(false, 4); // a neighbour appeared once
    await l.clock.advance(4000);
    l.busy = 3;
    assert.equal(l.limit.verdict(3), "take", "the gap is counted from the first time it holds the plan with work waiting");
    await l.clock.advance(5000);
    assert.equal(l.limit.verdict(3), "wait", "5 s later (jitter at its middle): a thread let go");
    assert.equal(l.limit.limit, 3);
    await l.clock.advance(5999);
    assert.equal(l.limit.verdict(3), "wait", "held free past a neighbour's slowest pace");
    await l.clock.advance(1);
    assert.equal(l.limit.verdict(3), "probe");
    l.limit.probeSent();
    l.limit.taken(true, 4);
    assert.equal(l.limit.limit, 4);
    l.busy = 3;
    assert.equal(l.limit.verdict(3), "take");
    await l.clock.advance(9999);
    assert.equal(l.limit.verdict(3), "take", "the next after twice as long");
    await l.clock.advance(1);
    assert.equal(l.limit.verdict(3), "wait");
  });

  test("a thread let go that a neighbour took: the re-probe is refused, the lane gives one more back and lets go again soon", async () => {
    const l = lane(8);
    growAlone(l);
    l.limit.refused(false, 8);
    await l.clock.advance(4000);
    l.busy = 7;
    l.limit.verdict(7);
    await l.clock.advance(5000);
    assert.equal(l.limit.verdict(7), "wait");
    await l.clock.advance(6000);
    const [v] = l.fill();
    assert.equal(v, "probe");
    l.refuseLast("probe");
    assert.equal(l.limit.limit, 6, "7 held, one more back");
  });

  test("a lane alone on the account (no refusal heard), or a plan under four threads, never lets a thread go", async () => {
    const alone = lane(12);
    growAlone(alone);
    const small = lane(3);
    growAlone(small);
    small.limit.refused(false, 3);
    await small.clock.advance(4000);
    for (let i = 0; i < 60; i++) {
      await alone.clock.advance(1000);
      await small.clock.advance(1000);
      assert.equal(alone.limit.verdict(11), "take");
      assert.equal(small.limit.verdict(2), "take");
    }
  });

  test("the pace follows how long the lane's tasks hold a thread: 2 s while they hold 4 s or less, half the hold past that, doubling to the whole hold", async () => {
    /** The pauses before three probes refused in a row, after a first refusal, with tasks held `holdMs` each. */
    async function paces(holdMs: number): Promise<number[]> {
      const l = lane(12);
      growAlone(l);
      for (let i = 0; i < 20; i++) l.limit.released(holdMs);
      l.busy = 4;
      l.limit.refused(false, 4);
      const out: number[] = [];
      for (let i = 0; i < 3; i++) {
        const at = l.clock.now();
        const wake = l.limit.wakeAt;
        assert.ok(wake !== undefined);
        await l.clock.advance(wake - at - 1);
        assert.equal(l.limit.verdict(4), "wait");
        await l.clock.advance(1);
        const [v] = l.fill();
        assert.equal(v, "probe");
        l.refuseLast("probe");
        out.push(l.clock.now() - at);
      }
      return out;
    }
    assert.deepEqual(await paces(2200), [2000, 2000, 4000], "2 s solves (and their polls): as before");
    assert.deepEqual(await paces(4000), [2000, 2000, 4000], "4 s: still the base pace");
    assert.deepEqual(await paces(10_000), [5000, 5000, 10_000], "10 s: 5 s doubling to 10 s");
    assert.deepEqual(await paces(30_000), [15_000, 15_000, 30_000], "30 s: 15 s doubling to 30 s");
    assert.deepEqual(await paces(120_000), [30_000, 30_000, 60_000], "capped: 30 s doubling to 60 s");
  });

  test("the hold time is an average that follows what the lane's tasks do now (an eighth each); before any ended, the oldest held sets the pace", () => {
    const l = lane(12);
    assert.equal(l.limit.holdMs, undefined);
    assert.equal(l.limit.paceMs, 2000);
    l.limit.refused(false, 4, 20_000); // its oldest task has held its thread 20 s, none ended yet
    assert.equal(l.limit.wakeAt, l.clock.now() + 10_000);
    l.limit.released(30_000);
    assert.equal(l.limit.holdMs, 30_000);
    assert.equal(l.limit.paceMs, 15_000);
    l.limit.released(2000);
    assert.equal(l.limit.holdMs, 26_500, "one short task moves it an eighth of the way");
    for (let i = 0; i < 40; i++) l.limit.released(2000);
    assert.equal(l.limit.paceMs, 2000, "short solves again: the base pace");
    l.limit.refused(false, 4, 600_000);
    assert.equal(l.limit.wakeAt, l.clock.now() + 2000, "once tasks ended, their average rules, not one old task");
  });

  test("a thread let go stays free past the slowest pace of neighbours whose tasks hold threads as long: 45 s at 30 s holds", async () => {
    const l = lane(4);
    growAlone(l);
    for (let i = 0; i < 20; i++) l.limit.released(30_000);
    l.limit.refused(false, 4);
    await l.clock.advance(60_000);
    l.busy = 3;
    assert.equal(l.limit.verdict(3), "take");
    await l.clock.advance(5000);
    assert.equal(l.limit.verdict(3), "wait", "a thread let go");
    await l.clock.advance(44_999);
    assert.equal(l.limit.verdict(3), "wait", "a neighbour's slowest pace is 30 s, jittered to 45 s");
    await l.clock.advance(1);
    assert.equal(l.limit.verdict(3), "probe");
  });

  test("money back after refusals read as 'no money': slow start again, at once", () => {
    const l = lane(12);
    l.limit.refused(false, 0);
    l.limit.fundsBack();
    assert.deepEqual(l.fill(), ["probe"]);
  });
});
