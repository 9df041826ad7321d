import assert from "node:assert/strict";
import { inspect } from "node:util";
import { describe, test } from "node:test";
import { TaskProxy } from "../../../src/tasks/task_proxy.ts";

const proxy = (text: string, type = "HTTP") => {
  const p = TaskProxy.parse(text, type);
  assert.ok(p instanceof TaskProxy, String(p));
  return p;
};

describe("TaskProxy", () => {
  test("TaskProxy.parse ends the login at the first colon: a password holding colons reads as the JSON APIs' proxyPassword does", () => {
    const p = proxy("scraper7:pa:ss-9@10.20.30.40:3128");
    assert.equal(p.login, "scraper7");
    assert.deepEqual(p.upstreamFields(), { proxy: "scraper7:pa:ss-9@10.20.30.40:3128", proxytype: "HTTP" });
    const parts = TaskProxy.of({ type: "http", host: "10.20.30.40", port: 3128, login: "scraper7", password: "pa:ss-9" });
    assert.ok(parts instanceof TaskProxy);
    assert.deepEqual(parts.toRecord(), p.toRecord());
  });

  test("TaskProxy.parse refuses an empty login, a login without a password and a password holding @", () => {
    for (const text of [":secret@10.0.0.1:80", "alice:@10.0.0.1:80", "alice:se@cret@10.0.0.1:80", "10.0.0.1", "10.0.0.1:70000"]) {
      assert.equal(typeof TaskProxy.parse(text, "HTTP"), "string", text);
    }
  });

  test("TaskProxy reads a host:port proxy, a bracketed IPv6 one and a proxy type in any case", () => {
    assert.deepEqual(proxy("proxy.example.net:8080", "socks5").toRecord(), { type: "SOCKS5", host: "proxy.example.net", port: 8080 });
    assert.deepEqual(proxy("alice:s3cret@[2001:db8::1]:1080", "https").v2Fields(), { proxyType: "https", proxyAddress: "2001:db8::1", proxyPort: 1080, proxyLogin: "alice", proxyPassword: "s3cret" });
  });

  test("TaskProxy never shows its password: JSON, String, inspect; the upstream form, the JSON APIs' fields and the journal record ask for it by name", () => {
    const p = proxy("alice:pa:ss-Secret-77@10.0.0.1:3128");
    for (const shown of [JSON.stringify(p), String(p), inspect(p), inspect({ nested: { p } }), JSON.stringify({ task: { proxy: p } })]) {
      assert.ok(!shown.includes("ss-Secret-77"), shown);
    }
    assert.equal(p.toRecord().password, "pa:ss-Secret-77");
    assert.equal(p.v2Fields().proxyPassword, "pa:ss-Secret-77");
    assert.equal(TaskProxy.fromRecord(JSON.parse(JSON.stringify(p.toRecord())))?.upstreamFields().proxy, "alice:pa:ss-Secret-77@10.0.0.1:3128");
  });

  test("TaskProxy.redact hides its own password, and only that", () => {
    const p = proxy("alice:pa:ss-Secret-77@10.0.0.1:3128");
    assert.equal(p.redact("ERROR_PROXY_CONNECTION_FAILED alice:pa:ss-Secret-77@10.0.0.1:3128 other-secret").includes("ss-Secret-77"), false);
    assert.ok(p.redact("other-secret").includes("other-secret"));
  });
});
