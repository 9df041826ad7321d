import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { silentLogger } from "../../../src/base/log.ts";
import { DEMO_BALANCE_TTL_MS, DEMO_BALANCE_USD, DEMO_REMINDER_MS, demoConfig, startDemo, type Demo } from "../../../src/app/demo.ts";
import { CLIENT_PACKAGE } from "../../../src/app/demo_banner.ts";
import { parseConfig } from "../../../src/config/parse_config.ts";
import type { Task } from "../../../src/tasks/task.ts";
import { FakeClock } from "../../_support/fake_clock.ts";

const ADDRESS = { host: "127.0.0.1", port: 8080 };

describe("demoConfig", () => {
  const resolved = (flags: Record<string, string | boolean>) => parseConfig({ demo: true, ...flags }, {});

  test("a text log on a terminal unless --log-format is given; JSON when stderr is no terminal, and outside the demo", () => {
    const tty = { stderrIsTTY: true };
    const d = resolved({});
    assert.equal(demoConfig(d.config, d.sources, tty).logFormat, "text");
    assert.equal(demoConfig(d.config, d.sources, { stderrIsTTY: false }).logFormat, "json");
    const given = resolved({ "log-format": "json" });
    assert.equal(demoConfig(given.config, given.sources, tty).logFormat, "json");
    const fromEnv = parseConfig({ demo: true }, { CAPTCHA_WORKER_LOG_FORMAT: "json" });
    assert.equal(demoConfig(fromEnv.config, fromEnv.sources, tty).logFormat, "json", "a variable is a choice too");
    const worker = parseConfig({}, {});
    assert.equal(demoConfig(worker.config, worker.sources, tty), worker.config, "not the demo: untouched");
  });

  test("a balance TTL of 5 s unless --balance-ttl is given, so a fault on an idle demo shows within seconds", () => {
    const d = resolved({});
    assert.equal(demoConfig(d.config, d.sources, { stderrIsTTY: false }).balanceTtlMs, DEMO_BALANCE_TTL_MS);
    assert.equal(DEMO_BALANCE_TTL_MS, 5000);
    const given = resolved({ "balance-ttl": "30s" });
    assert.equal(demoConfig(given.config, given.sources, { stderrIsTTY: false }).balanceTtlMs, 30_000);
  });
});

describe("the demo's banner and reminders", () => {
  const clock = new FakeClock();
  let demo: Demo;
  before(async () => {
    const { config } = parseConfig({ demo: true }, {});
    demo = await startDemo({ ...config, balanceTtlMs: DEMO_BALANCE_TTL_MS }, clock, silentLogger);
  });
  after(() => demo.close());

  test("every command pastes as is: no placeholder, the gateway's id captured, the client's install named, the balance restored", () => {
    const banner = demo.banner(ADDRESS);
    assert.doesNotMatch(banner, /<[^>]*>/, "nothing to fill in");
    assert.match(banner, /^ {2}id=\$\(curl -s "http:\/\/127\.0\.0\.1:8080\/in\.php\?key=demo-[0-9a-f]{24}&method=base64&body=[^"]+&json=1" \| sed -n '[^']+'\)$/m);
    // Asked until it is in (an overflowing plan holds a task 5 s): no fixed sleep that a slow solve outlasts.
    assert.match(banner, /^ {2}until r=\$\(curl -s "http:\/\/127\.0\.0\.1:8080\/res\.php\?key=demo-[0-9a-f]{24}&action=get&id=\$id&json=1"\); \[ "\$\{r#\*CAPCHA_NOT_READY\}" = "\$r" \]; do sleep 2; done; echo "\$r"$/m);
    assert.ok(banner.includes(`npm i ${CLIENT_PACKAGE}`), banner);
    assert.match(banner, /in this repository's directory/);
    const sim = demo.simulator.url.href;
    assert.ok(banner.includes(`curl -s -X POST ${sim}__sim/balance -H 'content-type: application/json' -d '{"balance":0.5}'\n`));
    assert.ok(banner.includes(`curl -s -X POST ${sim}__sim/balance -H 'content-type: application/json' -d '{"balance":${DEMO_BALANCE_USD}}'\n`), "the restore line");
    assert.ok(banner.includes(`curl -s -X DELETE ${sim}__sim/faults\n`));
    assert.match(banner, /within 5s/);
  });

  test("the reminder: the status page, the gateway key and the simulator, in a few lines", () => {
    const short = demo.reminder(ADDRESS);
    assert.ok(short.includes("status page   http://127.0.0.1:8080/\n"), short);
    assert.ok(short.includes(`gateway key   ${demo.clientKey} `), short);
    assert.ok(short.includes(`simulator     ${demo.simulator.url.href}__sim/counts\n`), short);
    assert.ok(short.split("\n").length < 12, short);
  });

  test("with stdin and stdout no terminal, nothing comes back and the banner promises nothing", async () => {
    const written: string[] = [];
    demo.remind(ADDRESS, { write: (t) => void written.push(t), everyMs: undefined, onEnter: () => undefined });
    assert.doesNotMatch(demo.banner(ADDRESS), /come back/);
    assert.match(demo.banner(ADDRESS), /Stop with Ctrl-C\.\n\n$/);
    await clock.advance(3 * DEMO_REMINDER_MS);
    assert.deepEqual(written, []);
  });

  test("comes back every DEMO_REMINDER_MS and at each Enter, until the drain begins; the banner says so", async () => {
    const written: string[] = [];
    let enter: (() => void) | undefined;
    let reading = false;
    demo.remind(ADDRESS, {
      write: (t) => void written.push(t),
      everyMs: DEMO_REMINDER_MS,
      onEnter: (h) => {
        enter = h;
        reading = true;
        return () => void (reading = false);
      },
    });
    assert.match(demo.banner(ADDRESS), /come back in short at Enter and every 2m\./);
    await clock.advance(DEMO_REMINDER_MS - 1);
    assert.equal(written.length, 0);
    await clock.advance(1);
    assert.equal(written.length, 1);
    assert.equal(written[0], demo.reminder(ADDRESS));
    enter!();
    assert.equal(written.length, 2);
    await clock.advance(DEMO_REMINDER_MS);
    assert.equal(written.length, 3);
    demo.stopping();
    assert.equal(reading, false, "stdin is let go, so the process can exit");
    await clock.advance(3 * DEMO_REMINDER_MS);
    assert.equal(written.length, 3);
  });
});

describe("the demo's sample tasks", () => {
  test("expendable: the samples still open; one that ended leaves the count", async () => {
    const clock = new FakeClock();
    const { config } = parseConfig({ demo: true }, {});
    const demo = await startDemo(config, clock, silentLogger);
    try {
      const tasks: Task[] = [];
      demo.startTraffic({ enqueue: () => (tasks.push({ status: "queued", id: String(tasks.length), createdAt: 0 } as Task), tasks.at(-1)!) }, 1000);
      await clock.advance(0);
      await clock.advance(2000);
      assert.equal(tasks.length, 3);
      assert.equal(demo.expendable(), 3);
      tasks[0]!.status = "solved";
      demo.taskEnded(tasks[0]!);
      tasks[1]!.status = "submitted";
      assert.equal(demo.expendable(), 2);
      demo.stopping();
    } finally {
      await demo.close();
    }
  });
});
