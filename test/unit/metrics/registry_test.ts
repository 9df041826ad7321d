import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { sampleRegistry } from "../../_support/registry_sample.ts";
import { escapeLabelValue, formatValue, Registry } from "../../../src/metrics/registry.ts";

describe("Registry", () => {
  test("renders counters, gauges and histograms in text format 0.0.4", () => {
    const r = sampleRegistry();
    const text = r.render();
    assert.equal(
      text,
      [
        "# HELP demo_requests_total Requests by path.",
        "# TYPE demo_requests_total counter",
        'demo_requests_total{path="/a",code="200"} 3',
        'demo_requests_total{path="we\\"ird\\\\path\\n",code="500"} 1',
        "# HELP demo_temperature_celsius A gauge.",
        "# TYPE demo_temperature_celsius gauge",
        "demo_temperature_celsius -3.5",
        "# HELP demo_latency_seconds Latency.",
        "# TYPE demo_latency_seconds histogram",
        'demo_latency_seconds_bucket{endpoint="x",le="0.1"} 1',
        'demo_latency_seconds_bucket{endpoint="x",le="0.5"} 1',
        'demo_latency_seconds_bucket{endpoint="x",le="1"} 2',
        'demo_latency_seconds_bucket{endpoint="x",le="+Inf"} 3',
        'demo_latency_seconds_sum{endpoint="x"} 5.75',
        'demo_latency_seconds_count{endpoint="x"} 3',
        "",
      ].join("\n"),
    );
  });

  test("a histogram without labels renders le alone", () => {
    const r = new Registry();
    r.histogram("x_seconds", "X.", [], [1]).observe(undefined, 0.5);
    assert.match(r.render(), /^x_seconds_bucket\{le="1"\} 1$/m);
    assert.match(r.render(), /^x_seconds_sum 0.5$/m);
  });

  test("callback gauges are read at render time", () => {
    const r = new Registry();
    let v = 1;
    r.gauge("live_value", "V.", ["k"], (set) => set({ k: "a" }, v));
    assert.match(r.render(), /^live_value\{k="a"\} 1$/m);
    v = 2;
    assert.match(r.render(), /^live_value\{k="a"\} 2$/m);
  });

  test("counters ignore negative and NaN increments; init shows a zero series", () => {
    const r = new Registry();
    const c = r.counter("c_total", "C.", ["k"]);
    c.inc({ k: "a" }, -1);
    c.inc({ k: "a" }, Number.NaN);
    c.init({ k: "b" });
    assert.equal(c.get({ k: "a" }), 0);
    assert.match(r.render(), /^c_total\{k="b"\} 0$/m);
  });

  test("names are checked and unique", () => {
    const r = new Registry();
    r.counter("ok_total", "x");
    assert.throws(() => r.counter("ok_total", "x"));
    assert.throws(() => r.gauge("bad-name", "x"));
  });

  test("helpers escape and format like the text format wants", () => {
    assert.equal(escapeLabelValue('a"b\\c\nd'), 'a\\"b\\\\c\\nd');
    assert.deepEqual([Infinity, -Infinity, NaN, 0.25].map(formatValue), ["+Inf", "-Inf", "NaN", "0.25"]);
  });

  test("Registry.beforeRender hooks run once per render, before any family, whatever the registration order", () => {
    const r = new Registry();
    let snapshot = 0;
    let reads = 0;
    r.gauge("first_value", "Registered before the hook.", [], (set) => set(undefined, snapshot));
    r.beforeRender(() => {
      reads++;
      snapshot += 10;
    });
    r.gauge("second_value", "Registered after the hook.", [], (set) => set(undefined, snapshot));
    const text = r.render();
    assert.match(text, /^first_value 10$/m);
    assert.match(text, /^second_value 10$/m);
    r.render();
    assert.equal(reads, 2);
  });

  test("a callback gauge that sets nothing renders only its HELP and TYPE", () => {
    const r = new Registry();
    r.gauge("maybe_value", "M.", [], () => {});
    assert.equal(r.render(), "# HELP maybe_value M.\n# TYPE maybe_value gauge\n");
  });
});
