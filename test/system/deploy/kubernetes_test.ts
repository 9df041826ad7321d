/**
 * deploy/kubernetes parsed as YAML (python3-yaml, Debian package python3-yaml: no YAML parser among
 * our dependencies, and none is wanted at run time) and checked structurally: probes on the right
 * paths and the container's own port, the seed's probe values, the drain, the security context.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { describe, test, type TestContext } from "node:test";
import { ROOT } from "../../_support/cli.ts";
import { requireOrSkip, requireProgram } from "../../_support/programs.ts";
import { checkExposure } from "../../../src/config/exposure.ts";
import { parseConfig } from "../../../src/config/parse_config.ts";

const DIR = ROOT + "deploy/kubernetes/";
type Doc = Record<string, any>; // parsed YAML: checked field by field below

/** Every document of every YAML file, or undefined when python3-yaml is missing (test skipped). */
function load(t: TestContext): Doc[] | undefined {
  const python = requireProgram(t, "python3", "python3");
  if (!python) return undefined;
  const script = "import sys, json, yaml\nout = []\nfor f in sys.argv[1:]:\n  with open(f) as fh:\n    out += [d for d in yaml.safe_load_all(fh) if d]\nprint(json.dumps(out))";
  const files = readdirSync(DIR).filter((f) => f.endsWith(".yaml")).map((f) => DIR + f);
  const r = spawnSync(python, ["-c", script, ...files], { encoding: "utf8" });
  if (!requireOrSkip(t, !/No module named .?yaml/.test(r.stderr), "python3 has no yaml module: apt-get install -y python3-yaml")) return undefined;
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as Doc[];
}

/** The one document of `kind`; fails the test when there is none. */
function one(docs: Doc[], kind: string): Doc {
  const found = docs.find((d) => d.kind === kind);
  assert.ok(found, `a ${kind}`);
  return found;
}

describe("deploy/kubernetes (parsed)", () => {
  test("the Deployment's probes point at the health paths on the container's own port, with the seed's values", (t) => {
    const docs = load(t);
    if (!docs) return;
    const deployment = one(docs, "Deployment");
    assert.equal(deployment.spec.replicas, 3);
    const pod = deployment.spec.template.spec;
    const [container] = pod.containers;
    const port = container.ports.find((p: Doc) => p.name === "http");
    assert.equal(port.containerPort, 8080);
    const env = Object.fromEntries(container.env.map((e: Doc) => [e.name, e.value]));
    assert.match(env.CAPTCHA_WORKER_LISTEN, /:8080$/, "the worker listens where the probes knock");
    const probes: Record<string, [string, number, number]> = {
      startupProbe: ["/health/startup", 2, 30],
      livenessProbe: ["/health/live", 15, 3],
      readinessProbe: ["/health/ready", 10, 2],
    };
    for (const [name, [path, period, failures]] of Object.entries(probes)) {
      const probe = container[name];
      assert.equal(probe.httpGet.path, path, `${name} path`);
      assert.ok(probe.httpGet.port === "http" || probe.httpGet.port === 8080, `${name} port`);
      assert.equal(probe.periodSeconds, period, `${name} periodSeconds`);
      assert.equal(probe.failureThreshold, failures, `${name} failureThreshold`);
      assert.equal(probe.timeoutSeconds, 1, `${name} timeoutSeconds (the kubelet's 1 s, which the seed's Express handler could overrun)`);
    }
    const drainS = Number(/^(\d+)s$/.exec(env.CAPTCHA_WORKER_DRAIN_TIMEOUT ?? "25s")![1]);
    assert.ok(pod.terminationGracePeriodSeconds > drainS + container.readinessProbe.periodSeconds, "grace above the drain plus a readiness period");
  });

  test("non-root, read-only root, no capabilities, the key from a Secret file, metrics annotated", (t) => {
    const docs = load(t);
    if (!docs) return;
    const deployment = one(docs, "Deployment");
    const pod = deployment.spec.template.spec;
    const [container] = pod.containers;
    assert.equal(pod.securityContext.runAsNonRoot, true);
    assert.equal(container.securityContext.runAsUser, 65532, "distroless nonroot");
    assert.equal(container.securityContext.readOnlyRootFilesystem, true);
    assert.equal(container.securityContext.allowPrivilegeEscalation, false);
    assert.deepEqual(container.securityContext.capabilities.drop, ["ALL"]);
    const keyFile = container.env.find((e: Doc) => e.name === "CAPTCHAAI_API_KEY_FILE").value;
    const mount = container.volumeMounts.find((m: Doc) => keyFile.startsWith(m.mountPath + "/"));
    const volume = pod.volumes.find((v: Doc) => v.name === mount.name);
    assert.ok(volume.secret?.secretName, "the key file comes from a Secret");
    assert.ok(!container.env.some((e: Doc) => e.name === "CAPTCHAAI_API_KEY"), "never the key itself in the pod spec");
    // On 0.0.0.0 the worker refuses to start without a credential: the token comes from the same Secret.
    const tokenFile = container.env.find((e: Doc) => e.name === "CAPTCHA_WORKER_API_TOKEN_FILE")?.value as string;
    assert.ok(tokenFile, "CAPTCHA_WORKER_API_TOKEN_FILE");
    assert.ok(tokenFile.startsWith(mount.mountPath + "/") && volume.secret.items.some((i: Doc) => i.path === tokenFile.slice(mount.mountPath.length + 1)), "the token is a file of the Secret");
    const secret = one(docs, "Secret");
    assert.ok(volume.secret.items.every((i: Doc) => i.key in secret.stringData), "the example Secret has every key the pod mounts");
    const env = Object.fromEntries(container.env.map((e: Doc) => [e.name, String(e.value)]));
    const flags = Object.fromEntries((container.args as string[]).slice(1).map((a) => a.replace(/^--/, "").split("=") as [string, string]));
    const { config } = parseConfig(flags, env);
    assert.doesNotThrow(() => checkExposure(config, config.apiTokenFile !== undefined), "the Deployment's worker starts");
    assert.ok(container.resources.requests && container.resources.limits);
    const annotations = deployment.spec.template.metadata.annotations;
    assert.equal(annotations["prometheus.io/scrape"], "true");
    assert.equal(annotations["prometheus.io/path"], "/metrics");
  });

  test("the Service and the PodDisruptionBudget select the Deployment's pods; kustomization lists real files", (t) => {
    const docs = load(t);
    if (!docs) return;
    const labels = one(docs, "Deployment").spec.template.metadata.labels;
    const matches = (selector: Doc) => Object.entries(selector).every(([k, v]) => labels[k] === v);
    const service = one(docs, "Service");
    assert.ok(matches(service.spec.selector), "Service selector");
    assert.equal(service.spec.ports[0].targetPort === "http" || service.spec.ports[0].targetPort === 8080, true);
    const pdb = one(docs, "PodDisruptionBudget");
    assert.ok(matches(pdb.spec.selector.matchLabels), "PDB selector");
    const kustomization = docs.find((d) => Array.isArray(d.resources));
    assert.ok(kustomization, "a kustomization");
    for (const f of kustomization.resources) assert.ok(existsSync(DIR + f), f);
  });
});
