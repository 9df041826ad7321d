/** One registry with a counter (an awkward label value included), a gauge and a histogram, for render tests. */
import { Registry } from "../../src/metrics/registry.ts";

export function sampleRegistry(): Registry {
  const r = new Registry();
  const c = r.counter("demo_requests_total", "Requests by path.", ["path", "code"]);
  c.inc({ path: "/a", code: "200" });
  c.inc({ path: "/a", code: "200" }, 2);
  c.inc({ path: 'we"ird\\path\n', code: "500" });
  r.gauge("demo_temperature_celsius", "A gauge.").set(undefined, -3.5);
  const h = r.histogram("demo_latency_seconds", "Latency.", ["endpoint"], [0.5, 0.1, 1]);
  h.observe({ endpoint: "x" }, 0.05);
  h.observe({ endpoint: "x" }, 0.7);
  h.observe({ endpoint: "x" }, 5);
  return r;
}
