import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { formatIssue } from "../../src/health/readiness_issue.ts";
import { SUBMIT_UNCERTAIN } from "../../src/solver/pool.ts";
import type { Task } from "../../src/tasks/task.ts";
import type { TaskParams } from "../../src/tasks/task_catalogue.ts";
import { advance, eventually, startHarness } from "../_support/harness.ts";
import { pngOfSize } from "../_support/images.ts";

const IMAGE: TaskParams = { type: "image", image: pngOfSize(150, 2).toString("base64") };
const V2: TaskParams = { type: "recaptcha_v2", sitekey: "6Le-pool-sitekey", pageurl: "https://example.com/" };
const V3: TaskParams = { type: "recaptcha_v3", sitekey: "6Le-pool-sitekey", pageurl: "https://example.com/", action: "login", min_score: 0.5 };
const TURNSTILE: TaskParams = { type: "turnstile", sitekey: "0x4AAAAAAApool", pageurl: "https://example.com/" };

const ended = (t: Task) => t.status === "solved" || t.status === "failed";

describe("SolverPool against the simulator", () => {
  test("solves each task type end to end with one submit and the fewest polls the schedule allows", async () => {
    const h = await startHarness();
    try {
      const tasks = [IMAGE, V2, V3, TURNSTILE].map((p) => h.worker.pool.enqueue(p.type, p));
      await eventually(() => tasks.every((t) => t.status === "submitted"), "submitted");
      await advance(h.clock, 5000);
      assert.equal(tasks[0]!.status, "solved", "image: first poll at 5s, solved in 4s");
      assert.equal(tasks[1]!.status, "submitted");
      await advance(h.clock, 10_000);
      await eventually(() => tasks.every(ended), "all ended");
      assert.deepEqual(tasks.map((t) => t.status), ["solved", "solved", "solved", "solved"]);
      assert.ok(tasks.every((t) => t.solution && t.submissions === 1 && t.polls === 1));
      const counts = h.sim.counts();
      assert.equal(counts.submitted, 4);
      assert.equal(counts.requests["res.php:get"], 4);
      const snap = h.worker.health.snapshot();
      assert.equal(snap.solved, 4);
      assert.equal(snap.inFlight, 0);
    } finally {
      await h.close();
    }
  });

  test("polls every --poll-interval until ready, and fails a task at --task-timeout", async () => {
    const h = await startHarness({ flags: { "task-timeout": "30s" }, sim: { solveTimeMs: { image: 12_000, token: 60_000 } } });
    try {
      const image = h.worker.pool.enqueue("image", IMAGE);
      const token = h.worker.pool.enqueue("turnstile", TURNSTILE);
      await advance(h.clock, 15_000);
      assert.equal(image.status, "solved");
      assert.equal(image.polls, 3, "5s, 10s, 15s");
      await advance(h.clock, 15_500);
      await eventually(() => ended(token), "timeout");
      assert.equal(token.status, "failed");
      assert.equal(token.error?.code, "timeout");
      assert.equal(h.worker.pool.inFlight, 0, "the slot is given back");
      assert.equal(h.worker.health.snapshot().failed, 1);
    } finally {
      await h.close();
    }
  });

  test("back-off codes pause submissions and keep tasks queued, then finish them; nothing is submitted twice", async () => {
    const h = await startHarness();
    try {
      h.sim.control.setFault("in.php", { error: "ERROR_NO_SLOT_AVAILABLE" });
      const tasks = [1, 2, 3].map(() => h.worker.pool.enqueue("image", IMAGE));
      // The three go out together (5 threads); every answer says back off, so nothing more is sent.
      await eventually(() => h.sim.counts().requests["in.php"] === 3 && h.worker.pool.inFlight === 0, "first refusals");
      await advance(h.clock, 400);
      assert.equal(h.sim.counts().requests["in.php"], 3, "paused");
      assert.ok(tasks.every((t) => t.status === "queued"));
      assert.equal(h.worker.pool.queueDepth, 3);
      h.sim.control.clearFaults();
      await advance(h.clock, 3000);
      await eventually(() => tasks.every((t) => t.status === "submitted"), "resumed");
      await advance(h.clock, 5000);
      await eventually(() => tasks.every(ended), "solved");
      assert.ok(tasks.every((t) => t.status === "solved"));
      assert.equal(h.sim.counts().submitted, 3);
    } finally {
      await h.close();
    }
  });

  test("a fatal account code stops submissions, marks upstream_auth, and resumes when the key works again", async () => {
    const h = await startHarness();
    try {
      h.sim.control.setFault("all", { error: "ERROR_WRONG_USER_KEY" });
      const task = h.worker.pool.enqueue("image", IMAGE);
      await eventually(() => h.worker.health.snapshot().upstreamAuth === "ERROR_WRONG_USER_KEY", "auth");
      assert.deepEqual(h.worker.view.evaluate().issues.map(formatIssue), ["upstream_auth=ERROR_WRONG_USER_KEY"]);
      const before = h.sim.counts().requests["in.php"]!;
      await advance(h.clock, 2000);
      assert.equal(h.sim.counts().requests["in.php"], before, "no submissions while the key is refused");
      assert.equal(task.status, "queued");
      h.sim.control.clearFaults();
      await advance(h.clock, 10_000);
      await eventually(() => task.status !== "queued", "resumed");
      assert.equal(h.worker.health.snapshot().upstreamAuth, undefined);
      await advance(h.clock, 5000);
      await eventually(() => ended(task), "solved");
      assert.equal(task.status, "solved");
    } finally {
      await h.close();
    }
  });

  test("repeated transport failures open the circuit; it half-opens with one trial and closes on success", async () => {
    const h = await startHarness();
    try {
      h.sim.control.setFault("all", { status: 503 }); // refused before processing: safe to resubmit
      const tasks = [1, 2].map(() => h.worker.pool.enqueue("image", IMAGE));
      for (let i = 0; i < 40 && h.worker.pool.circuit.state !== "open"; i++) await advance(h.clock, 1000);
      assert.equal(h.worker.pool.circuit.state, "open");
      assert.ok(h.worker.view.evaluate().issues.some((i) => i.kind === "circuit_open"));
      const during = h.sim.counts().requests["in.php"]!;
      await advance(h.clock, 2000);
      assert.equal(h.sim.counts().requests["in.php"], during, "short-circuited while open");
      h.sim.control.clearFaults();
      await advance(h.clock, 65_000);
      await eventually(() => tasks.every(ended), "recovered");
      assert.equal(h.worker.pool.circuit.state, "closed");
      assert.ok(tasks.every((t) => t.status === "solved"));
      assert.equal(h.sim.counts().submitted, 2, "each task submitted once");
    } finally {
      await h.close();
    }
  });

  test("a submit that may have reached the upstream is not repeated: the task fails SUBMIT_UNCERTAIN", async () => {
    const h = await startHarness();
    try {
      h.sim.control.setFault("in.php", { drop: true });
      const task = h.worker.pool.enqueue("image", IMAGE);
      await eventually(() => ended(task), "failed");
      assert.equal(task.error?.code, SUBMIT_UNCERTAIN);
      assert.equal(h.sim.counts().requests["in.php"], 1);
    } finally {
      await h.close();
    }
  });

  test("polls survive trouble: a poll failure is retried at the next interval", async () => {
    const h = await startHarness();
    try {
      const task = h.worker.pool.enqueue("image", IMAGE);
      await eventually(() => task.status === "submitted", "submitted");
      h.sim.control.setFault("res.php:get", { status: 502 });
      await advance(h.clock, 5000);
      assert.equal(task.status, "submitted");
      h.sim.control.clearFaults();
      await advance(h.clock, 5000);
      await eventually(() => ended(task), "solved");
      assert.equal(task.status, "solved");
      assert.equal(task.submissions, 1);
    } finally {
      await h.close();
    }
  });

  test("ERROR_CAPTCHA_UNSOLVABLE is retried once, then fails only that task", async () => {
    const h = await startHarness();
    try {
      h.sim.control.setUnsolvableRatio(1);
      const task = h.worker.pool.enqueue("image", IMAGE);
      await advance(h.clock, 5000);
      await eventually(() => task.submissions === 2, "resubmitted");
      await advance(h.clock, 5000);
      await eventually(() => ended(task), "failed");
      assert.equal(task.error?.code, "ERROR_CAPTCHA_UNSOLVABLE");
      assert.equal(h.sim.counts().submitted, 2);
    } finally {
      await h.close();
    }
  });

  test("client mistakes fail the task without counting against health", async () => {
    const h = await startHarness();
    try {
      const task = h.worker.pool.enqueue("recaptcha_v2", { type: "recaptcha_v2", sitekey: "6Le-pool-sitekey", pageurl: "ftp://nope" });
      await eventually(() => ended(task), "failed");
      assert.equal(task.error?.code, "ERROR_PAGEURL");
      const s = h.worker.health.snapshot();
      assert.deepEqual([s.failed, s.clientFailed, s.consecutiveFailures], [0, 1, 0]);
    } finally {
      await h.close();
    }
  });

  test("bulkheads: explicit shares keep an image slot free while tokens flood", async () => {
    const h = await startHarness({ flags: { threads: "3", bulkhead: "image=1,token=2" } });
    try {
      const tokens = Array.from({ length: 6 }, () => h.worker.pool.enqueue("recaptcha_v2", V2));
      await eventually(() => h.worker.pool.inFlightOf("token") === 2, "tokens in flight");
      const image = h.worker.pool.enqueue("image", IMAGE);
      await eventually(() => image.status === "submitted", "image submitted at once");
      assert.equal(h.worker.pool.inFlightOf("token"), 2);
      assert.equal(tokens.filter((t) => t.status === "queued").length, 4);
    } finally {
      await h.close();
    }
  });

  test("bulkheads: the fair default lends idle capacity and returns a freed slot to the starved kind", async () => {
    const h = await startHarness({ flags: { threads: "2" } });
    try {
      const tokens = Array.from({ length: 4 }, () => h.worker.pool.enqueue("turnstile", TURNSTILE));
      await eventually(() => h.worker.pool.inFlightOf("token") === 2, "tokens borrowed the idle image slot");
      const image = h.worker.pool.enqueue("image", IMAGE);
      await advance(h.clock, 15_000);
      await eventually(() => image.status !== "queued", "image got the first freed slot");
      assert.equal(h.worker.pool.inFlightOf("image"), 1);
      assert.ok(tokens.filter((t) => t.status === "solved").length >= 2);
    } finally {
      await h.close();
    }
  });

  test("a full queue refuses with ERR_QUEUE_FULL", async () => {
    const h = await startHarness({ flags: { threads: "1", "queue-max": "2" } });
    try {
      h.sim.control.setFault("in.php", { hang: true });
      h.worker.pool.enqueue("image", IMAGE);
      await eventually(() => h.worker.pool.inFlight === 1, "one in flight");
      h.worker.pool.enqueue("image", IMAGE);
      h.worker.pool.enqueue("image", IMAGE);
      assert.throws(() => h.worker.pool.enqueue("image", IMAGE), (e: { code?: string }) => e.code === "ERR_QUEUE_FULL");
      h.sim.control.clearFaults();
    } finally {
      await h.close();
    }
  });
});
