// --peers and --peer-token-file together (docs/cluster.md): the list names this node, and peers need the token.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { isWorkerError } from "../../../src/base/errors.ts";
import { loadPeerToken } from "../../../src/config/load_key.ts";
import { parseConfig } from "../../../src/config/parse_config.ts";

const files: Record<string, string> = { "/etc/peer-token": "peer-token-0123456789abcdef\n", "/etc/short": "short" };
const rt = { readFile: (p: string) => files[p] ?? (() => { throw Object.assign(new Error("missing"), { code: "ENOENT" }); })() };
const config = (flags: Record<string, string>, env: Record<string, string> = {}) => parseConfig(flags, env).config;

describe("--peers and --peer-token-file", () => {
  test("the token is read and trimmed; without peers and token: none", () => {
    assert.equal(loadPeerToken(config({ "node-id": "1", peers: "0=http://a:8080,1=http://b:8080", "peer-token-file": "/etc/peer-token" }), rt), "peer-token-0123456789abcdef");
    assert.equal(loadPeerToken(config({}), rt), undefined);
  });

  test("CAPTCHA_WORKER_PEERS sets the list", () => {
    assert.deepEqual(config({}, { CAPTCHA_WORKER_PEERS: "0=http://w-0.w:8080" }).peers.map((p) => [p.node, p.url.href]), [[0, "http://w-0.w:8080/"]]);
  });

  test("peers without this node, peers without a token file, and a bad token are ERR_CONFIG_INVALID naming the flag", () => {
    const fieldOf = (fn: () => unknown) => {
      try {
        fn();
      } catch (err) {
        assert.ok(isWorkerError(err, "ERR_CONFIG_INVALID"));
        return err.field;
      }
      assert.fail("accepted");
    };
    assert.equal(fieldOf(() => loadPeerToken(config({ "node-id": "3", peers: "0=http://a/,1=http://b/", "peer-token-file": "/etc/peer-token" }), rt)), "--peers");
    assert.equal(fieldOf(() => loadPeerToken(config({ peers: "0=http://a/" }), rt)), "--peer-token-file");
    assert.equal(fieldOf(() => loadPeerToken(config({ "peer-token-file": "/etc/short" }), rt)), "--peer-token-file");
    assert.equal(fieldOf(() => loadPeerToken(config({ "peer-token-file": "/etc/none" }), rt)), "--peer-token-file");
  });
});
