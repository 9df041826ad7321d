import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { silentLogger } from "../../../src/base/log.ts";
import { Callbacks, isInternalAddress } from "../../../src/gateway/callbacks.ts";
import { Registry } from "../../../src/metrics/registry.ts";
import { makeTask } from "../../_support/tasks.ts";
import { FakeClock, settle } from "../../_support/fake_clock.ts";
import { PNG_B64 } from "../../_support/images.ts";

/** Callbacks allowed to hooks.example.com, whose name resolves to `addresses`; `resolved()` counts the lookups. */
function resolvingTo(addresses: { address: string; family: number }[]) {
  const registry = new Registry();
  let lookups = 0;
  const cb = new Callbacks({
    allow: ["hooks.example.com"],
    clock: new FakeClock(),
    log: silentLogger,
    registry,
    resolve: async () => {
      lookups++;
      return addresses;
    },
  });
  return { cb, registry, resolved: () => lookups };
}

describe("Callbacks", () => {
  test("isInternalAddress covers loopback, private, link-local, CGNAT, unspecified, multicast and their IPv6 forms", () => {
    for (const ip of ["127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0", "224.0.0.1", "::1", "::", "fd00::1", "fe80::1", "::ffff:127.0.0.1"]) {
      assert.equal(isInternalAddress(ip), true, ip);
    }
    for (const ip of ["93.184.216.34", "8.8.8.8", "172.32.0.1", "2606:4700::1111"]) assert.equal(isInternalAddress(ip), false, ip);
  });

  test("Callbacks.check takes http(s) URLs to allowed hosts only, without credentials", () => {
    const cb = new Callbacks({ allow: ["hooks.example.com", "::1"], clock: new FakeClock(), log: silentLogger });
    assert.equal(cb.check("https://hooks.example.com/x"), undefined);
    assert.equal(cb.check("http://HOOKS.example.com:8080/x"), undefined);
    assert.equal(cb.check("http://[::1]:9/x"), undefined);
    for (const url of ["https://evil.example/x", "ftp://hooks.example.com/", "https://u:p@hooks.example.com/", "not a url", "https://hooks.example.com.evil.example/"]) {
      assert.equal(cb.check(url), "ERROR_BAD_PARAMETERS", url);
    }
  });

  test("Callbacks refuses an allowed name that resolves only to internal addresses (DNS rebinding), without connecting", async () => {
    const { cb, registry, resolved } = resolvingTo([{ address: "169.254.169.254", family: 4 }, { address: "10.0.0.7", family: 4 }]);
    cb.deliver(makeTask("77", { status: "solved", solution: "abc", params: { type: "image", image: PNG_B64, callback: { url: "http://hooks.example.com/x", format: "pingback" } } }));
    await settle();
    assert.equal(resolved(), 1);
    assert.match(registry.render(), /captcha_worker_callbacks_total\{outcome="refused"\} 1/);
  });

  test("a task the journal could not record is not called back: its client was answered ERROR_NO_SLOT_AVAILABLE and never had its id", async () => {
    const { cb, registry, resolved } = resolvingTo([{ address: "93.184.216.34", family: 4 }]);
    const params = { type: "image" as const, image: PNG_B64, client: "alpha", callback: { url: "http://hooks.example.com/x", format: "pingback" as const } };
    cb.deliver(makeTask("78", { status: "failed", params, error: { code: "journal", message: "The task could not be recorded; it was withdrawn." } }));
    await settle();
    assert.equal(resolved(), 0, "no delivery attempted");
    assert.doesNotMatch(registry.render(), /captcha_worker_callbacks_total\{outcome="[a-z]+"\} [1-9]/);
  });
});
