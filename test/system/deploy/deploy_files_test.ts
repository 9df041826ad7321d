/**
 * The operator files under deploy/: checked by the tools that consume them where those exist here
 * (haproxy -c, systemd-analyze verify), and by their text otherwise (no YAML parser: no dependencies).
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, cpSync, existsSync, linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { freePort, pollUntil } from "../../_support/net.ts";
import { requireOrSkip, requireProgram } from "../../_support/programs.ts";
import { BUILD_HINT } from "./live_scrape.ts";
import { checkExposure } from "../../../src/config/exposure.ts";
import { OPTIONS } from "../../../src/config/options.ts";
import { parseConfig } from "../../../src/config/parse_config.ts";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const DEPLOY = join(ROOT, "deploy");
const BUILT_BIN = join(ROOT, "dist/captcha-worker");
/** The worker's default --drain-timeout, in seconds: stop timeouts must exceed it. */
const DEFAULT_DRAIN_S = 25;

/** Puts `source` at `target` (its directories made): a hard link where it can, else a copy (the executable is 100 MiB). */
function install(source: string, target: string): void {
  mkdirSync(dirname(target), { recursive: true });
  try {
    linkSync(source, target);
  } catch {
    copyFileSync(source, target);
  }
}

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

describe("deploy/haproxy/haproxy.cfg: keys and tokens (docs/deploy-vm.md, HAProxy)", () => {
  const text = read("haproxy/haproxy.cfg");

  test("the TLS bind shown commented out is valid: uncommented with a certificate, haproxy -c accepts it", (t) => {
    const haproxy = requireProgram(t, "haproxy", "haproxy");
    const openssl = requireProgram(t, "openssl", "openssl");
    if (!haproxy || !openssl) return;
    const line = /^(\s*)#\s*(bind :443 ssl crt (\S+)(?: .*)?)$/m.exec(text);
    assert.ok(line, "a commented `bind :443 ssl crt PEM` line");
    assert.match(uncommented(text), /^frontend captcha\n\s+bind :80$/m, "in the frontend, beside the plain bind it replaces");
    const dir = mkdtempSync(join(tmpdir(), "haproxy-tls-"));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const key = join(dir, "key.pem");
    const cert = join(dir, "cert.pem");
    const r = spawnSync(openssl, ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=captcha-worker.test", "-keyout", key, "-out", cert], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    const pem = join(dir, "captcha-worker.pem"); // HAProxy's crt: the certificate and its key in one file
    writeFileSync(pem, readFileSync(cert, "utf8") + readFileSync(key, "utf8"));
    const cfg = join(dir, "haproxy.cfg");
    writeFileSync(cfg, text.replace(line[0], `${line[1]}${line[2]!.replace(line[3]!, pem)}`));
    const check = spawnSync(haproxy, ["-c", "-f", cfg], { encoding: "utf8" });
    assert.equal(check.status, 0, check.stdout + check.stderr);
    assert.doesNotMatch(check.stdout + check.stderr, /\[WARNING\]|\[ALERT\]/, check.stdout + check.stderr);
  });

  test("the log line shows a request's path, never its query: a legacy client's key= stays out of HAProxy's log", async (t) => {
    const haproxy = requireProgram(t, "haproxy", "haproxy");
    if (!haproxy) return;
    assert.doesNotMatch(uncommented(text), /^\s*option httplog$/m, "httplog logs the whole request line");
    const format = /^\s*log-format (.*)$/m.exec(uncommented(text))?.[1];
    assert.ok(format, "a log-format");
    assert.doesNotMatch(format, /%\{[^}]*\}r|%r\b|%HU|%HQ/, "no request line, URI or query in the format");
    // The shipped config as it runs, on loopback: its frontend, its log line on stdout.
    const dir = mkdtempSync(join(tmpdir(), "haproxy-log-"));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const port = await freePort();
    const cfg = text
      .replace(/^listen stats[\s\S]*$/m, "")
      .replace("stats socket /run/haproxy/admin.sock mode 660 level admin", `stats socket ${join(dir, "admin.sock")} level admin`)
      .replace(/^(\s*)bind :80$/m, `$1bind 127.0.0.1:${port}`)
      .replace(/^(\s*server worker\d) 10\.0\.0\.\d+:8080 check$/gm, "$1 127.0.0.1:9 check no-agent-check");
    writeFileSync(join(dir, "haproxy.cfg"), cfg);
    const proxy = spawn(haproxy, ["-db", "-f", join(dir, "haproxy.cfg")], { stdio: ["ignore", "pipe", "pipe"] });
    t.after(() => proxy.kill("SIGKILL"));
    let log = "";
    proxy.stdout!.on("data", (c: Buffer) => (log += c));
    proxy.stderr!.on("data", (c: Buffer) => (log += c));
    const key = "client-key-in-the-query-0123456789";
    await pollUntil("the request logged", async () => {
      await fetch(`http://127.0.0.1:${port}/res.php?key=${key}&action=get&id=1`).then((r) => r.arrayBuffer(), () => undefined);
      return log.includes('"GET /res.php HTTP/1.1"');
    }, { timeoutMs: 10_000, intervalMs: 100 });
    assert.ok(!log.includes(key), `the key reached the log:\n${log}`);
  });
});

describe("deploy/haproxy/haproxy.cfg: reads by liveness, new work by readiness (docs/cluster.md)", () => {
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

  test("systemd-analyze verify finds nothing wrong with the unit as installed: the file unchanged, the built executable at ExecStart's path, in a temporary root", (t) => {
    const analyze = requireProgram(t, "systemd-analyze", "systemd");
    if (!analyze || !requireOrSkip(t, existsSync(BUILT_BIN), BUILD_HINT)) return;
    // verify checks that every Exec program exists, so on a checkout it stops at "/usr/local/bin/
    // captcha-worker is not executable" (the unit's header says so). Here the unit's install steps
    // are done in a root of our own: the executable and the unit where the steps put them, the
    // system's units (for the dependencies verify loads) and ExecReload's kill.
    const root = mkdtempSync(join(tmpdir(), "unit-root-"));
    t.after(() => rmSync(root, { recursive: true, force: true }));
    const program = /^ExecStart=(\S+) /m.exec(unit)![1]!;
    assert.equal(program, "/usr/local/bin/captcha-worker", "the install steps' path");
    install(BUILT_BIN, join(root, program));
    install(join(DEPLOY, "systemd/captcha-worker.service"), join(root, "etc/systemd/system/captcha-worker.service"));
    const kill = /^ExecReload=(\S+) /m.exec(unit)![1]!;
    install(kill, join(root, kill));
    const systemUnits = ["/usr/lib/systemd/system", "/lib/systemd/system"].find((d) => existsSync(join(d, "multi-user.target")));
    assert.ok(systemUnits, "the system's units");
    cpSync(systemUnits, join(root, "usr/lib/systemd/system"), { recursive: true, verbatimSymlinks: true });

    const r = spawnSync(analyze, ["verify", "--man=no", `--root=${root}`, "captcha-worker.service"], { encoding: "utf8", env: { ...process.env, SYSTEMD_LOG_COLOR: "0", SYSTEMD_PAGER: "" } });
    if (r.error) throw r.error;
    const output = (r.stdout + r.stderr).trim();
    assert.equal(r.status, 0, `systemd-analyze verify failed:\n${output}`);
    // Unknown keys and unparsable values are only "ignoring" lines with exit 0: any line about this
    // unit is a problem. Lines about other units of the host are not ours to judge.
    const ours = output.split("\n").filter((l) => l.includes("captcha-worker.service") || l.includes(root));
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
    assert.deepEqual(unit.match(/^LoadCredential=.*$/gm), ["LoadCredential=api-token:/etc/captcha-worker/api-token"], "the task API's token, as a credential; nothing a reload re-reads");
    assert.match(setting("ExecStart") ?? "", /\brun .*--api-token-file %d\/api-token --state-dir (?:\$\{STATE_DIRECTORY\}|%S\/captcha-worker)$/);
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

describe("deploy/systemd/captcha-worker.service: the gateway, and what a reload re-reads (docs/deploy-vm.md, systemd)", () => {
  const unitText = read("systemd/captcha-worker.service");
  const unit = uncommented(unitText);
  const execStart = /^ExecStart=(.*)$/m.exec(unit)![1]!.split(/\s+/);
  const flag = (name: string) => execStart[execStart.indexOf(`--${name}`) + 1];
  /** The header's install steps: `install ... -m MODE [-g GROUP] SOURCE TARGET` lines, by target. */
  const installs = new Map(
    [...unitText.matchAll(/^#\s+(?:.*\|\s*)?install\s+((?:-d\s+|-[mg]\s+\S+\s+)*)(?:(\S+)\s+)?(\/etc\/captcha-worker\S*)/gm)].map((m) => {
      const opts = m[1]!;
      return [m[3]!, { mode: /-m\s+(\d+)/.exec(opts)?.[1], group: /-g\s+(\S+)/.exec(opts)?.[1], dir: /(?:^|\s)-d\s/.test(opts) }] as const;
    }),
  );

  test("the gateway is on: --client-keys-file and --api-key-file name files in /etc/captcha-worker, and the worker starts with them", () => {
    assert.equal(flag("client-keys-file"), "/etc/captcha-worker/clients");
    assert.equal(flag("api-key-file"), "/etc/captcha-worker/captchaai-api-key");
    const flags: Record<string, string> = {};
    for (let i = 2; i < execStart.length; i += 2) flags[execStart[i]!.replace(/^--/, "")] = execStart[i + 1]!.replace("%d", "/run/credentials/captcha-worker.service").replace("${STATE_DIRECTORY}", "/var/lib/captcha-worker");
    const { config } = parseConfig(flags, {});
    assert.equal(config.clientKeysFile, "/etc/captcha-worker/clients");
    assert.doesNotThrow(() => checkExposure(config, true));
  });

  test("the files a reload re-reads are the group's (mode 0640 in a 0710 directory) and the unit joins that group; credentials only for what is read once at start", () => {
    const group = /^SupplementaryGroups=(\S+)$/m.exec(unit)?.[1];
    assert.ok(group, "SupplementaryGroups=");
    assert.notEqual(group, "captcha-worker", "a static group of the unit's name would replace DynamicUser's own");
    assert.match(unitText, new RegExp(`^#\\s+groupadd --system ${group}$`, "m"), "the install steps create the group");
    assert.deepEqual(installs.get("/etc/captcha-worker"), { mode: "0710", group, dir: true }, "the group may enter the directory, not list it");
    for (const path of [flag("api-key-file")!, flag("client-keys-file")!]) {
      assert.deepEqual(installs.get(path), { mode: "0640", group, dir: false }, `${path}: read by the worker as a member of ${group}`);
    }
    // A credential is a copy made at start: only what the worker reads once may be one.
    for (const [, name, source] of unit.matchAll(/^LoadCredential=([^:]+):(\S+)$/gm)) {
      assert.ok(execStart.includes(`%d/${name}`), `credential ${name} is passed to the worker`);
      assert.ok(!["api-key-file", "client-keys-file", "providers-file"].some((f) => flag(f) === `%d/${name}`), `${name}: a reload would read the same copy`);
      assert.deepEqual(installs.get(source!), { mode: "0600", group: undefined, dir: false }, `${source}: root only`);
    }
    // What changes with a reload and what needs a restart is said where an operator looks.
    assert.match(unitText, /systemctl reload captcha-worker/);
    assert.match(unitText, /needs `systemctl restart`/);
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
  const text = read("systemd/env.example");
  /** Each `#CAPTCHA_WORKER_X=value` line, in order. */
  const lines = [...text.matchAll(/^#(CAPTCHA_WORKER_[A-Z0-9_]+)=(.*)$/gm)].map((m) => ({ name: m[1]!, value: m[2]!, at: m.index! }));

  test("lists every CAPTCHA_WORKER_* variable the worker reads (the option table), each once, and no other", () => {
    const names = lines.map((l) => l.name);
    assert.deepEqual(names.filter((n, i) => names.indexOf(n) !== i), [], "each once");
    assert.deepEqual(OPTIONS.map((o) => o.env).filter((e) => !names.includes(e)), [], "missing from env.example");
    assert.deepEqual(names.filter((n) => !OPTIONS.some((o) => o.env === n)), [], "not a variable of the worker");
    // A variable named in a comment must be one too (no stale name in the prose).
    const mentioned = [...new Set([...text.matchAll(/\bCAPTCHA_WORKER_[A-Z0-9_]+/g)].map((m) => m[0]))];
    assert.deepEqual(mentioned.filter((n) => n !== "CAPTCHA_WORKER_SOME_NAME" && !OPTIONS.some((o) => o.env === n)), []);
  });

  test("every example value parses, all at once, and the worker would start with them", () => {
    const env = Object.fromEntries(lines.map((l) => [l.name, l.value]));
    const { config } = parseConfig({}, env);
    assert.doesNotThrow(() => checkExposure(config, config.apiTokenFile !== undefined));
  });

  test("the variables the unit's ExecStart= passes as flags are shown apart, with the unit's values (a flag wins over its variable)", () => {
    const unit = uncommented(read("systemd/captcha-worker.service"));
    const execStart = /^ExecStart=(.*)$/m.exec(unit)![1]!.split(/\s+/);
    const passed = new Map<string, string>();
    for (let i = 2; i < execStart.length; i += 2) passed.set(execStart[i]!.replace(/^--/, ""), execStart[i + 1]!);
    const block = text.indexOf("# Set by the unit's ExecStart=");
    const after = text.indexOf("\n\n", block);
    assert.ok(block >= 0 && after > block, "a block for them");
    const inBlock = lines.filter((l) => l.at > block && l.at < after);
    const systemd = { "%d": "/run/credentials/captcha-worker.service", "${STATE_DIRECTORY}": "/var/lib/captcha-worker" };
    assert.deepEqual(
      inBlock.map((l) => [l.name, l.value]),
      [...passed].map(([flag, value]) => [OPTIONS.find((o) => o.flag === flag)!.env, Object.entries(systemd).reduce((v, [k, r]) => v.replace(k, r), value)]),
    );
  });

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
