/**
 * deploy/compose parsed as YAML (python3-yaml, as the Kubernetes manifests are: no container engine
 * runs here) and checked structurally: every bind-mounted file exists (or is a secret the user
 * creates, as documented), the worker's --listen, published port, healthcheck and Prometheus target
 * agree, the state dir is a named volume, Prometheus's config passes promtool laid out as the
 * container sees it, and Grafana's provisioned datasource is the one the dashboard selects.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { describe, test, type TestContext } from "node:test";
import { ROOT } from "../../_support/cli.ts";
import { requireOrSkip, requireProgram } from "../../_support/programs.ts";
import { tempDir } from "../../_support/temp_dirs.ts";
import { checkExposure } from "../../../src/config/exposure.ts";
import { parseConfig } from "../../../src/config/parse_config.ts";

const DIR = join(ROOT, "deploy/compose");
type Doc = Record<string, any>; // parsed YAML: checked field by field below

/** The parsed YAML files (relative to deploy/compose), or undefined when python3-yaml is missing (test skipped). */
function load(t: TestContext, ...files: string[]): Doc[] | undefined {
  const python = requireProgram(t, "python3", "python3");
  if (!python) return undefined;
  const script = "import sys, json, yaml\nprint(json.dumps([yaml.safe_load(open(f)) for f in sys.argv[1:]]))";
  const r = spawnSync(python, ["-c", script, ...files.map((f) => join(DIR, f))], { encoding: "utf8" });
  if (!requireOrSkip(t, !/No module named .?yaml/.test(r.stderr), "python3 has no yaml module: apt-get install -y python3-yaml")) return undefined;
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as Doc[];
}

/** A short-syntax volume `source:target[:mode]`, its source resolved against deploy/compose when it is a path. */
function mount(spec: string): { source: string; target: string; bind: boolean; readOnly: boolean } {
  const [source, target, mode] = spec.split(":") as [string, string, string | undefined];
  const bind = source.startsWith(".") || source.startsWith("/");
  return { source: bind ? resolve(DIR, source) : source, target, bind, readOnly: mode === "ro" };
}

/** The Dockerfile's ENV lines: the environment every container of the image starts with. */
function imageEnv(): Record<string, string> {
  const text = readFileSync(join(ROOT, "deploy/docker/Dockerfile"), "utf8");
  return Object.fromEntries([...text.matchAll(/^ENV\s+(\w+)=(\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
}

/** `--flag value` and `--flag=value` pairs of a command after its subcommand. */
function flagsOf(command: string[]): Record<string, string> {
  const flags: Record<string, string> = {};
  for (let i = 1; i < command.length; i++) {
    const arg = command[i]!;
    assert.ok(arg.startsWith("--"), `unexpected argument ${arg}`);
    const eq = arg.indexOf("=");
    if (eq > 0) flags[arg.slice(2, eq)] = arg.slice(eq + 1);
    else flags[arg.slice(2)] = command[++i]!;
  }
  return flags;
}

/** Seconds of a compose duration such as `35s`, `1m30s`. */
function seconds(d: string): number {
  let total = 0;
  for (const [, n, unit] of d.matchAll(/(\d+)(h|m|s)/g)) total += Number(n) * { h: 3600, m: 60, s: 1 }[unit as "h" | "m" | "s"];
  return total;
}

describe("deploy/compose (parsed)", () => {
  test("the worker: built from the Dockerfile, key and token as secret files, the state dir on a named volume, a healthcheck", (t) => {
    const docs = load(t, "compose.yaml");
    if (!docs) return;
    const [compose] = docs as [Doc];
    const worker = compose.services.worker;
    assert.ok(existsSync(join(resolve(DIR, worker.build.context), worker.build.dockerfile)), "build.dockerfile under build.context");
    assert.equal(resolve(DIR, worker.build.context), resolve(ROOT), "the context is the repository root (its .dockerignore sends only the executable)");

    // The configuration the container runs with: the image's ENV, compose's environment, the command's flags.
    const env = { ...imageEnv(), ...worker.environment };
    assert.equal(worker.command[0], "run");
    const { config } = parseConfig(flagsOf(worker.command), env);
    // Each secret: declared, given to the worker, and the file the worker reads.
    const secretFiles = worker.secrets.map((s: string) => `/run/secrets/${s}`);
    assert.ok(secretFiles.includes(env.CAPTCHAAI_API_KEY_FILE), "the key is a secret file");
    assert.ok(secretFiles.includes(config.apiTokenFile), "the API token is a secret file");
    for (const s of worker.secrets) assert.ok(compose.secrets[s]?.file, `secret ${s} is declared with a file`);
    assert.doesNotThrow(() => checkExposure(config, config.apiTokenFile !== undefined), "a non-loopback --listen with a token");

    // --state-dir on a named volume, declared at the top level (a bind mount or none would lose the journal).
    assert.ok(config.stateDir, "--state-dir set");
    const state = worker.volumes.map(mount).find((m: ReturnType<typeof mount>) => m.target === config.stateDir);
    assert.ok(state && !state.bind, `a named volume at ${config.stateDir}`);
    assert.ok(state.source in compose.volumes, `volume ${state.source} declared`);

    // The healthcheck is the worker's own probe with no address: it finds the worker by the address file.
    assert.deepEqual(worker.healthcheck.test, ["CMD", "/captcha-worker", "probe", "live"]);
    assert.ok(seconds(worker.healthcheck.start_period) >= 30 && seconds(worker.healthcheck.timeout) > 1, "start_period and a timeout over the probe's 1s");
    // Read-only root: the address file must sit on a tmpfs, or the probe falls back to the image's listen address.
    assert.ok(config.addressFile, "--address-file set (by the image)");
    if (worker.read_only) assert.ok(worker.tmpfs.some((p: string) => config.addressFile!.startsWith(p.replace(/\/?$/, "/"))), `${config.addressFile} on a tmpfs`);
    assert.ok(seconds(worker.stop_grace_period) > config.drainTimeoutMs / 1000, "stop_grace_period above --drain-timeout");
  });

  test("ports agree: the worker's --listen, its published port and Prometheus's target (the service by name)", (t) => {
    const docs = load(t, "compose.yaml", "prometheus.yml");
    if (!docs) return;
    const [compose, prometheus] = docs as [Doc, Doc];
    const worker = compose.services.worker;
    const { config } = parseConfig(flagsOf(worker.command), { ...imageEnv(), ...worker.environment });
    const published = worker.ports.map((p: string) => Number(p.split(":").at(-1)));
    assert.deepEqual(published, [config.listen.port], "the published container port is --listen's");
    assert.ok(worker.ports.every((p: string) => p.startsWith("127.0.0.1:")), "published on loopback only");
    const job = prometheus.scrape_configs.find((j: Doc) => j.job_name === "captcha-worker");
    assert.ok(job, 'job "captcha-worker" (the alerts select it)');
    assert.equal(job.metrics_path ?? "/metrics", "/metrics");
    assert.deepEqual(job.static_configs.flatMap((s: Doc) => s.targets), [`worker:${config.listen.port}`]);
    assert.ok("worker" in compose.services);
  });

  test("every bind-mounted file exists in the repository; the secret files are the user's, documented and git-ignored", (t) => {
    const docs = load(t, "compose.yaml");
    if (!docs) return;
    const [compose] = docs as [Doc];
    for (const [name, service] of Object.entries(compose.services as Record<string, Doc>)) {
      for (const m of (service.volumes ?? []).map(mount)) {
        if (!m.bind) {
          assert.ok(m.source in compose.volumes, `${name}: volume ${m.source} declared`);
          continue;
        }
        assert.ok(existsSync(m.source), `${name}: ${m.source} exists`);
        assert.ok(m.readOnly, `${name}: ${m.target} mounted read-only`);
      }
    }
    const text = readFileSync(join(DIR, "compose.yaml"), "utf8");
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    for (const [name, secret] of Object.entries(compose.secrets as Record<string, Doc>)) {
      const rel = "deploy/compose/" + String(secret.file).replace(/^\.\//, "");
      assert.ok(text.includes(rel) && readme.includes(rel), `${rel}: how to create it is in compose.yaml and the README`);
      const ignore = readFileSync(join(dirname(join(ROOT, rel)), ".gitignore"), "utf8");
      assert.match(ignore, /^\*$/m, `${name}: its directory is git-ignored`);
    }
  });

  test("promtool check config passes on the compose prometheus.yml laid out as the container mounts it (rules resolvable)", (t) => {
    const docs = load(t, "compose.yaml");
    const promtool = requireProgram(t, "promtool", "prometheus");
    if (!docs || !promtool) return;
    const [compose] = docs as [Doc];
    const service = compose.services.prometheus;
    const configFile = (service.command as string[]).find((a) => a.startsWith("--config.file="))!.slice("--config.file=".length);
    const root = tempDir("cw-compose-");
    for (const m of service.volumes.map(mount).filter((m: ReturnType<typeof mount>) => m.bind)) {
      const target = join(root, m.target);
      mkdirSync(dirname(target), { recursive: true });
      if (statSync(m.source).isDirectory()) cpSync(m.source, target, { recursive: true });
      else copyFileSync(m.source, target);
    }
    const r = spawnSync(promtool, ["check", "config", join(root, configFile)], { encoding: "utf8" });
    if (r.error) throw r.error;
    const out = r.stdout + r.stderr;
    assert.equal(r.status, 0, out);
    assert.match(out, /SUCCESS: 1 rule files found/, out);
    assert.match(out, /SUCCESS: \d+ rules found/, out);
  });

  test("Grafana: the provisioned datasource is the one the dashboard's DS_PROMETHEUS selects and points at the prometheus service; the dashboard's mount is the provider's path", (t) => {
    const docs = load(t, "compose.yaml", "grafana/provisioning/datasources/prometheus.yaml", "grafana/provisioning/dashboards/captcha-worker.yaml");
    if (!docs) return;
    const [compose, datasources, dashboards] = docs as [Doc, Doc, Doc];
    const grafana = compose.services.grafana;
    const mounts = grafana.volumes.map(mount);
    assert.ok(mounts.some((m: ReturnType<typeof mount>) => m.source === join(DIR, "grafana/provisioning") && m.target === "/etc/grafana/provisioning"), "provisioning mounted where Grafana reads it");

    const dashboard = JSON.parse(readFileSync(join(ROOT, "deploy/grafana/captcha-worker.json"), "utf8")) as Doc;
    const variable = dashboard.templating.list.find((v: Doc) => v.name === "DS_PROMETHEUS");
    assert.equal(variable.type, "datasource");
    const [ds] = datasources.datasources;
    assert.equal(ds.type, variable.query, "a Prometheus datasource");
    assert.equal(ds.uid, variable.current.value, "the variable selects the provisioned uid");
    assert.equal(ds.name, variable.current.text);
    assert.equal(ds.isDefault, true);
    // The datasource URL: the prometheus service by name, on the port Prometheus listens on (9090 unless told otherwise).
    const url = new URL(ds.url);
    assert.ok(url.hostname in compose.services, `${url.hostname} is a service`);
    assert.equal(url.port, "9090");
    assert.ok(!compose.services.prometheus.command.some((a: string) => a.startsWith("--web.listen-address")));
    assert.ok(compose.services.prometheus.ports.some((p: string) => p.endsWith(":9090")));

    const [provider] = dashboards.providers;
    const json = mounts.find((m: ReturnType<typeof mount>) => m.source === join(ROOT, "deploy/grafana/captcha-worker.json"));
    assert.ok(json, "the dashboard is mounted");
    assert.equal(dirname(json.target), provider.options.path, "where the provider looks");
    assert.equal(provider.type, "file");
  });
});
