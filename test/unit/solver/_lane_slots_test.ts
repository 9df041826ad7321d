import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { LaneSlots, type Room } from "../../../src/solver/_lane_slots.ts";
import type { Task } from "../../../src/tasks/task.ts";
import { FakeClock } from "../../_support/fake_clock.ts";

/** A task stands for itself only (the slots key their probes by it). */
const aTask = () => ({}) as Task;

/** Takes slots for image tasks while the slots say there is room; returns the tasks and their rooms. */
function fill(slots: LaneSlots): Array<[Task, Room]> {
  const out: Array<[Task, Room]> = [];
  for (;;) {
    const room = slots.room("image", false);
    if (room === "busy") return out;
    const task = aTask();
    slots.bulkhead.acquire("image");
    slots.submitting(task, room);
    out.push([task, room]);
  }
}

describe("LaneSlots", () => {
  test("a per-solve account's slots are its fixed cap: no probe, no refusal counted, never full", () => {
    const slots = new LaneSlots(3, undefined, false, { clock: new FakeClock(), random: () => 0.5 });
    assert.equal(slots.adaptive, false);
    assert.deepEqual(fill(slots).map(([, r]) => r), ["take", "take", "take"]);
    assert.equal(slots.limit, 3);
    assert.equal(slots.probeAt, undefined);
    assert.equal(slots.full(true, true), undefined, "never full: no change from not full");
    assert.equal(slots.refusals, 0);
  });

  test("a plan's slots: five at once and a probe; a probe taken says so; a refused probe lowers the limit, paces the next and the plan reads full while work waits (not without money)", async () => {
    const clock = new FakeClock();
    const slots = new LaneSlots(12, undefined, true, { clock, random: () => 0.5 });
    assert.equal(slots.adaptive, true);
    const first = fill(slots);
    assert.deepEqual(first.map(([, r]) => r), ["take", "take", "take", "take", "take", "probe"]);
    assert.equal(slots.taken(first[0]![0]), false, "a take is no probe");
    assert.equal(slots.taken(first[5]![0]), true, "the probe taken: room for more, maybe");
    const [probe, room] = fill(slots)[0]!;
    assert.equal(room, "probe");
    slots.refused(probe);
    slots.bulkhead.release("image"); // requeued: its slot given back
    slots.released(probe);
    assert.equal(slots.refusals, 1);
    assert.equal(slots.limit, 6, "the threads it holds");
    assert.equal(slots.room("image", false), "busy", "paced");
    assert.equal(slots.probeAt, clock.now() + 2000);
    assert.equal(slots.full(true, true), true);
    assert.equal(slots.full(true, true), undefined, "unchanged");
    assert.equal(slots.full(false, true), false, "no work waits");
    assert.equal(slots.full(true, true), true);
    assert.equal(slots.full(true, false), false, "without money the plan is not what is full");
    await clock.advance(2000);
    assert.equal(slots.room("image", false), "probe", "the paced probe");
  });

  test("a plan's probes are paced by how long its tasks held their threads, taken to released (a refused submit held none)", async () => {
    const clock = new FakeClock();
    const slots = new LaneSlots(12, undefined, true, { clock, random: () => 0.5 });
    const first = fill(slots);
    for (const [task] of first) slots.taken(task);
    await clock.advance(30_000);
    for (const [task] of first) {
      slots.bulkhead.release("image");
      slots.released(task);
    }
    const [probe] = fill(slots).at(-1)!;
    slots.refused(probe);
    slots.bulkhead.release("image");
    slots.released(probe);
    assert.equal(slots.probeAt, clock.now() + 15_000, "half of 30 s");
  });

  test("before any task ended, a refusal is paced by the oldest task held", async () => {
    const clock = new FakeClock();
    const slots = new LaneSlots(12, undefined, true, { clock, random: () => 0.5 });
    const first = fill(slots);
    slots.taken(first[0]![0]);
    await clock.advance(12_000);
    const [probe] = first.at(-1)!;
    slots.refused(probe);
    assert.equal(slots.probeAt, clock.now() + 6000);
  });

  test("explicit bulkhead caps apply within the adaptive limit", () => {
    const slots = new LaneSlots(12, { image: 4, token: 8 }, true, { clock: new FakeClock(), random: () => 0.5 });
    const sent = fill(slots);
    assert.equal(sent.length, 4, "image's cap of 4 within the limit");
    assert.equal(slots.room("token", false), "take");
  });

  test("reconfigure (a reload): a limit at the whole plan follows a larger plan, a learnt one stays within a smaller; per-solve drops the limit, its refusals still counted", async () => {
    const clock = new FakeClock();
    const slots = new LaneSlots(4, undefined, true, { clock, random: () => 0.5 });
    const held = fill(slots);
    assert.equal(held.length, 4);
    slots.reconfigure(8, true);
    assert.equal(slots.limit, 8, "the whole new plan");
    assert.equal(slots.bulkhead.threads, 8);
    const more = fill(slots);
    assert.deepEqual(more.map(([, r]) => r), ["probe"], "threads past the old plan are probed for");
    slots.refused(more[0]![0]);
    slots.bulkhead.release("image");
    assert.equal(slots.limit, 4, "learnt: the four it holds");
    slots.reconfigure(3, true);
    assert.equal(slots.limit, 3, "within the smaller plan");
    assert.equal(slots.room("image", false), "busy", "four held past a plan of three: none starts until one ends");
    slots.reconfigure(3, false);
    assert.equal(slots.adaptive, false);
    assert.equal(slots.limit, 3, "a per-solve cap");
    assert.equal(slots.refusals, 1, "a counter never goes back");
    slots.reconfigure(6, true);
    assert.equal(slots.adaptive, true);
    assert.equal(slots.refusals, 1);
  });
});
