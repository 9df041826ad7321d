import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { isWorkerError } from "../../../src/base/errors.ts";
import { checkExposure, isLoopbackHost } from "../../../src/config/exposure.ts";
import { parseConfig } from "../../../src/config/parse_config.ts";

describe("isLoopbackHost", () => {
  test("127.0.0.0/8, ::1 (any spelling), ::ffff:127.x and localhost are loopback; everything else is not", () => {
    for (const h of ["127.0.0.1", "127.1.2.3", "::1", "0:0:0:0:0:0:0:1", "::ffff:127.0.0.1", "localhost", "LOCALHOST"]) assert.ok(isLoopbackHost(h), h);
    for (const h of ["0.0.0.0", "::", "10.0.0.5", "192.168.1.1", "128.0.0.1", "127.0.0.256", "example.com", "localhost.example.com", "::2"]) assert.ok(!isLoopbackHost(h), h);
  });
});

describe("checkExposure", () => {
  const listen = (host: string) => ({ host, port: 8080 });
  test("a non-loopback --listen without a credential is refused naming --listen, --api-token-file and --allow-unauthenticated", () => {
    assert.throws(
      () => checkExposure({ listen: listen("0.0.0.0"), allowUnauthenticated: false, demo: false }, false),
      (err: unknown) =>
        isWorkerError(err, "ERR_CONFIG_INVALID") && /--listen 0\.0\.0\.0:8080/.test(err.message) && /--api-token-file/.test(err.message) && /--allow-unauthenticated/.test(err.message),
    );
  });
  test("a token, a loopback address, --allow-unauthenticated or an explicit --listen for the demo each lets it start", () => {
    checkExposure({ listen: listen("0.0.0.0"), allowUnauthenticated: false, demo: false }, true);
    checkExposure({ listen: listen("127.0.0.1"), allowUnauthenticated: false, demo: false }, false);
    checkExposure({ listen: listen("::"), allowUnauthenticated: true, demo: false }, false);
    checkExposure({ listen: listen("0.0.0.0"), allowUnauthenticated: false, demo: true }, false);
  });
});

describe("--demo listen default", () => {
  test("the demo listens on 127.0.0.1:8080 unless --listen or its variable is given; run keeps 0.0.0.0:8080", () => {
    assert.deepEqual(parseConfig({ demo: true }, {}).config.listen, { host: "127.0.0.1", port: 8080 });
    assert.deepEqual(parseConfig({ demo: true, listen: ":9000" }, {}).config.listen, { host: "0.0.0.0", port: 9000 });
    assert.deepEqual(parseConfig({ demo: true }, { CAPTCHA_WORKER_LISTEN: "0.0.0.0:9001" }).config.listen, { host: "0.0.0.0", port: 9001 });
    assert.deepEqual(parseConfig({}, {}).config.listen, { host: "0.0.0.0", port: 8080 });
  });
});

describe("size values (--queue-max-bytes)", () => {
  test("bare bytes, KiB/MiB/GiB and KB/MB/GB; out of range or unknown units name the flag", () => {
    const bytes = (raw: string) => parseConfig({ "queue-max-bytes": raw }, {}).config.queueMaxBytes;
    assert.equal(bytes("256MiB"), 256 * 1024 ** 2);
    assert.equal(bytes("1GiB"), 1024 ** 3);
    assert.equal(bytes("2097152"), 2 * 1024 ** 2);
    assert.equal(bytes("1.5 gib"), 1.5 * 1024 ** 3);
    assert.equal(bytes("500MB"), 500e6);
    assert.equal(parseConfig({}, { CAPTCHA_WORKER_QUEUE_MAX_BYTES: "64MiB" }).config.queueMaxBytes, 64 * 1024 ** 2);
    assert.equal(parseConfig({}, {}).config.queueMaxBytes, 64 * 1024 ** 2, "the default (docs/sizing-and-performance.md, Sizing)");
    for (const bad of ["1KiB", "100TiB", "lots", "-5MiB", "12 parsecs"]) {
      assert.throws(() => bytes(bad), (err: unknown) => isWorkerError(err, "ERR_CONFIG_INVALID") && /--queue-max-bytes/.test(err.message), bad);
    }
  });
});
