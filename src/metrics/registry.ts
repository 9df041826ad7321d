/**
 * Counters, gauges and histograms with labels, rendered in the Prometheus text format 0.0.4.
 * Series are kept in maps keyed by their rendered label string, so a scrape walks what exists
 * and allocates only the output; gauges may be callbacks read at scrape time.
 */

export type Labels = Record<string, string>;

export const CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

interface Family {
  name: string;
  help: string;
  type: "counter" | "gauge" | "histogram";
  render(out: string[]): void;
}

/** Escapes a label value per the text format: backslash, double quote and line feed. */
export function escapeLabelValue(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function escapeHelp(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

/** `{a="x",b="y"}` in the order of `names` ("" when there are none). */
function labelString(names: readonly string[], labels: Labels | undefined): string {
  if (names.length === 0) return "";
  let s = "{";
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!;
    s += `${i ? "," : ""}${name}="${escapeLabelValue(labels?.[name] ?? "")}"`;
  }
  return s + "}";
}

/** Go's %g-like float formatting that Prometheus accepts (`+Inf`, `NaN`). */
export function formatValue(n: number): string {
  if (n === Infinity) return "+Inf";
  if (n === -Infinity) return "-Inf";
  if (Number.isNaN(n)) return "NaN";
  return String(n);
}

export class Counter {
  readonly #series = new Map<string, number>();
  constructor(readonly labelNames: readonly string[] = []) {}

  inc(labels?: Labels, by = 1): void {
    if (!(by >= 0)) return;
    const key = labelString(this.labelNames, labels);
    this.#series.set(key, (this.#series.get(key) ?? 0) + by);
  }

  get(labels?: Labels): number {
    return this.#series.get(labelString(this.labelNames, labels)) ?? 0;
  }

  /** Makes a series show as 0 before its first event (so rate() works from the start). */
  init(labels: Labels): void {
    const key = labelString(this.labelNames, labels);
    if (!this.#series.has(key)) this.#series.set(key, 0);
  }

  render(name: string, out: string[]): void {
    for (const [k, v] of this.#series) out.push(`${name}${k} ${formatValue(v)}`);
  }
}

export class Gauge {
  readonly #series = new Map<string, number>();
  readonly #collect: ((set: (labels: Labels | undefined, value: number) => void) => void) | undefined;

  /** With `collect`, values are read at scrape time and set() is not used. */
  constructor(readonly labelNames: readonly string[] = [], collect?: (set: (labels: Labels | undefined, value: number) => void) => void) {
    this.#collect = collect;
  }

  set(labels: Labels | undefined, value: number): void {
    this.#series.set(labelString(this.labelNames, labels), value);
  }

  render(name: string, out: string[]): void {
    if (this.#collect) {
      this.#collect((labels, value) => out.push(`${name}${labelString(this.labelNames, labels)} ${formatValue(value)}`));
      return;
    }
    for (const [k, v] of this.#series) out.push(`${name}${k} ${formatValue(v)}`);
  }
}

export class Histogram {
  readonly #buckets: readonly number[];
  readonly #series = new Map<string, { labels: Labels | undefined; counts: Float64Array; sum: number; count: number }>();

  constructor(readonly labelNames: readonly string[], buckets: readonly number[]) {
    this.#buckets = [...buckets].sort((a, b) => a - b);
  }

  observe(labels: Labels | undefined, value: number): void {
    if (!Number.isFinite(value)) return;
    const key = labelString(this.labelNames, labels);
    let s = this.#series.get(key);
    if (!s) this.#series.set(key, (s = { labels, counts: new Float64Array(this.#buckets.length), sum: 0, count: 0 }));
    for (let i = 0; i < this.#buckets.length; i++) if (value <= this.#buckets[i]!) s.counts[i]!++;
    s.sum += value;
    s.count++;
  }

  count(labels?: Labels): number {
    return this.#series.get(labelString(this.labelNames, labels))?.count ?? 0;
  }

  render(name: string, out: string[]): void {
    for (const s of this.#series.values()) {
      const base = labelString(this.labelNames, s.labels);
      const prefix = base === "" ? "{" : base.slice(0, -1) + ",";
      for (let i = 0; i < this.#buckets.length; i++) {
        out.push(`${name}_bucket${prefix}le="${formatValue(this.#buckets[i]!)}"} ${s.counts[i]}`);
      }
      out.push(`${name}_bucket${prefix}le="+Inf"} ${s.count}`);
      out.push(`${name}_sum${base} ${formatValue(s.sum)}`);
      out.push(`${name}_count${base} ${s.count}`);
    }
  }
}

type Metric = Counter | Gauge | Histogram;

export class Registry {
  readonly #families: Family[] = [];
  readonly #names = new Set<string>();
  readonly #prepare: (() => void)[] = [];

  /**
   * Runs `hook` once at the start of every render, before any family renders: where a set of
   * callback gauges reads one snapshot, so their values do not depend on registration order.
   */
  beforeRender(hook: () => void): void {
    this.#prepare.push(hook);
  }

  counter(name: string, help: string, labelNames: readonly string[] = []): Counter {
    return this.#add(name, help, "counter", new Counter(labelNames));
  }

  gauge(name: string, help: string, labelNames: readonly string[] = [], collect?: ConstructorParameters<typeof Gauge>[1]): Gauge {
    return this.#add(name, help, "gauge", new Gauge(labelNames, collect));
  }

  /** A counter whose value is read at scrape time (e.g. CPU seconds from the OS). */
  counterFn(name: string, help: string, collect: NonNullable<ConstructorParameters<typeof Gauge>[1]>, labelNames: readonly string[] = []): void {
    this.#add(name, help, "counter", new Gauge(labelNames, collect));
  }

  histogram(name: string, help: string, labelNames: readonly string[], buckets: readonly number[]): Histogram {
    return this.#add(name, help, "histogram", new Histogram(labelNames, buckets));
  }

  /** The whole exposition, families in registration order, ending with a newline. */
  render(): string {
    for (const hook of this.#prepare) hook();
    const out: string[] = [];
    for (const f of this.#families) f.render(out);
    return out.join("\n") + "\n";
  }

  #add<M extends Metric>(name: string, help: string, type: Family["type"], metric: M): M {
    if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(name) || this.#names.has(name)) throw new Error(`bad or duplicate metric name ${name}`);
    this.#names.add(name);
    const head = `# HELP ${name} ${escapeHelp(help)}\n# TYPE ${name} ${type}`;
    this.#families.push({ name, help, type, render: (out) => {
      out.push(head);
      metric.render(name, out);
    } });
    return metric;
  }
}
