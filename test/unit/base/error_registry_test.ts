import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { gatewayFailureCode, PROTOCOL_CODES } from "../../../src/base/error_registry.ts";

describe("gatewayFailureCode", () => {
  test("a task whose own proxy failed reads the upstream's proxy code, as 2captcha's res.php and anti-captcha's getTaskResult answer it", () => {
    for (const code of ["ERROR_BAD_PROXY", "ERROR_PROXY_FORMAT", "ERROR_PROXY_CONNECTION_FAILED", "ERROR_PROXY_CONNECT_REFUSED", "ERROR_PROXY_CONNECT_TIMEOUT", "ERROR_PROXY_READ_TIMEOUT", "ERROR_PROXY_BANNED", "ERROR_PROXY_TRANSPARENT", "ERROR_PROXY_NOT_AUTHORISED"]) {
      assert.equal(gatewayFailureCode(code), code);
    }
  });

  test("every proxy code the registry knows passes as it is; each is charged to the client", () => {
    const proxyCodes = Object.keys(PROTOCOL_CODES).filter((c) => /^ERROR_(?:BAD_)?PROXY/.test(c)) as (keyof typeof PROTOCOL_CODES)[];
    assert.ok(proxyCodes.length >= 10, proxyCodes.join());
    for (const code of proxyCodes) {
      assert.equal(gatewayFailureCode(code), code, code);
      assert.equal(PROTOCOL_CODES[code].blame, "client", code);
    }
  });

  test("the worker's own reasons and other upstream failures read ERROR_CAPTCHA_UNSOLVABLE; an unsupported type reads as it is", () => {
    for (const code of ["timeout", "shutdown", "SUBMIT_UNCERTAIN", "ERROR_BAD_PARAMETERS", "ERROR_SOMETHING_NEW", undefined]) assert.equal(gatewayFailureCode(code), "ERROR_CAPTCHA_UNSOLVABLE", String(code));
    assert.equal(gatewayFailureCode("ERROR_METHOD_CALL"), "ERROR_METHOD_CALL");
  });
});
