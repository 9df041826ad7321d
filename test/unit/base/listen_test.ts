import assert from "node:assert/strict";
import { createServer } from "node:net";
import { describe, test } from "node:test";
import { isWorkerError } from "../../../src/base/errors.ts";
import { formatHostPort, listen } from "../../../src/base/listen.ts";

describe("listen", () => {
  test("resolves the bound address, the real port when asked for port 0", async (t) => {
    const server = createServer();
    t.after(() => server.close());
    const bound = await listen(server, { host: "127.0.0.1", port: 0 });
    assert.equal(bound.host, "127.0.0.1");
    assert.ok(bound.port > 0);
    assert.equal(server.listening, true);
    assert.equal(server.listenerCount("error"), 0, "the listen-time error handler is removed");
  });

  test("rejects with ERR_LISTEN naming the address, the purpose and the field, the OS error as cause", async (t) => {
    const first = createServer();
    t.after(() => first.close());
    const taken = await listen(first, { host: "127.0.0.1", port: 0 });
    const second = createServer();
    await assert.rejects(listen(second, taken, { purpose: "for HAProxy agent checks", field: "--agent-listen" }), (err: unknown) => {
      assert.ok(isWorkerError(err, "ERR_LISTEN"));
      assert.equal(err.message, `Cannot listen for HAProxy agent checks on 127.0.0.1:${taken.port}: EADDRINUSE; choose another address with --agent-listen HOST:PORT (or CAPTCHA_WORKER_AGENT_LISTEN)`);
      assert.equal(err.field, "--agent-listen");
      assert.equal((err.cause as NodeJS.ErrnoException).code, "EADDRINUSE");
      return true;
    });
    assert.equal(second.listening, false);
  });

  test("without a purpose the message just names the address", async (t) => {
    const first = createServer();
    t.after(() => first.close());
    const taken = await listen(first, { host: "127.0.0.1", port: 0 });
    await assert.rejects(listen(createServer(), taken), { code: "ERR_LISTEN", message: `Cannot listen on 127.0.0.1:${taken.port}: EADDRINUSE` });
  });
});

describe("formatHostPort", () => {
  test("brackets IPv6 hosts", () => {
    assert.equal(formatHostPort({ host: "0.0.0.0", port: 8080 }), "0.0.0.0:8080");
    assert.equal(formatHostPort({ host: "::1", port: 80 }), "[::1]:80");
  });
});
