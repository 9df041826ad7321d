import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { formatHostPort, parseHostPort } from "../../../src/config/host_port.ts";

describe("parseHostPort", () => {
  test("reads IPv4, bracketed IPv6, names and a bare port", () => {
    assert.deepEqual(parseHostPort("127.0.0.1:80"), { host: "127.0.0.1", port: 80 });
    assert.deepEqual(parseHostPort("[::1]:8080"), { host: "::1", port: 8080 });
    assert.deepEqual(parseHostPort("localhost:0"), { host: "localhost", port: 0 });
    assert.deepEqual(parseHostPort(":9"), { host: "0.0.0.0", port: 9 });
  });
  test("rejects missing or out-of-range ports", () => {
    for (const bad of ["8080", "host:", "host:65536", "::1:80", "a b:1", "host:-1"]) assert.equal(parseHostPort(bad), undefined, bad);
  });
});

describe("formatHostPort", () => {
  test("brackets IPv6 hosts and round-trips with parseHostPort", () => {
    assert.equal(formatHostPort({ host: "::1", port: 8080 }), "[::1]:8080");
    assert.equal(formatHostPort({ host: "127.0.0.1", port: 0 }), "127.0.0.1:0");
    for (const raw of ["[::1]:8080", "10.0.0.1:443", "localhost:1"]) assert.equal(formatHostPort(parseHostPort(raw)!), raw);
  });
});
