import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { isWorkerAnswer, resolveProbeTarget } from "../../../src/cli/probe.ts";
import { runMain } from "../../_support/cli.ts";

const FILE = "/tmp/captcha-worker.address";

/** A readFile over `files`; a missing path throws ENOENT as fs does. */
function reader(files: Record<string, string | NodeJS.ErrnoException>) {
  return (path: string): string => {
    const v = files[path];
    if (v === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: "ENOENT" });
    if (typeof v !== "string") throw v;
    return v;
  };
}

const href = (r: ReturnType<typeof resolveProbeTarget>) => ("error" in r ? r.error : r.base.href);

describe("resolveProbeTarget", () => {
  const env = { CAPTCHA_WORKER_LISTEN: "0.0.0.0:8080", CAPTCHA_WORKER_ADDRESS_FILE: FILE };

  test("the recorded address wins over the image's CAPTCHA_WORKER_LISTEN, wildcards turned into loopback", () => {
    assert.equal(href(resolveProbeTarget({}, env, reader({ [FILE]: "0.0.0.0:9000\n" }))), "http://127.0.0.1:9000/");
    assert.equal(href(resolveProbeTarget({}, env, reader({ [FILE]: "[::]:9001\n" }))), "http://[::1]:9001/");
    assert.equal(href(resolveProbeTarget({ "address-file": "/x" }, {}, reader({ "/x": "10.0.0.7:81" }))), "http://10.0.0.7:81/");
  });

  test("no file (not listening yet, or a clean stop): --listen as before; no variable: the file is never read", () => {
    assert.equal(href(resolveProbeTarget({}, env, reader({}))), "http://127.0.0.1:8080/");
    const never = () => assert.fail("read without --address-file");
    assert.equal(href(resolveProbeTarget({}, { CAPTCHA_WORKER_LISTEN: "0.0.0.0:8080" }, never)), "http://127.0.0.1:8080/");
  });

  test("--url and a --listen flag are explicit: they win over the file", () => {
    const files = reader({ [FILE]: "0.0.0.0:9000\n" });
    assert.equal(href(resolveProbeTarget({ url: "http://10.1.1.1:7000" }, env, files)), "http://10.1.1.1:7000/");
    assert.equal(href(resolveProbeTarget({ listen: "127.0.0.1:7001" }, env, files)), "http://127.0.0.1:7001/");
  });

  test("an unreadable or garbled file is an error naming it and --address-file, never a guess", () => {
    const denied = Object.assign(new Error("EACCES"), { code: "EACCES" });
    for (const files of [{ [FILE]: denied }, { [FILE]: "" }, { [FILE]: "listening on 9000" }, { [FILE]: "0.0.0.0:99999" }]) {
      const r = resolveProbeTarget({}, env, reader(files));
      assert.ok("error" in r, JSON.stringify(r));
      assert.match(r.error, /\/tmp\/captcha-worker\.address \(--address-file\)/);
    }
  });
});

describe("isWorkerAnswer", () => {
  test("a worker's 2xx documents pass; another service's health JSON on the port does not", () => {
    const ours: [string, unknown][] = [
      ["/health/live", { status: "ok", uptime_s: 12 }],
      ["/health/ready", { status: "ready", state: "probation", issues: [], warnings: [], stats: { solved: 0 }, thresholds: {} }],
      ["/health/startup", { status: "started" }],
      ["/health/dependencies", { status: "ok", checks: { upstream: { status: "ok" } } }],
    ];
    for (const [path, doc] of ours) assert.equal(isWorkerAnswer(path, JSON.stringify(doc)), true, path);
    const others: [string, string][] = [
      ["/health/live", `{"status":"ok"}`], // any generic health endpoint
      ["/health/live", `{"status":"UP"}`],
      ["/health/ready", `{"status":"ok","uptime_s":3}`], // a live answer is not a ready one
      ["/health/ready", `{"status":"ready"}`],
      ["/health/dependencies", `{"status":"ok"}`],
      ["/health/live", "OK"],
      ["/health/live", "null"],
      ["/elsewhere", `{"status":"ok","uptime_s":1}`],
    ];
    for (const [path, body] of others) assert.equal(isWorkerAnswer(path, body), false, `${path} ${body}`);
  });
});

describe("runProbeCommand: the target", () => {
  test("a mistyped target exits 2 naming the target it resembles and every target, in one line pointing at probe's page", async () => {
    for (const [typo, meant] of [["alive", "live"], ["raedy", "ready"], ["dep", "deps"], ["startpu", "startup"]] as const) {
      const r = await runMain(["probe", typo]);
      assert.equal(r.code, 2, typo);
      assert.equal(r.stderr.trim().split("\n").length, 1);
      assert.ok(r.stderr.includes(`Unknown probe target "${typo}" (did you mean "${meant}"?): expected live, ready, startup or deps`), r.stderr);
      assert.match(r.stderr, /Run `captcha-worker probe --help` for usage\.$/m);
    }
  });

  test("a name like none, or one an object has by inheritance (constructor), is unknown too; no target is a usage error", async () => {
    for (const argv of [["probe", "health"], ["probe", "constructor"], ["probe", "__proto__"], ["probe"]]) {
      const r = await runMain(argv);
      assert.equal(r.code, 2, argv.join(" "));
      assert.doesNotMatch(r.stderr, /did you mean/);
      assert.match(r.stderr, /live, ready, startup or deps/);
    }
  });
});
