import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { ConfigKey } from "../../../src/config/config.ts";
import { OPTIONS, PROBE_FLAGS, SIMULATE_FLAGS, STATUS_FLAGS } from "../../../src/config/options.ts";
import { describeConfig, parseConfig, resolveFlag, resolveRepeated } from "../../../src/config/parse_config.ts";
import { isWorkerError } from "../../../src/base/errors.ts";

/** A valid non-default raw value for each option, and what it parses to. */
const GOOD: Record<ConfigKey, [string, unknown]> = {
  listen: ["127.0.0.1:9090", { host: "127.0.0.1", port: 9090 }],
  upstream: ["http://127.0.0.1:8090", "http://127.0.0.1:8090/"],
  threads: ["12", 12],
  queueMax: ["50", 50],
  queueMaxBytes: ["1GiB", 1024 ** 3],
  taskTimeoutMs: ["2m", 120_000],
  firstPoll: ["image=1s,token=2s", { imageMs: 1000, tokenMs: 2000 }],
  pollIntervalMs: ["250ms", 250],
  bulkhead: ["image=2,token=3", { image: 2, token: 3 }],
  maxConsecutiveFailures: ["3", 3],
  maxWithoutSolveMs: ["90", 90_000],
  minBalanceUsd: ["2.5", 2.5],
  maxErrorRate: ["0.25", 0.25],
  errorWindowMs: ["1h", 3_600_000],
  maxQueueWaitMs: ["90s", 90_000],
  maxSaturation: ["0.25", 0.25],
  balanceTtlMs: ["10s", 10_000],
  checkTimeoutMs: ["800ms", 800],
  connectTimeoutMs: ["1500ms", 1500],
  drainTimeoutMs: ["5s", 5000],
  stateDir: ["/var/lib/captcha-worker", "/var/lib/captcha-worker"],
  addressFile: ["/tmp/captcha-worker.address", "/tmp/captcha-worker.address"],
  apiTokenFile: ["/etc/captcha-worker/token", "/etc/captcha-worker/token"],
  allowUnauthenticated: ["true", true],
  agentListen: [":8081", { host: "0.0.0.0", port: 8081 }],
  logLevel: ["debug", "debug"],
  logFormat: ["text", "text"],
  apiKeyFile: ["/run/key", "/run/key"],
  providersFile: ["/etc/captcha-worker/providers", "/etc/captcha-worker/providers"],
  demo: ["true", true],
  demoOverflow: ["true", true],
  nodeId: ["17", 17],
  peers: ["0=http://w-0.w:8080, 1=https://w-1.w/base", [{ node: 0, url: new URL("http://w-0.w:8080/") }, { node: 1, url: new URL("https://w-1.w/base/") }]],
  peerTokenFile: ["/etc/captcha-worker/peer-token", "/etc/captcha-worker/peer-token"],
  clientKeysFile: ["/etc/captcha-worker/clients", "/etc/captcha-worker/clients"],
  callbackAllow: ["hooks.example.com, 10.0.0.5", ["hooks.example.com", "10.0.0.5"]],
};

/** A bad raw value for each option that takes one. */
const BAD: Partial<Record<ConfigKey, string>> = {
  listen: "8080",
  upstream: "ftp://example.invalid",
  threads: "abc",
  queueMax: "0",
  queueMaxBytes: "12 parsecs",
  taskTimeoutMs: "2 minutes",
  firstPoll: "image=5s,captcha=3s",
  pollIntervalMs: "-1s",
  bulkhead: "image=2",
  maxConsecutiveFailures: "1.5",
  maxWithoutSolveMs: "0",
  minBalanceUsd: "-1",
  maxErrorRate: "1.5",
  errorWindowMs: "5",
  balanceTtlMs: "soon",
  checkTimeoutMs: "2m",
  connectTimeoutMs: "50ms",
  drainTimeoutMs: "11m",
  stateDir: " ",
  agentListen: "localhost",
  logLevel: "verbose",
  logFormat: "xml",
  nodeId: "1024",
  peers: "0=http://a/,0=http://b/",
  callbackAllow: "http://x/",
  demo: "maybe",
  allowUnauthenticated: "perhaps",
};

function normalize(v: unknown): unknown {
  return v instanceof URL ? v.href : v;
}

describe("parseConfig", () => {
  test("gives docs/configuration.md's defaults with source default", () => {
    const { config, sources } = parseConfig({}, {});
    assert.deepEqual(config.listen, { host: "0.0.0.0", port: 8080 });
    assert.equal(config.upstream.href, "https://ocr.captchaai.com/");
    assert.equal(config.threads, 5);
    assert.equal(config.queueMax, 1000);
    assert.equal(config.taskTimeoutMs, 180_000);
    assert.deepEqual(config.firstPoll, { imageMs: 5000, tokenMs: 15_000 });
    assert.equal(config.pollIntervalMs, 5000);
    assert.equal(config.bulkhead, undefined);
    assert.equal(config.maxConsecutiveFailures, 10);
    assert.equal(config.maxWithoutSolveMs, 600_000);
    assert.equal(config.minBalanceUsd, 1.0);
    assert.equal(config.maxErrorRate, 0.5);
    assert.equal(config.errorWindowMs, 300_000);
    assert.equal(config.balanceTtlMs, 60_000);
    assert.equal(config.checkTimeoutMs, 5000);
    assert.equal(config.connectTimeoutMs, 3000);
    assert.equal(config.drainTimeoutMs, 25_000);
    assert.equal(config.stateDir, undefined);
    assert.equal(config.apiTokenFile, undefined);
    assert.equal(config.agentListen, undefined);
    assert.equal(config.logLevel, "info");
    assert.equal(config.logFormat, "json");
    assert.equal(config.demo, false);
    assert.ok(Object.values(sources).every((s) => s === "default"));
  });

  for (const spec of OPTIONS) {
    const [raw, expected] = GOOD[spec.key];
    test(`reads --${spec.flag} from the flag and ${spec.env} from the environment`, () => {
      const flagValue = spec.boolean ? true : raw;
      const fromFlag = parseConfig({ [spec.flag]: flagValue }, {});
      assert.deepEqual(normalize(fromFlag.config[spec.key]), expected);
      assert.equal(fromFlag.sources[spec.key], "flag");
      const fromEnv = parseConfig({}, { [spec.env]: raw });
      assert.deepEqual(normalize(fromEnv.config[spec.key]), expected);
      assert.equal(fromEnv.sources[spec.key], "env");
    });

    const bad = BAD[spec.key];
    if (bad === undefined) continue;
    test(`rejects a bad --${spec.flag} naming the flag, the variable, what is allowed and what was given`, () => {
      for (const [flags, env] of [[spec.boolean ? {} : { [spec.flag]: bad }, spec.boolean ? { [spec.env]: bad } : {}], [{}, { [spec.env]: bad }]] as const) {
        assert.throws(
          () => parseConfig(flags, env),
          (err: unknown) => {
            assert.ok(isWorkerError(err, "ERR_CONFIG_INVALID"));
            assert.equal(err.field, `--${spec.flag}`);
            assert.match(err.message, new RegExp(`--${spec.flag}\\b`));
            assert.ok(err.message.includes(spec.env), err.message);
            assert.ok(err.message.includes(spec.allowed), err.message);
            assert.ok(err.message.includes(JSON.stringify(bad)), err.message);
            return true;
          },
        );
      }
    });
  }

  test("a flag wins over its variable, which wins over the default", () => {
    const both = parseConfig({ threads: "7" }, { CAPTCHA_WORKER_THREADS: "9" });
    assert.equal(both.config.threads, 7);
    assert.equal(both.sources.threads, "flag");
    const env = parseConfig({}, { CAPTCHA_WORKER_THREADS: "9" });
    assert.equal(env.config.threads, 9);
    assert.equal(env.sources.threads, "env");
  });

  test("an empty variable counts as unset", () => {
    assert.equal(parseConfig({}, { CAPTCHA_WORKER_THREADS: "" }).config.threads, 5);
  });

  test("checks ranges at both ends", () => {
    assert.equal(parseConfig({ threads: "1" }, {}).config.threads, 1);
    assert.equal(parseConfig({ threads: "1000" }, {}).config.threads, 1000);
    assert.throws(() => parseConfig({ threads: "1001" }, {}), /--threads/);
    assert.throws(() => parseConfig({ threads: "0" }, {}), /--threads/);
    assert.equal(parseConfig({ "max-error-rate": "0" }, {}).config.maxErrorRate, 0);
    assert.equal(parseConfig({ "max-error-rate": "1" }, {}).config.maxErrorRate, 1);
  });

  test("--first-poll takes one duration for both kinds or either part alone", () => {
    assert.deepEqual(parseConfig({ "first-poll": "3s" }, {}).config.firstPoll, { imageMs: 3000, tokenMs: 3000 });
    assert.deepEqual(parseConfig({ "first-poll": "token=20s" }, {}).config.firstPoll, { imageMs: 5000, tokenMs: 20_000 });
    assert.throws(() => parseConfig({ "first-poll": "image=1s,image=2s" }, {}), /--first-poll/);
    assert.throws(() => parseConfig({ "first-poll": "image=" }, {}), /--first-poll/);
  });

  test("describeConfig writes values back as a user would", () => {
    const { config } = parseConfig({ "poll-interval": "1500ms", listen: "[::1]:0" }, {});
    const d = describeConfig(config);
    assert.equal(d["poll-interval"], "1500ms");
    assert.equal(d.listen, "[::1]:0");
    assert.equal(d["task-timeout"], "3m");
    assert.equal(d["first-poll"], "image=5s,token=15s");
    assert.equal(d["state-dir"], null);
    assert.equal(d.bulkhead, "fair");
    assert.equal(describeConfig(parseConfig({ bulkhead: "token=1,image=4" }, {}).config).bulkhead, "image=4,token=1");
  });
});

describe("resolveFlag", () => {
  const timeout = PROBE_FLAGS.find((f) => f.flag === "timeout")!;
  const solveTime = SIMULATE_FLAGS.find((f) => f.flag === "solve-time")!;
  const key = SIMULATE_FLAGS.find((f) => f.flag === "key")!;

  test("resolves a flag without a variable from the flag or its default", () => {
    assert.deepEqual(resolveFlag(timeout, {}, { CAPTCHA_WORKER_TIMEOUT: "5s" }), { value: 1000, source: "default" });
    assert.deepEqual(resolveFlag(timeout, { timeout: "250ms" }, {}), { value: 250, source: "flag" });
  });

  test("names only the flag when it has no variable", () => {
    assert.throws(
      () => resolveFlag(solveTime, { "solve-time": "soon" }, {}),
      (err: unknown) => isWorkerError(err, "ERR_CONFIG_INVALID") && err.field === "--solve-time" && err.message.startsWith("Invalid --solve-time: expected") && err.message.includes('"soon"'),
    );
  });

  test("never echoes a secret flag's value", () => {
    const bad = "bad key with spaces";
    assert.throws(
      () => resolveRepeated(key, { key: ["good-key-of-32-characters-000000", bad] }),
      (err: unknown) => isWorkerError(err, "ERR_CONFIG_INVALID") && err.field === "--key" && !err.message.includes(bad),
    );
    const [a, b] = ["a".repeat(32), "b".repeat(32)];
    assert.deepEqual(resolveRepeated(key, { key: [a, b] }), [a, b]);
    assert.throws(() => resolveRepeated(key, { key: ["a".repeat(31)] }), (err: unknown) => isWorkerError(err, "ERR_CONFIG_INVALID") && /32 printable characters/.test(err.message), "a CaptchaAI key is 32 characters");
    assert.deepEqual(resolveRepeated(key, {}), []);
  });
});

describe("a bare port where host:port is expected", () => {
  /** The messages resolveFlag gives `raw` for `spec`: from the flag and, where it has one, from its variable. */
  function messages(spec: (typeof OPTIONS)[number] | (typeof PROBE_FLAGS)[number], raw: string): string[] {
    const out: string[] = [];
    const sources: [Record<string, string>, Record<string, string>][] = [[{ [spec.flag]: raw }, {}]];
    if (spec.env !== undefined) sources.push([{}, { [spec.env]: raw }]);
    for (const [flags, env] of sources) {
      assert.throws(() => resolveFlag(spec, flags, env), (err: unknown) => {
        assert.ok(isWorkerError(err, "ERR_CONFIG_INVALID"));
        assert.equal(err.field, `--${spec.flag}`);
        out.push(err.message);
        return true;
      });
    }
    return out;
  }

  test("suggests :PORT (every interface, as 0.0.0.0:PORT) and 127.0.0.1:PORT: run's --listen and --agent-listen, probe's, status's and simulate's --listen, flag or variable", () => {
    const specs = [
      ...OPTIONS.filter((o) => o.flag === "listen" || o.flag === "agent-listen"),
      ...[PROBE_FLAGS, STATUS_FLAGS, SIMULATE_FLAGS].map((t) => t.find((f) => f.flag === "listen")!),
    ];
    assert.equal(specs.length, 5);
    for (const spec of specs) {
      for (const message of messages(spec, "8080")) {
        assert.ok(message.includes(`got "8080"; a bare port: did you mean ":8080" (every interface, as 0.0.0.0:8080) or "127.0.0.1:8080" (this host only)?`), message);
        assert.ok(message.includes(spec.allowed), message);
      }
    }
  });

  test("gives no suggestion for what is not a port (out of range, a host alone, garbage)", () => {
    const listen = OPTIONS.find((o) => o.flag === "listen")!;
    for (const raw of ["99999", "localhost", "80a", "host:"]) for (const message of messages(listen, raw)) assert.doesNotMatch(message, /bare port|did you mean/, raw);
  });
});
