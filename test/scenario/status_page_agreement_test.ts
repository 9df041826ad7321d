/**
 * The status page against what really happened: after 75 minutes of a scripted fault sequence on
 * the fake clock (the ring wrapped), its solves and failures per minute match the tasks' own end
 * times read back from the task API, its tasks total matches /metrics, its time outside ready
 * matches the intervals /health/history records, and its changes list is /health/history's newest.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { advance, withHarness } from "../_support/harness.ts";
import { PNG_B64 } from "../_support/images.ts";

const MINUTE = 60_000;

/** Seconds in a duration the page writes ("1h2m", "36m14s", "59s", "under 1s"). */
function seconds(text: string): number {
  if (text === "under 1s") return 0.5;
  const part = (unit: string) => Number(new RegExp(`(\\d+)${unit}`).exec(text)?.[1] ?? 0);
  return part("h") * 3600 + part("m") * 60 + part("s");
}

test("after 75 minutes of faults the page agrees with the tasks, /metrics and /health/history", () =>
  withHarness(async (h) => {
    const ids: string[] = [];
    for (let m = 0; m < 75; m++) {
      const phase = m % 10;
      if (phase === 2) h.sim.control.setBalance(0.5);
      if (phase === 4) h.sim.control.setBalance(10);
      if (phase === 6) h.sim.control.setFault("all", { status: 503 });
      if (phase === 7) h.sim.control.clearFaults();
      h.sim.control.setUnsolvableRatio(phase === 8 ? 1 : 0);
      for (let i = 0; i < 2; i++) {
        const r = await fetch(h.base + "/v1/tasks", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ type: "image", image: PNG_B64 }) });
        if (r.status === 202) ids.push(((await r.json()) as { id: string }).id);
        else await r.arrayBuffer();
      }
      await advance(h.clock, 17_000 + (m % 3) * 1000, 1000); // off the minute boundaries
      await advance(h.clock, MINUTE - 17_000 - (m % 3) * 1000, 1000);
    }
    await advance(h.clock, 23_000, 1000);
    const now = h.clock.now();
    const page = await (await fetch(h.base + "/")).text();
    const metrics = await (await fetch(h.base + "/metrics")).text();
    const history = (await (await fetch(h.base + "/health/history")).json()) as { changes: { at: string; from: string; to: string; issues: string[] }[] };
    const windowStart = Math.floor(now / MINUTE) * MINUTE - 59 * MINUTE;

    // Solves and failures per minute, against each task's own end time.
    const expected = new Map<string, { solved: number; failed: number }>();
    for (const id of ids) {
      const r = await fetch(`${h.base}/v1/tasks/${id}`);
      if (r.status === 404) continue; // ended over an hour ago
      const t = (await r.json()) as { status: string; solved_at?: string; failed_at?: string };
      const end = Date.parse(t.solved_at ?? t.failed_at ?? "");
      if (!(end >= windowStart)) continue;
      const key = new Date(end).toISOString().slice(11, 16);
      const e = expected.get(key) ?? { solved: 0, failed: 0 };
      e[t.status === "solved" ? "solved" : "failed"]++;
      expected.set(key, e);
    }
    const drawn = new Map([...page.matchAll(/<title>(\d\d:\d\d) UTC: (\d+) solved, (\d+) failed<\/title>/g)].map((m) => [m[1]!, { solved: Number(m[2]), failed: Number(m[3]) }]));
    assert.ok(expected.size > 30, `tasks ended in most minutes (${expected.size})`);
    assert.ok([...expected.values()].some((e) => e.failed > 0), "some failed");
    assert.deepEqual(drawn, expected, "the bars are the tasks' end times, minute by minute");

    // The tasks total, against /metrics.
    const counted = (outcome: string) => metrics.split("\n").filter((l) => l.startsWith("captcha_worker_tasks_total{") && l.includes(`outcome="${outcome}"`)).reduce((n, l) => n + Number(l.split(" ").at(-1)), 0);
    const solved = counted("solved");
    const failed = counted("failed") + counted("timeout") + counted("shutdown");
    assert.match(page, new RegExp(`<td>tasks since start</td><td>${solved} solved, ${failed} failed`));

    // Time outside ready in the hour, against the changes /health/history recorded.
    const changes = history.changes.toReversed();
    assert.ok(changes.length < 100 && changes[0]!.from === "starting", "the history holds every change since the start");
    let outsideMs = 0;
    for (const [i, c] of changes.entries()) {
      if (c.to === "ready") continue;
      const from = Math.max(Date.parse(c.at), windowStart);
      const to = i + 1 < changes.length ? Date.parse(changes[i + 1]!.at) : now;
      if (to > from) outsideMs += to - from;
    }
    const shown = /outside ready (\S+(?: 1s)?) of the/.exec(page)![1]!;
    assert.ok(outsideMs > 10 * MINUTE, `faults took the worker out for a while (${outsideMs} ms)`);
    assert.ok(Math.abs(seconds(shown) - outsideMs / 1000) <= 1, `the page says ${shown} outside ready; the history says ${outsideMs / 1000}s`);

    // Every change into not_ready in the window lies in a listed stretch; the changes list is the history's newest 20.
    const stretches = [...page.matchAll(/<li class="(?:not_ready|probation|draining|starting)">(\d\d:\d\d)–(now|\d\d:\d\d) UTC/g)].map((m) => [m[1]!, m[2] === "now" ? "99:99" : m[2]!] as const);
    for (const c of changes.filter((c) => c.to === "not_ready" && Date.parse(c.at) >= windowStart)) {
      const hhmm = c.at.slice(11, 16);
      assert.ok(stretches.some(([a, b]) => a <= hhmm && hhmm <= b), `the change at ${c.at} is in a stretch: ${JSON.stringify(stretches)}`);
    }
    const listed = [...page.matchAll(/<li><time datetime="([^"]+)">[^<]*<\/time> (\w+) → <b>(\w+)<\/b>(?:: ((?:<code>[^<]*<\/code>(?:, )?)+))?<\/li>/g)].map((m) => ({
      at: m[1]!, from: m[2]!, to: m[3]!, issues: [...(m[4] ?? "").matchAll(/<code>([^<]*)<\/code>/g)].map((x) => x[1]!.replaceAll("&#36;", "$")),
    }));
    assert.deepEqual(listed, history.changes.slice(0, 20));
    assert.match(page, new RegExp(`Readiness changes \\(last 20 of ${history.changes.length} since the start`));
  }));
