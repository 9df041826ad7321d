/**
 * A call that gets no answer names its cause (DNS, refused, reset, TLS, timeout, connect timeout),
 * and the worker says it where an operator looks: the check's error in /health/dependencies, the
 * `status` table and the log line; never the key. Real sockets: an unresolvable `.invalid` host
 * (RFC 6761 reserves it: it never resolves), a closed port, a server that resets or never answers.
 */
import assert from "node:assert/strict";
import { createServer as createTcpServer, type AddressInfo, type Server, type Socket } from "node:net";
import { after, before, describe, test } from "node:test";
import { createCaptchaAiClient } from "../../src/upstream/captchaai_client.ts";
import { describeTransportCause, type TransportCause } from "../../src/upstream/transport_cause.ts";
import { runMain } from "../_support/cli.ts";
import { FakeClock, settle } from "../_support/fake_clock.ts";
import { SIM_KEY, withHarness } from "../_support/harness.ts";
import { startScriptedUpstream, type ScriptedUpstream } from "../_support/scripted_upstream.ts";

const KEY = "0123456789abcdef0123456789abcdef";
const INVALID = new URL("http://no-such-host.invalid/");

type Transient = { kind: "transient"; code: string; message: string; cause?: TransportCause };

async function closedPort(): Promise<number> {
  const s = createTcpServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

async function balanceFrom(baseUrl: URL, more: Parameters<typeof createCaptchaAiClient>[0] extends infer O ? Partial<O> : never = {}): Promise<Transient> {
  const c = createCaptchaAiClient({ baseUrl, apiKey: KEY, ...more });
  try {
    const r = await c.balance();
    assert.equal(r.kind, "transient", JSON.stringify(r));
    assert.ok(!JSON.stringify(r).includes(KEY), "never the key");
    return r as Transient;
  } finally {
    c.close();
  }
}

describe("transport failures name their cause", () => {
  let up: ScriptedUpstream;
  before(async () => (up = await startScriptedUpstream()));
  after(() => up.close());

  test("an unresolvable host is DNS: cannot resolve HOST, with getaddrinfo's code", async () => {
    const r = await balanceFrom(INVALID);
    assert.equal(r.code, "NETWORK");
    assert.equal(r.cause?.kind, "dns");
    assert.ok(r.cause?.sysCode === "ENOTFOUND" || r.cause?.sysCode === "EAI_AGAIN", r.cause?.sysCode);
    assert.match(r.message, /^DNS: cannot resolve no-such-host\.invalid \((ENOTFOUND|EAI_AGAIN)/);
    assert.match(r.message, /: res\.php:getbalance\.$/);
  });

  test("a closed port is a refused connection, naming host and port", async () => {
    const port = await closedPort();
    const r = await balanceFrom(new URL(`http://127.0.0.1:${port}/`));
    assert.deepEqual([r.code, r.cause?.kind, r.cause?.sysCode], ["NETWORK", "refused", "ECONNREFUSED"]);
    assert.equal(r.message, `Connection refused by 127.0.0.1:${port} (ECONNREFUSED): res.php:getbalance.`);
  });

  test("a connection reset under the request is a reset", async () => {
    up.answer((_r, res) => res.socket?.resetAndDestroy());
    const r = await balanceFrom(up.url);
    assert.deepEqual([r.code, r.cause?.kind, r.cause?.sysCode], ["NETWORK", "reset", "ECONNRESET"]);
    assert.match(r.message, /^Connection reset by 127\.0\.0\.1:\d+ \(ECONNRESET\)/);
  });

  test("https to a server that speaks plain http is a TLS failure", async () => {
    const r = await balanceFrom(new URL(`https://127.0.0.1:${up.url.port}/`));
    assert.equal(r.code, "NETWORK");
    assert.equal(r.cause?.kind, "tls", JSON.stringify(r.cause));
    assert.match(r.message, /^TLS: handshake with 127\.0\.0\.1:\d+ failed \(/);
  });

  describe("timeouts on the injected clock", () => {
    let silent: Server;
    const sockets = new Set<Socket>();
    let connected: () => void = () => {};
    before(async () => {
      silent = createTcpServer({ pauseOnConnect: true }, (s) => {
        sockets.add(s);
        connected();
      });
      await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    });
    after(async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => silent.close(r));
    });

    for (const [scheme, kind, code, ms] of [["https", "connect_timeout", "CONNECT_TIMEOUT", 3000], ["http", "timeout", "TIMEOUT", 5000]] as const) {
      test(`${scheme} to a server that never answers: ${code}, its cause ${kind} after ${ms}ms`, async () => {
        const clock = new FakeClock();
        const url = new URL(`${scheme}://127.0.0.1:${(silent.address() as AddressInfo).port}/`);
        const c = createCaptchaAiClient({ baseUrl: url, apiKey: KEY, clock, timeoutMs: 5000, connectTimeoutMs: 3000 });
        const tcp = new Promise<void>((r) => (connected = r));
        const pending = c.balance();
        await tcp;
        await settle();
        await clock.advance(5000);
        const r = (await pending) as Transient;
        c.close();
        assert.deepEqual([r.code, r.cause?.kind, r.cause?.afterMs], [code, kind, ms]);
        assert.equal(r.message, `${kind === "timeout" ? `No answer from ${url.host} within 5000ms (timeout)` : `No connection to ${url.host} within 3000ms (connect timeout)`}: res.php:getbalance.`);
      });
    }
  });

  test("describeTransportCause: EAI_AGAIN says the resolver did not answer; an unknown code is a failed connection", () => {
    assert.match(describeTransportCause({ kind: "dns", host: "ocr.captchaai.com", sysCode: "EAI_AGAIN" }), /^DNS: cannot resolve ocr\.captchaai\.com \(EAI_AGAIN/);
    assert.equal(describeTransportCause({ kind: "other", host: "a.example:8443", sysCode: "EWHATEVER" }), "connection to a.example:8443 failed (EWHATEVER)");
  });
});

describe("the worker names the cause where an operator looks", () => {
  const expect = async (upstreamUrl: URL, cause: RegExp) =>
    withHarness(
      async (h) => {
        const deps = (await (await fetch(h.base + "/health/dependencies")).json()) as { checks: Record<string, { status: string; error?: string }> };
        const check = deps.checks.captchaai_api!;
        assert.equal(check.status, "down");
        assert.match(check.error ?? "", new RegExp(`^getbalance failed: ${cause.source}`));
        const status = await runMain(["status", "--url", h.base]);
        assert.equal(status.code, 1);
        assert.match(status.stdout, new RegExp(`check captchaai_api: down \\([^\\n]*getbalance failed: ${cause.source}`));
        const line = h.logs.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === "upstream check failed");
        assert.ok(line, h.logs.join(""));
        assert.equal(line.level, "warn");
        assert.match(String(line.error), new RegExp(`^getbalance failed: ${cause.source}`));
        const all = h.logs.join("") + JSON.stringify(deps) + status.stdout;
        assert.ok(!all.includes(SIM_KEY), "never the key");
      },
      { upstreamUrl },
    );

  test("an unresolvable host: DNS: cannot resolve HOST in /health/dependencies, status and the log", () => expect(INVALID, /DNS: cannot resolve no-such-host\.invalid/));

  test("a refused port: connection refused by HOST:PORT", async () => {
    const port = await closedPort();
    await expect(new URL(`http://127.0.0.1:${port}/`), new RegExp(`connection refused by 127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\)`));
  });

  test("the cause is logged once while it holds, and its end once", () =>
    withHarness(async (h) => {
      h.sim.control.setFault("res.php:getbalance", { status: 500 });
      for (let i = 0; i < 3; i++) await h.worker.checks.refresh("captchaai_api");
      h.sim.control.clearFaults();
      await h.worker.checks.refresh("captchaai_api");
      await h.worker.checks.refresh("captchaai_api");
      const lines = h.logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => String(l.msg).startsWith("upstream check"));
      assert.deepEqual(lines.map((l) => [l.level, l.msg, l.error ?? l.was]), [
        ["warn", "upstream check failed", "getbalance failed: HTTP_500"],
        ["info", "upstream check answers again", "getbalance failed: HTTP_500"],
      ]);
    }));
});
