import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { CATALOGUE } from "../../../src/tasks/task_catalogue.ts";
import { describeTypes, dialectsTable, typesTable } from "../../../src/tasks/task_types_doc.ts";

const TASK_API = readFileSync(new URL("../../../docs/task-api.md", import.meta.url), "utf8");
const PROVIDERS = readFileSync(new URL("../../../docs/providers.md", import.meta.url), "utf8");

describe("task types described", () => {
  test("every catalogue type is described with its fields, its proxy rule and its names in each API", () => {
    const docs = describeTypes();
    assert.deepEqual(docs.map((d) => d.type), CATALOGUE.map((e) => e.type));
    assert.deepEqual(docs.map((d) => d.type).sort(), [
      "bls", "captchafox", "cloudflare_challenge", "friendly_captcha", "geetest", "geetest_v4", "grid", "image", "lemin", "recaptcha_v2", "recaptcha_v3", "turnstile",
    ]);
    const rc2 = docs.find((d) => d.type === "recaptcha_v2")!;
    assert.deepEqual(rc2.fields.sitekey, { kind: "string", pattern: "^[A-Za-z0-9_-]{8,100}$", required: true, names: { legacy: ["googlekey", "sitekey"], v2: ["websiteKey"], upstream: "googlekey" } });
    assert.equal(rc2.fields.proxy?.required, false);
    assert.equal(docs.find((d) => d.type === "cloudflare_challenge")!.fields.proxy?.required, true, "a type that needs a proxy says so");
    assert.equal(docs.find((d) => d.type === "image")!.fields.proxy, undefined, "an image task takes no proxy");
    assert.ok(rc2.names.v2.some((n) => n.name === "RecaptchaV2Task" && n.proxy === "required"));
  });

  test("docs/task-api.md's type table is the catalogue's, as generated", () => {
    const m = /<!-- task types: [^>]*-->\n([\s\S]*?)\n<!-- end of task types -->/.exec(TASK_API);
    assert.ok(m, "docs/task-api.md has the generated table between its markers");
    assert.equal(m[1], typesTable());
  });

  test("docs/providers.md's table of JSON-API task types is the catalogue's, as generated", () => {
    const m = /<!-- JSON-API task types: [^>]*-->\n([\s\S]*?)\n<!-- end of JSON-API task types -->/.exec(PROVIDERS);
    assert.ok(m, "docs/providers.md has the generated table between its markers");
    assert.equal(m[1], dialectsTable());
    assert.match(dialectsTable(), /\| `turnstile` \| `TurnstileTaskProxyless`, `TurnstileTask` \(proxy\) \| `AntiTurnstileTaskProxyLess` \|/);
  });

  test("GET /v1/types names each type's task in every JSON-API dialect", () => {
    const geetest4 = describeTypes().find((d) => d.type === "geetest_v4")!;
    assert.deepEqual(geetest4.names.dialects.capsolver, [{ proxyless: "GeeTestTaskProxyLess", fields: { captcha_id: "captchaId", useragent: null } }]);
  });
});
