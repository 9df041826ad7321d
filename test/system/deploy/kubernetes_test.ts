/**
 * deploy/kubernetes parsed as YAML (python3-yaml, Debian package python3-yaml: no YAML parser among
 * our dependencies, and none is wanted at run time) and checked structurally: probes on the right
 * paths and the container's own port, the classic probe values, the drain, the security context,
 * the gateway's and the providers' Secrets mounted where the worker's *_FILE variables point.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { describe, test, type TestContext } from "node:test";
import { ROOT } from "../../_support/cli.ts";
import { requireOrSkip, requireProgram } from "../../_support/programs.ts";
import { checkExposure } from "../../../src/config/exposure.ts";
import { parseConfig } from "../../../src/config/parse_config.ts";
import { DEFAULT_MAX_FINISHED_BYTES } from "../../../src/tasks/task_store.ts";
import { parseProvidersFile } from "../../../src/config/providers_file.ts";
import { parseClientKeys } from "../../../src/gateway/client_keys.ts";
import { TASK_TYPES } from "../../../src/tasks/task_catalogue.ts";

const DIR = ROOT + "deploy/kubernetes/";
type Doc = Record<string, any>; // parsed YAML: checked field by field below

/**
 * Every document of every YAML file (the resources and examples; a kustomize patch only when asked
 * for by name), or undefined when python3-yaml is missing (test skipped).
 */
function load(t: TestContext, only?: string): Doc[] | undefined {
  const python = requireProgram(t, "python3", "python3");
  if (!python) return undefined;
  const script = "import sys, json, yaml\nout = []\nfor f in sys.argv[1:]:\n  with open(f) as fh:\n    out += [d for d in yaml.safe_load_all(fh) if d]\nprint(json.dumps(out))";
  const files = (only ? [only] : readdirSync(DIR).filter((f) => f.endsWith(".yaml") && !f.endsWith(".patch.yaml"))).map((f) => DIR + f);
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

/** Where a file path of the container lands: the Secret volume mounted above it and the Secret's key; fails the test otherwise. */
function secretFileOf(pod: Doc, container: Doc, path: string): { volume: Doc; mount: Doc; key: string } {
  const mount = container.volumeMounts.find((m: Doc) => path.startsWith(m.mountPath.replace(/\/?$/, "/")));
  assert.ok(mount, `${path} is on a mounted volume`);
  assert.equal(mount.subPath, undefined, `${mount.mountPath}: no subPath (the kubelet never updates a subPath mount's files)`);
  assert.equal(mount.readOnly, true, `${mount.mountPath} read-only`);
  const volume = pod.volumes.find((v: Doc) => v.name === mount.name);
  assert.ok(volume?.secret?.secretName, `${path} comes from a Secret`);
  const rel = path.slice(mount.mountPath.replace(/\/?$/, "/").length);
  const item = (volume.secret.items as Doc[] | undefined)?.find((i) => i.path === rel);
  assert.ok(item || !volume.secret.items, `${path}: a key the volume projects`);
  return { volume, mount, key: item?.key ?? rel };
}

/** A strategic merge patch of the StatefulSet's pod as kustomize applies this one: containers, env, volumeMounts and volumes merged by name (mountPath). */
function mergePod(sts: Doc, patch: Doc): Doc {
  const byKey = (base: Doc[] = [], more: Doc[] = [], key = "name") => [...more, ...base.filter((b) => !more.some((m) => m[key] === b[key]))];
  const pod = structuredClone(sts.spec.template.spec);
  const patchPod = patch.spec.template.spec;
  for (const pc of patchPod.containers ?? []) {
    const c = pod.containers.find((x: Doc) => x.name === pc.name);
    assert.ok(c, `the patch's container ${pc.name} is the StatefulSet's`);
    c.env = byKey(c.env, pc.env);
    c.volumeMounts = byKey(c.volumeMounts, pc.volumeMounts, "mountPath");
  }
  pod.volumes = byKey(pod.volumes, patchPod.volumes);
  return pod;
}

describe("deploy/kubernetes (parsed)", () => {
  test("the StatefulSet's probes point at the health paths on the container's own port, with the classic values", (t) => {
    const docs = load(t);
    if (!docs) return;
    const deployment = one(docs, "StatefulSet");
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
      assert.equal(probe.timeoutSeconds, 1, `${name} timeoutSeconds (the kubelet's 1 s, which the classic Express handler could overrun)`);
    }
    const drainS = Number(/^(\d+)s$/.exec(env.CAPTCHA_WORKER_DRAIN_TIMEOUT ?? "25s")![1]);
    assert.ok(pod.terminationGracePeriodSeconds > drainS + container.readinessProbe.periodSeconds, "grace above the drain plus a readiness period");
  });

  test("non-root, read-only root, no capabilities, the key from a Secret file, metrics annotated", (t) => {
    const docs = load(t);
    if (!docs) return;
    const deployment = one(docs, "StatefulSet");
    const pod = deployment.spec.template.spec;
    const [container] = pod.containers;
    assert.equal(pod.securityContext.runAsNonRoot, true);
    assert.equal(container.securityContext.runAsUser, 65532, "distroless nonroot");
    assert.equal(container.securityContext.readOnlyRootFilesystem, true);
    assert.equal(container.securityContext.allowPrivilegeEscalation, false);
    assert.deepEqual(container.securityContext.capabilities.drop, ["ALL"]);
    // The image's --address-file must be writable under the read-only root: on a writable emptyDir.
    const addressFile = /^ENV CAPTCHA_WORKER_ADDRESS_FILE=(\S+)$/m.exec(readFileSync(ROOT + "deploy/docker/Dockerfile", "utf8"))?.[1];
    assert.ok(addressFile, "the image sets CAPTCHA_WORKER_ADDRESS_FILE");
    const tmp = container.volumeMounts.find((m: Doc) => addressFile.startsWith(m.mountPath.replace(/\/?$/, "/")));
    assert.ok(tmp && !tmp.readOnly && pod.volumes.find((v: Doc) => v.name === tmp.name)?.emptyDir, `${addressFile} on a writable emptyDir`);
    const keyFile = container.env.find((e: Doc) => e.name === "CAPTCHAAI_API_KEY_FILE").value;
    const mount = container.volumeMounts.find((m: Doc) => keyFile.startsWith(m.mountPath + "/"));
    const volume = pod.volumes.find((v: Doc) => v.name === mount.name);
    assert.ok(volume.secret?.secretName, "the key file comes from a Secret");
    assert.ok(!container.env.some((e: Doc) => e.name === "CAPTCHAAI_API_KEY"), "never the key itself in the pod spec");
    // On 0.0.0.0 the worker refuses to start without a credential: the token comes from the same Secret.
    const tokenFile = container.env.find((e: Doc) => e.name === "CAPTCHA_WORKER_API_TOKEN_FILE")?.value as string;
    assert.ok(tokenFile, "CAPTCHA_WORKER_API_TOKEN_FILE");
    assert.ok(tokenFile.startsWith(mount.mountPath + "/") && volume.secret.items.some((i: Doc) => i.path === tokenFile.slice(mount.mountPath.length + 1)), "the token is a file of the Secret");
    const secret = docs.find((d) => d.kind === "Secret" && d.metadata.name === volume.secret.secretName);
    assert.ok(secret && volume.secret.items.every((i: Doc) => i.key in secret.stringData), "the example Secret has every key the pod mounts");
    const env = Object.fromEntries(container.env.filter((e: Doc) => e.value !== undefined).map((e: Doc) => [e.name, String(e.value)]));
    const flags = Object.fromEntries((container.args as string[]).slice(1).map((a) => a.replace(/^--/, "").split("=") as [string, string]));
    const { config } = parseConfig(flags, env);
    assert.doesNotThrow(() => checkExposure(config, config.apiTokenFile !== undefined), "the StatefulSet's worker starts");
    assert.ok(container.resources.requests && container.resources.limits);
    const annotations = deployment.spec.template.metadata.annotations;
    assert.equal(annotations["prometheus.io/scrape"], "true");
    assert.equal(annotations["prometheus.io/path"], "/metrics");
  });

  test("the Services and the PodDisruptionBudget select the StatefulSet's pods; kustomization lists real files", (t) => {
    const docs = load(t);
    if (!docs) return;
    const labels = one(docs, "StatefulSet").spec.template.metadata.labels;
    const matches = (selector: Doc) => Object.entries(selector).every(([k, v]) => labels[k] === v);
    for (const service of docs.filter((d) => d.kind === "Service")) {
      assert.ok(matches(service.spec.selector), `${service.metadata.name} selector`);
      assert.equal(service.spec.ports[0].targetPort === "http" || service.spec.ports[0].targetPort === 8080, true);
    }
    const pdb = one(docs, "PodDisruptionBudget");
    assert.ok(matches(pdb.spec.selector.matchLabels), "PDB selector");
    const kustomization = docs.find((d) => Array.isArray(d.resources));
    assert.ok(kustomization, "a kustomization");
    for (const f of kustomization.resources) assert.ok(existsSync(DIR + f), f);
  });

  test("scale-out (docs/cluster.md): peers name every replica by its stable DNS name, the node id is the pod ordinal, one journal volume per replica, no emptyDir journal", (t) => {
    const docs = load(t);
    if (!docs) return;
    const sts = one(docs, "StatefulSet");
    const pod = sts.spec.template.spec;
    const [container] = pod.containers;
    const env = (name: string) => container.env.find((e: Doc) => e.name === name);
    assert.equal(sts.spec.podManagementPolicy, "Parallel");
    const peers = String(env("CAPTCHA_WORKER_PEERS").value).split(",");
    const expected = Array.from({ length: sts.spec.replicas }, (_, i) => `${i}=http://${sts.metadata.name}-${i}.${sts.spec.serviceName}:8080`);
    assert.deepEqual(peers, expected, "one peer per replica, by pod name and headless Service");
    const { config } = parseConfig({}, { CAPTCHA_WORKER_PEERS: env("CAPTCHA_WORKER_PEERS").value });
    assert.equal(config.peers.length, sts.spec.replicas);
    assert.equal(env("CAPTCHA_WORKER_NODE_ID").valueFrom.fieldRef.fieldPath, "metadata.labels['apps.kubernetes.io/pod-index']");
    const tokenFile = env("CAPTCHA_WORKER_PEER_TOKEN_FILE").value as string;
    const secretVolume = pod.volumes.find((v: Doc) => v.secret);
    assert.ok(secretVolume.secret.items.some((i: Doc) => tokenFile.endsWith("/" + i.path)), "the peer token is a file of the Secret");
    // The journal: --state-dir on a claim of the volumeClaimTemplates, never an emptyDir.
    const stateDir = (container.args as string[]).find((a) => a.startsWith("--state-dir="))!.slice("--state-dir=".length);
    const mount = container.volumeMounts.find((m: Doc) => m.mountPath === stateDir);
    assert.ok(mount, "a mount at --state-dir");
    const claim = sts.spec.volumeClaimTemplates.find((c: Doc) => c.metadata.name === mount.name);
    assert.ok(claim, "--state-dir is a volumeClaimTemplate: a volume per replica");
    assert.deepEqual(claim.spec.accessModes, ["ReadWriteOnce"]);
    assert.ok(!pod.volumes.some((v: Doc) => v.name === mount.name), "not a pod volume (an emptyDir dies with the pod)");
    const gib = (q: string) => Number(/^(\d+)(Mi|Gi)$/.exec(q)![1]) * (q.endsWith("Gi") ? 1024 : 1);
    const values = Object.fromEntries(container.env.filter((e: Doc) => e.value !== undefined).map((e: Doc) => [e.name, String(e.value)]));
    const queueMiB = parseConfig({}, values).config.queueMaxBytes / 1024 ** 2;
    const retainedMiB = DEFAULT_MAX_FINISHED_BYTES / 1024 ** 2;
    assert.ok(gib(claim.spec.resources.requests.storage) >= 2 * (queueMiB + retainedMiB), "room for the journal and a compaction copy");
    // docs/sizing-and-performance.md, Sizing: the defaults refuse work before 512 MiB; a heap flag would make a flood an out-of-memory crash instead.
    assert.ok(gib(container.resources.limits.memory) >= 512, "the memory limit the default budgets are sized for");
    assert.ok(!JSON.stringify(container).includes("old-space-size") && !("NODE_OPTIONS" in values), "no V8 heap limit");
  });

  test("Services: the headless one for peers and the reads one publish unready pods; new work goes by readiness; the PDB allows one down", (t) => {
    const docs = load(t);
    if (!docs) return;
    const sts = one(docs, "StatefulSet");
    const services = new Map(docs.filter((d) => d.kind === "Service").map((d) => [d.metadata.name, d]));
    const peers = services.get(sts.spec.serviceName);
    assert.ok(peers, "the StatefulSet's serviceName exists");
    assert.equal(peers.spec.clusterIP, "None");
    assert.equal(peers.spec.publishNotReadyAddresses, true, "an unready owner must stay resolvable");
    assert.equal(services.get("captcha-worker-reads")?.spec.publishNotReadyAddresses, true);
    assert.notEqual(services.get("captcha-worker")?.spec.publishNotReadyAddresses, true, "new work by readiness");
    assert.equal(one(docs, "PodDisruptionBudget").spec.maxUnavailable, 1);
  });

  test("the gateway: CAPTCHA_WORKER_CLIENT_KEYS_FILE is a file of the captcha-worker-clients Secret, mounted as a directory so an update reaches the worker; every *_FILE variable names a Secret's file the example has", (t) => {
    const docs = load(t);
    if (!docs) return;
    const pod = one(docs, "StatefulSet").spec.template.spec;
    const [container] = pod.containers;
    const env = Object.fromEntries(container.env.filter((e: Doc) => e.value !== undefined).map((e: Doc) => [e.name, String(e.value)]));
    const { config } = parseConfig({}, env);
    assert.ok(config.clientKeysFile, "the gateway is on");
    const clients = secretFileOf(pod, container, config.clientKeysFile);
    assert.equal(clients.volume.secret.secretName, "captcha-worker-clients", "a Secret of its own: a new client does not touch the CaptchaAI key");
    for (const [name, path] of Object.entries(env).filter(([n]) => n.endsWith("_FILE") && n !== "CAPTCHA_WORKER_ADDRESS_FILE")) {
      const { volume, key } = secretFileOf(pod, container, path);
      const example = docs.find((d) => d.kind === "Secret" && d.metadata.name === volume.secret.secretName);
      assert.ok(example && key in example.stringData, `${name}: secret.example.yaml has ${volume.secret.secretName}/${key}`);
    }
    const example = docs.find((d) => d.kind === "Secret" && d.metadata.name === "captcha-worker-clients")!;
    const parsed = parseClientKeys(example.stringData[clients.key]);
    assert.ok(parsed.length >= 1, "the example clients file parses");
  });

  test("providers.patch.yaml, merged as kustomize merges it, points CAPTCHA_WORKER_PROVIDERS_FILE at the captcha-worker-providers Secret, whose example parses with every key-file= a key of the same Secret; kustomization.yaml names the patch", (t) => {
    const docs = load(t);
    const patches = load(t, "providers.patch.yaml");
    if (!docs || !patches) return;
    const [patch] = patches as [Doc];
    const sts = one(docs, "StatefulSet");
    assert.deepEqual([patch.kind, patch.metadata.name], [sts.kind, sts.metadata.name], "it patches the StatefulSet");
    const pod = mergePod(sts, patch);
    const [container] = pod.containers;
    const env = Object.fromEntries(container.env.filter((e: Doc) => e.value !== undefined).map((e: Doc) => [e.name, String(e.value)]));
    const { config } = parseConfig({}, env);
    assert.ok(config.providersFile, "CAPTCHA_WORKER_PROVIDERS_FILE");
    const { volume, mount, key } = secretFileOf(pod, container, config.providersFile);
    const secret = docs.find((d) => d.kind === "Secret" && d.metadata.name === volume.secret.secretName);
    assert.ok(secret, `secret.example.yaml has ${volume.secret.secretName}`);
    const lines = parseProvidersFile(secret.stringData[key], { path: config.providersFile, types: TASK_TYPES, credentialsDirectory: undefined });
    assert.ok(lines.length >= 2, "a plan and an overflow");
    for (const line of lines) {
      assert.ok(line.keyFile.startsWith(mount.mountPath + "/"), `${line.name}: its key-file is in the same Secret`);
      assert.ok(line.keyFile.slice(mount.mountPath.length + 1) in secret.stringData, `${line.name}: the example Secret has its key`);
    }
    assert.match(readFileSync(DIR + "kustomization.yaml", "utf8"), /^#\s+- path: providers\.patch\.yaml$/m, "how to add it");
  });
});
