/**
 * The operator files under deploy/: checked by the tools that consume them where those exist here
 * (haproxy -c, systemd-analyze verify), and by their text otherwise (no YAML parser: no dependencies).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { requireProgram } from "../../_support/programs.ts";
import { checkExposure } from "../../../src/config/exposure.ts";
import { parseConfig } from "../../../src/config/parse_config.ts";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const DEPLOY = join(ROOT, "deploy");
const BUILT_BIN = join(ROOT, "dist/captcha-worker");
/** The worker's default --drain-timeout, in seconds: stop timeouts must exceed it. */
const DEFAULT_DRAIN_S = 25;

function read(rel: string): string {
  return readFileSync(join(DEPLOY, rel), "utf8");
}

/** Lines without `#` comments (whole-line or trailing), so commented-out settings do not count. */
function uncommented(text: string): string {
  return text
    .split("\n")
    .map((l) => l.replace(/(^|\s)#.*$/, "").trimEnd())
    .filter((l) => l.trim() !== "")
    .join("\n");
}

/** Parses a systemd time span such as `40s`, `1min 30s`, `2m`, `500ms` or a bare number of seconds. */
function systemdSeconds(span: string): number {
  const units: Record<string, number> = { ms: 0.001, msec: 0.001, s: 1, sec: 1, m: 60, min: 60, h: 3600, hr: 3600 };
  let total = 0;
  const re = /(\d+(?:\.\d+)?)\s*([a-z]*)/g;
  let m: RegExpExecArray | null;
  let matched = "";
  while ((m = re.exec(span)) !== null) {
    const factor = units[m[2] || "s"];
    assert.ok(factor !== undefined, `unknown time unit in ${JSON.stringify(span)}`);
    total += Number(m[1]) * factor;
    matched += m[0];
  }
  assert.equal(matched.replace(/\s/g, ""), span.replace(/\s/g, ""), `cannot parse time span ${JSON.stringify(span)}`);
  return total;
}

describe("deploy/haproxy/haproxy.cfg", () => {
  test("haproxy -c accepts it", (t) => {
    const haproxy = requireProgram(t, "haproxy", "haproxy");
    if (!haproxy) return;
    const r = spawnSync(haproxy, ["-c", "-f", join(DEPLOY, "haproxy/haproxy.cfg")], { encoding: "utf8" });
    if (r.error) throw r.error;
    assert.equal(r.status, 0, `haproxy -c failed:\n${r.stdout}${r.stderr}`);
    // Warnings are accepted by -c but mean something is ignored or misused.
    assert.doesNotMatch(r.stdout + r.stderr, /\[WARNING\]|\[ALERT\]/, r.stdout + r.stderr);
  });

  test("checks readiness over HTTP and weighs servers by the worker's agent", () => {
    const cfg = uncommented(read("haproxy/haproxy.cfg"));
    const backend = /^backend captcha_workers\n((?:[ \t].*\n?)*)/m.exec(cfg)?.[1];
    assert.ok(backend, "backend captcha_workers");
    assert.match(backend, /^\s*balance leastconn$/m);
    assert.match(backend, /^\s*option httpchk$/m);
    assert.match(backend, /^\s*http-check send meth GET uri \/health\/ready$/m);
    assert.match(backend, /^\s*http-check expect status 200$/m);
    assert.match(backend, /^\s*default-server .*\bagent-check\b.*\bagent-port 8081\b/m);
    const servers = backend.match(/^\s*server \S+ \S+:8080 check\b/gm) ?? [];
    assert.equal(servers.length, 3, "three workers on :8080 with checks");
    // Tasks held with wait=N may take up to 120s: the proxy must not cut them off first.
    for (const side of ["client", "server"]) {
      const v = new RegExp(`^\\s*timeout ${side} (\\S+)$`, "m").exec(cfg)?.[1];
      assert.ok(v !== undefined, `timeout ${side}`);
      assert.ok(systemdSeconds(v) > 120, `timeout ${side} ${v} must exceed the 120s task wait`);
    }
  });
});

describe("deploy/haproxy/haproxy.cfg: reads by liveness, new work by readiness (README, Scaling out)", () => {
  const cfg = uncommented(read("haproxy/haproxy.cfg"));
  const section = (name: string) => new RegExp(`^${name}\\n((?:[ \\t].*\\n?)*)`, "m").exec(cfg)?.[1] ?? "";

  test("the frontend sends task reads (GET /v1/tasks/{id}, report, res.php, getTaskResult, reports) to captcha_reads and strips the peers' headers", () => {
    const front = section("frontend captcha");
    assert.match(front, /^\s*use_backend captcha_reads if task_read$/m);
    assert.match(front, /^\s*default_backend captcha_workers$/m);
    const acl = (front.match(/^\s*acl task_read .*$/gm) ?? []).join("\n");
    for (const p of ["/res.php", "/getTaskResult", "/reportCorrect", "/reportIncorrect"]) assert.ok(acl.includes(` ${p}`), p);
    const re = new RegExp(/path_reg (\S+)/.exec(acl)![1]!);
    assert.ok(re.test("/v1/tasks/123") && re.test("/v1/tasks/123/report") && !re.test("/v1/tasks"));
    assert.match(front, /^\s*http-request del-header X-Captcha-Worker-Forwarded$/m);
    assert.match(front, /^\s*http-request del-header X-Captcha-Worker-Peer-Token$/m);
  });

  test("captcha_reads checks /health/live and lists the same servers as captcha_workers, without stickiness", () => {
    const reads = section("backend captcha_reads");
    assert.match(reads, /^\s*http-check send meth GET uri \/health\/live$/m);
    const servers = (b: string) => (b.match(/^\s*server (\S+ \S+)/gm) ?? []).map((l) => l.trim());
    assert.deepEqual(servers(reads), servers(section("backend captcha_workers")));
    assert.doesNotMatch(cfg, /\bstick\b|\bcookie\b/);
  });
});

describe("deploy/systemd/captcha-worker.service", () => {
  const unitText = read("systemd/captcha-worker.service");
  const unit = uncommented(unitText);
  const setting = (key: string): string | undefined => new RegExp(`^${key}=(.*)$`, "m").exec(unit)?.[1]?.trim();

  test("systemd-analyze verify finds nothing wrong with the unit", (t) => {
    const analyze = requireProgram(t, "systemd-analyze", "systemd");
    if (!analyze) return;
    // verify also checks that ExecStart's program exists: point it at the real executable (or at
    // /bin/true when dist/ is not built) in a copy, so only the unit's own problems are reported.
    const program = existsSync(BUILT_BIN) ? BUILT_BIN : "/bin/true";
    assert.match(unitText, /^ExecStart=\/usr\/local\/bin\/captcha-worker /m);
    const dir = mkdtempSync(join(tmpdir(), "unit-"));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const copy = join(dir, "captcha-worker.service");
    writeFileSync(copy, unitText.replace(/^ExecStart=\/usr\/local\/bin\/captcha-worker /m, `ExecStart=${program} `));

    const r = spawnSync(analyze, ["verify", "--man=no", copy], { encoding: "utf8", env: { ...process.env, SYSTEMD_LOG_COLOR: "0", SYSTEMD_PAGER: "" } });
    if (r.error) throw r.error;
    const output = (r.stdout + r.stderr).trim();
    assert.equal(r.status, 0, `systemd-analyze verify failed:\n${output}`);
    // Unknown keys and unparsable values are only "ignoring" lines with exit 0: any line about this
    // unit is a problem. Lines about other units of the host are not ours to judge.
    const ours = output.split("\n").filter((l) => l.includes("captcha-worker.service") || l.includes(dir));
    assert.deepEqual(ours, [], `systemd-analyze verify complained:\n${ours.join("\n")}`);
  });

  test("is a notify service with a watchdog, a credential, a dynamic user and a stop timeout above the drain", () => {
    assert.equal(setting("Type"), "notify");
    assert.equal(setting("NotifyAccess"), "all", "notifications come from a systemd-notify child process");
    const watchdog = setting("WatchdogSec");
    assert.ok(watchdog !== undefined && systemdSeconds(watchdog) > 0, "WatchdogSec=");
    assert.equal(setting("RestartPreventExitStatus"), "78");
    assert.equal(setting("Restart"), "on-failure");
    assert.equal(setting("DynamicUser"), "yes");
    assert.equal(setting("StateDirectory"), "captcha-worker");
    assert.match(setting("LoadCredential") ?? "", /^captchaai-api-key:\//);
    assert.match(unit, /^LoadCredential=api-token:\/etc\/captcha-worker\/api-token$/m, "the task API's token, as a credential");
    assert.match(setting("ExecStart") ?? "", /\brun --api-token-file %d\/api-token --state-dir (?:\$\{STATE_DIRECTORY\}|%S\/captcha-worker)$/);
    const stop = setting("TimeoutStopSec");
    assert.ok(stop !== undefined, "TimeoutStopSec=");
    assert.ok(systemdSeconds(stop) > DEFAULT_DRAIN_S, `TimeoutStopSec=${stop} must exceed the ${DEFAULT_DRAIN_S}s drain`);
  });

  test("is hardened, but leaves MemoryDenyWriteExecute off for V8's JIT", () => {
    for (const [key, value] of [
      ["NoNewPrivileges", "yes"],
      ["ProtectSystem", "strict"],
      ["ProtectHome", "yes"],
      ["PrivateTmp", "yes"],
      ["PrivateDevices", "yes"],
      ["SystemCallArchitectures", "native"],
      ["CapabilityBoundingSet", ""],
    ] as const) {
      assert.equal(setting(key), value, `${key}=${value}`);
    }
    assert.match(setting("SystemCallFilter") ?? "", /@system-service/);
    assert.match(setting("RestrictAddressFamilies") ?? "", /\bAF_UNIX\b/, "systemd-notify needs AF_UNIX");
    const mdwe = setting("MemoryDenyWriteExecute");
    assert.ok(mdwe === undefined || /^(no|false|0|off)$/.test(mdwe), `MemoryDenyWriteExecute=${mdwe} breaks the JIT`);
  });
});

describe("deploy/docker/Dockerfile", () => {
  // Without comments, and with backslash-continued instructions joined onto one line.
  const dockerfile = uncommented(read("docker/Dockerfile")).replace(/\\\n\s*/g, " ");

  test("builds a distroless, non-root image from the prebuilt executable", () => {
    const froms = dockerfile.match(/^FROM\s+\S+/gim) ?? [];
    assert.match(froms.at(-1) ?? "", /^FROM\s+gcr\.io\/distroless\/cc-debian12(?::[\w.-]+)?(?:@sha256:[0-9a-f]{64})?$/i, "final stage");
    assert.match(dockerfile, /^COPY\s+dist\/captcha-worker\s+\/captcha-worker$/m);
    assert.match(dockerfile, /^USER\s+65532(?::65532)?$/m);
    assert.match(dockerfile, /^ENTRYPOINT\s+\["\/captcha-worker"\]$/m);
    assert.match(dockerfile, /^EXPOSE\s+8080$/m);
  });

  test("HEALTHCHECK runs the worker's own probe, not curl or wget", () => {
    const healthcheck = /^HEALTHCHECK\b(.*)$/m.exec(dockerfile)?.[1];
    assert.ok(healthcheck, "HEALTHCHECK");
    assert.match(healthcheck, /CMD\s+\["\/captcha-worker",\s*"probe",\s*"live"\]/);
    assert.doesNotMatch(healthcheck, /curl|wget|\/bin\/sh/);
  });

  test("the image's default `run` has a token file (on 0.0.0.0 it would exit 78 without one)", () => {
    const env = Object.fromEntries([...dockerfile.matchAll(/^ENV\s+(\w+)=(\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
    const { config } = parseConfig({}, env);
    assert.equal(config.apiTokenFile, "/run/secrets/api-token");
    assert.doesNotThrow(() => checkExposure(config, config.apiTokenFile !== undefined));
    assert.throws(() => checkExposure(config, false), /--api-token-file/, "and without it the worker refuses to start");
  });

  test("the journal: --state-dir on a VOLUME the image creates owned by 65532 (no shell for a RUN mkdir)", () => {
    const env = Object.fromEntries([...dockerfile.matchAll(/^ENV\s+(\w+)=(\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
    const { config } = parseConfig({}, env);
    assert.equal(config.stateDir, "/var/lib/captcha-worker");
    assert.match(dockerfile, /^VOLUME\s+\["\/var\/lib\/captcha-worker"\]$/m);
    assert.match(dockerfile, /^COPY\s+--from=gcr\.io\/distroless\/cc-debian12:nonroot\s+--chown=65532:65532\s+\/home\/nonroot\s+\/var\/lib\/captcha-worker$/m);
  });

  test("HEALTHCHECK finds the worker by --address-file, set in the image's environment on the writable /tmp", () => {
    const env = Object.fromEntries([...dockerfile.matchAll(/^ENV\s+(\w+)=(\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
    assert.equal(parseConfig({}, env).config.addressFile, "/tmp/captcha-worker.address");
    // The key-file ownership a uid-65532 image needs is spelled out where `docker run` is shown.
    assert.match(read("docker/Dockerfile"), /chown 65532:65532/);
  });

  test("the build context's .dockerignore sends only the executable", () => {
    const ignore = uncommented(readFileSync(join(ROOT, ".dockerignore"), "utf8")).split("\n");
    assert.deepEqual(ignore, ["*", "!dist/captcha-worker"]);
  });
});

describe("deploy/systemd/env.example", () => {
  test("every example setting parses; the scale-out ones name this node among the peers and match the HAProxy servers", () => {
    const env = Object.fromEntries(
      [...read("systemd/env.example").matchAll(/^#(CAPTCHA_WORKER_[A-Z_]+)=(.*)$/gm)].map((m) => [m[1]!, m[2]!]),
    );
    assert.ok(env.CAPTCHA_WORKER_NODE_ID && env.CAPTCHA_WORKER_PEERS && env.CAPTCHA_WORKER_PEER_TOKEN_FILE);
    const { config } = parseConfig({}, env);
    assert.ok(config.peers.some((p) => p.node === config.nodeId), "the node is one of its peers");
    const servers = [...uncommented(read("haproxy/haproxy.cfg")).matchAll(/^\s*server \S+ (\S+) check/gm)].map((m) => m[1]);
    for (const p of config.peers) assert.ok(servers.includes(p.url.host), `${p.url.host} is a HAProxy server`);
  });
});
