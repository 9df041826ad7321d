/**
 * deploy/compose parsed as YAML (python3-yaml, as the Kubernetes manifests are: no container engine
 * runs here) and checked structurally: every bind-mounted file exists (or is a secret the user
 * creates, as documented), the worker's --listen, published port, healthcheck and Prometheus target
 * agree, the state dir is a named volume, the gateway is on, the demo profile needs no key (and its
 * command and environment start the built executable), Prometheus's config passes promtool laid
 * out as the container sees it, and Grafana's provisioned datasource is the one the dashboard selects.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { describe, test, type TestContext } from "node:test";
import { BUILT_BIN, builtBinaryAvailable, ROOT, waitForStart } from "../../_support/cli.ts";
import { pollUntil } from "../../_support/net.ts";
import { requireOrSkip, requireProgram } from "../../_support/programs.ts";
import { tempDir } from "../../_support/temp_dirs.ts";
import { checkExposure } from "../../../src/config/exposure.ts";
import { BUILD_HINT } from "./live_scrape.ts";
import { OPTIONS } from "../../../src/config/options.ts";
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
    else if (OPTIONS.find((o) => o.flag === arg.slice(2))?.boolean) flags[arg.slice(2)] = "true"; // a switch (--demo)
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
    assert.deepEqual(worker.profiles, ["production"]);
    // Each secret: declared, given to the worker, and the file the worker reads.
    const secretFiles = worker.secrets.map((s: string) => `/run/secrets/${s}`);
    assert.ok(secretFiles.includes(env.CAPTCHAAI_API_KEY_FILE), "the key is a secret file");
    assert.ok(secretFiles.includes(config.apiTokenFile), "the API token is a secret file");
    assert.ok(secretFiles.includes(config.clientKeysFile), "the gateway is on: the client keys are a secret file");
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

  test("ports agree: each worker's --listen, its published port and Prometheus's target (the service, or the demo by its alias)", (t) => {
    const docs = load(t, "compose.yaml", "prometheus.yml");
    if (!docs) return;
    const [compose, prometheus] = docs as [Doc, Doc];
    const job = prometheus.scrape_configs.find((j: Doc) => j.job_name === "captcha-worker");
    assert.ok(job, 'job "captcha-worker" (the alerts select it)');
    assert.equal(job.metrics_path ?? "/metrics", "/metrics");
    for (const name of ["worker", "demo"]) {
      const service = compose.services[name];
      const { config } = parseConfig(flagsOf(service.command), { ...imageEnv(), ...service.environment });
      const published = service.ports.map((p: string) => Number(p.split(":").at(-1)));
      assert.deepEqual(published, [config.listen.port], `${name}: the published container port is --listen's`);
      assert.ok(service.ports.every((p: string) => p.startsWith("127.0.0.1:")), `${name}: published on loopback only`);
      const names = [name, ...(service.networks?.default?.aliases ?? [])];
      assert.deepEqual(job.static_configs.flatMap((s: Doc) => s.targets), [`worker:${config.listen.port}`]);
      assert.ok(names.includes("worker"), `${name} answers to the target's name`);
    }
  });

  test("the demo profile: the image with --demo, no key, no secret, no journal; the production worker in a profile of its own; nothing always on depends on either", (t) => {
    const docs = load(t, "compose.yaml");
    if (!docs) return;
    const [compose] = docs as [Doc];
    const services = compose.services as Record<string, Doc>;
    const demo = services.demo!;
    assert.deepEqual(demo.profiles, ["demo"]);
    assert.deepEqual(demo.build, services.worker!.build, "the same image");
    assert.equal(demo.image, services.worker!.image);
    assert.equal(demo.secrets, undefined, "nothing for the user to create");
    assert.equal(demo.command[0], "run");
    const env = { ...imageEnv(), ...demo.environment };
    const { config } = parseConfig(flagsOf(demo.command), env);
    assert.equal(config.demo, true, "--demo");
    assert.equal(config.apiTokenFile, undefined, "the image's token file unset (it is not there)");
    assert.equal(config.stateDir, undefined, "no journal for a simulator that starts afresh");
    assert.doesNotThrow(() => checkExposure(config, false));
    // The image's VOLUME would otherwise leave an anonymous volume behind each run.
    assert.ok(demo.tmpfs.includes("/var/lib/captcha-worker"));
    assert.ok(demo.tmpfs.some((p: string) => config.addressFile!.startsWith(p.replace(/\/?$/, "/"))), "the address file on a tmpfs");
    assert.deepEqual(demo.healthcheck.test, services.worker!.healthcheck.test);
    // One profile at a time, and the services every profile starts do not wait on a profiled one.
    const profiled = Object.entries(services).filter(([, s]) => s.profiles).map(([n]) => n);
    assert.deepEqual(profiled.sort(), ["demo", "worker"]);
    for (const [name, service] of Object.entries(services).filter(([, s]) => !s.profiles)) {
      const deps = Array.isArray(service.depends_on) ? service.depends_on : Object.keys(service.depends_on ?? {});
      assert.deepEqual(deps.filter((d: string) => profiled.includes(d)), [], `${name} depends on no profiled service`);
    }
  });

  test("the demo's command and environment start the built executable with no key: ready, scraped metrics, the healthcheck passes, the banner gives a gateway key", async (t) => {
    const docs = load(t, "compose.yaml");
    if (!docs || !requireOrSkip(t, builtBinaryAvailable(), BUILD_HINT)) return;
    const [compose] = docs as [Doc];
    const demo = compose.services.demo;
    const dir = tempDir("cw-compose-demo-");
    // The container's environment, its paths moved here; its --listen on a free loopback port.
    const env: Record<string, string> = { ...imageEnv(), ...demo.environment, CAPTCHA_WORKER_ADDRESS_FILE: join(dir, "address"), PATH: process.env.PATH ?? "/usr/bin:/bin" };
    const args = (demo.command as string[]).map((a, i, all) => (all[i - 1] === "--listen" ? "127.0.0.1:0" : a));
    const child = spawn(BUILT_BIN, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    t.after(() => child.kill("SIGKILL"));
    let banner = "";
    child.stdout!.on("data", (c: Buffer) => (banner += c));
    const { listen } = await waitForStart(child);
    const base = `http://${listen}`;
    await pollUntil("ready", async () => (await fetch(`${base}/health/ready`)).status === 200, { timeoutMs: 20_000, intervalMs: 50 });
    const metrics = await (await fetch(`${base}/metrics`)).text();
    assert.match(metrics, /^captcha_worker_ready 1$/m);
    const probe = spawnSync(BUILT_BIN, demo.healthcheck.test.slice(2), { env, encoding: "utf8", timeout: 10_000 });
    assert.equal(probe.status, 0, probe.stdout + probe.stderr);
    await pollUntil("the banner", () => /gateway/i.test(banner), { timeoutMs: 5_000, intervalMs: 25 });
    child.kill("SIGTERM");
    assert.equal((await once(child, "exit"))[0], 0);
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
    const page = readFileSync(join(ROOT, "docs/deploy-container.md"), "utf8");
    for (const [name, secret] of Object.entries(compose.secrets as Record<string, Doc>)) {
      const rel = "deploy/compose/" + String(secret.file).replace(/^\.\//, "");
      assert.ok(text.includes(rel) && page.includes(rel), `${rel}: how to create it is in compose.yaml and docs/deploy-container.md`);
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
