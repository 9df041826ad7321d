import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parseMultipart, readParams } from "../../../src/upstream/protocol_params.ts";

const url = (q = "") => new URL(`http://sim.invalid/in.php${q}`);

describe("readParams", () => {
  test("reads the query string alone when there is no body", () => {
    assert.deepEqual(Object.fromEntries(readParams(url("?key=k&method=base64&json=1"), "", Buffer.alloc(0))), { key: "k", method: "base64", json: "1" });
  });

  test("reads a form-urlencoded body, whose values win over the query", () => {
    const params = readParams(url("?json=0&soft_id=9"), "application/x-www-form-urlencoded", Buffer.from("json=1&body=a%2Bb%3D"));
    assert.equal(params.get("json"), "1");
    assert.equal(params.get("body"), "a+b=");
    assert.equal(params.get("soft_id"), "9");
  });

  test("reads a JSON body, with or without a JSON content type; numbers and booleans as the protocol's strings", () => {
    const body = Buffer.from(JSON.stringify({ key: "k", id: 70000000001, json: true, invisible: false, nested: { a: 1 } }));
    for (const type of ["application/json", "text/plain"]) {
      assert.deepEqual(Object.fromEntries(readParams(url(), type, body)), { key: "k", id: "70000000001", json: "1", invisible: "0" });
    }
  });

  test("never throws on a body it cannot read: it adds nothing", () => {
    assert.deepEqual(Object.fromEntries(readParams(url("?key=k"), "application/json", Buffer.from("{not json"))), { key: "k" });
    assert.deepEqual(Object.fromEntries(readParams(url("?key=k"), "application/json", Buffer.from("[1,2]"))), { key: "k" });
    assert.deepEqual(Object.fromEntries(readParams(url(), "multipart/form-data", Buffer.from("no boundary"))), {});
  });

  test("reads a multipart body, a file part sent on as base64", () => {
    const boundary = "----xyz";
    const body = Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="method"\r\n\r\npost\r\n`),
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="c.png"\r\nContent-Type: image/png\r\n\r\n`),
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a]),
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const params = readParams(url(), `multipart/form-data; boundary="${boundary}"`, body);
    assert.equal(params.get("method"), "post");
    assert.equal(params.get("file"), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a]).toString("base64"));
  });
});

describe("parseMultipart", () => {
  test("keeps fields and base64-encodes files", () => {
    const body = Buffer.from(
      "--XB\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\nabc\r\n" +
        "--XB\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.png\"\r\nContent-Type: image/png\r\n\r\n\u0001\u0002\r\n--XB--\r\n",
      "latin1",
    );
    assert.deepEqual(parseMultipart(body, "XB"), [["key", "abc"], ["file", Buffer.from([1, 2]).toString("base64")]]);
    assert.deepEqual(parseMultipart(Buffer.from("garbage"), "XB"), []);
  });

  test("stops at a part without its closing delimiter and skips parts without a name", () => {
    const body = Buffer.from(`--b\r\nContent-Disposition: form-data\r\n\r\nx\r\n--b\r\nContent-Disposition: form-data; name="key"\r\n\r\nk\r\n--b\r\nContent-Disposition: form-data; name="cut"\r\n\r\nnever closed`);
    assert.deepEqual(parseMultipart(body, "b"), [["key", "k"]]);
  });
});
