/**
 * deploy/systemd/captcha-worker.service's reload, tried as systemd would run it (no systemd runs
 * here): the built executable with the unit's ExecStart arguments, as a uid of DynamicUser='s range
 * with only the unit's SupplementaryGroups= group, the files laid out by the unit's install steps (the
 * directory 0710 and the re-read files 0640 of that group, the token 0600 root's and copied into a
 * credentials directory as LoadCredential= does). A new CaptchaAI key and new client keys put in their
 * files, keeping group and mode as the header says, are used after a reload (docs/deploy-vm.md, systemd); the
 * same worker without the group cannot read them (exit 78), so the group is what lets it in.
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { chmodSync, chownSync, copyFileSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test, type TestContext } from "node:test";
import { startSimulator, type Simulator } from "../../../src/sim/simulator.ts";
import { BUILT_BIN, builtBinaryAvailable, ROOT } from "../../_support/cli.ts";
import { pollUntil } from "../../_support/net.ts";
import { requireOrSkip, requireProgram } from "../../_support/programs.ts";
import { tempDir } from "../../_support/temp_dirs.ts";
import { BUILD_HINT } from "./live_scrape.ts";

const UNIT = readFileSync(join(ROOT, "deploy/systemd/captcha-worker.service"), "utf8");
/** A uid and gid from DynamicUser='s range (61184-65519), and a gid standing for the static group. */
const DYNAMIC_ID = 61_901;
const KEYS_GID = 61_902;
const OLD = "old-captchaai-key-revoked-unit01";
const NEW = "new-captchaai-key-current-unit02";
const ALPHA = "alpha-client-key-unit-0123456789";
const BRAVO = "bravo-client-key-unit-0123456789";
const TOKEN = "a".repeat(64);

let sim: Simulator;
before(async () => {
  sim = await startSimulator({ host: "127.0.0.1", port: 0 }, { keys: [NEW], solveTimeMs: { image: 0, token: 0 } });
});
after(() => sim.close());

/** The unit's lines without comments. */
const setting = (key: string) => [...UNIT.matchAll(new RegExp(`^${key}=(.*)$`, "gm"))].map((m) => m[1]!.trim());

interface Layout {
  root: string;
  etc: string;
  credentials: string;
  state: string;
}

/** /etc/captcha-worker as the install steps make it (root stands for /), the credential copied, the state directory the dynamic user's. */
function layOut(): Layout {
  const root = tempDir("cw-unit-root-");
  chmodSync(root, 0o755);
  const etc = join(root, "etc/captcha-worker");
  mkdirSync(etc, { recursive: true });
  chmodSync(join(root, "etc"), 0o755);
  chownSync(etc, 0, KEYS_GID);
  chmodSync(etc, 0o710);
  const groupFile = (name: string, text: string) => {
    writeFileSync(join(etc, name), text);
    chownSync(join(etc, name), 0, KEYS_GID);
    chmodSync(join(etc, name), 0o640);
  };
  groupFile("captchaai-api-key", `${OLD}\n`);
  groupFile("clients", `alpha ${ALPHA}\n`);
  writeFileSync(join(etc, "api-token"), `${TOKEN}\n`, { mode: 0o600 });
  // LoadCredential=: systemd copies each source into a directory only the service's user reads.
  const credentials = join(root, "run/credentials/captcha-worker.service");
  mkdirSync(credentials, { recursive: true });
  chmodSync(join(root, "run"), 0o755);
  chmodSync(join(root, "run/credentials"), 0o755);
  for (const line of setting("LoadCredential")) {
    const [name, source] = line.split(":") as [string, string];
    copyFileSync(join(root, source), join(credentials, name));
    chownSync(join(credentials, name), DYNAMIC_ID, DYNAMIC_ID);
    chmodSync(join(credentials, name), 0o400);
  }
  chownSync(credentials, DYNAMIC_ID, DYNAMIC_ID);
  chmodSync(credentials, 0o500);
  const state = join(root, "var/lib/captcha-worker");
  mkdirSync(state, { recursive: true });
  chmodSync(join(root, "var"), 0o755);
  chmodSync(join(root, "var/lib"), 0o755);
  chownSync(state, DYNAMIC_ID, DYNAMIC_ID);
  chmodSync(state, 0o700);
  return { root, etc, credentials, state };
}

/** ExecStart='s arguments with systemd's specifiers filled in and /etc/captcha-worker moved under the root, then the test's listen and upstream. */
function execStartArgs(l: Layout): string[] {
  const [program, ...args] = setting("ExecStart")[0]!.split(/\s+/);
  assert.equal(program, "/usr/local/bin/captcha-worker");
  return [
    ...args.map((a) => a.replace("%d", l.credentials).replace("${STATE_DIRECTORY}", l.state).replace(/^\/etc\/captcha-worker\//, l.etc + "/")),
    "--listen", "127.0.0.1:0", "--upstream", sim.url.href, "--log-format", "json",
  ];
}

/** The built worker as the dynamic user, with `groups` as its supplementary groups. */
function spawnAsService(setpriv: string, l: Layout, groups: number[]): { child: ChildProcess; lines: string[]; exited: Promise<number> } {
  const ids = [`--reuid=${DYNAMIC_ID}`, `--regid=${DYNAMIC_ID}`, groups.length > 0 ? `--groups=${groups.join(",")}` : "--clear-groups", "--inh-caps=-all"];
  const child = spawn(setpriv, [...ids, BUILT_BIN, ...execStartArgs(l)], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", CREDENTIALS_DIRECTORY: l.credentials, STATE_DIRECTORY: l.state },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: string[] = [];
  let partial = "";
  child.stderr!.on("data", (c: Buffer) => {
    const parts = (partial + c.toString()).split("\n");
    partial = parts.pop()!;
    lines.push(...parts.filter(Boolean));
  });
  const exited = new Promise<number>((resolve) => child.once("exit", (code, signal) => resolve(code ?? (signal ? 128 : -1))));
  after(() => void child.kill("SIGKILL"));
  return { child, lines, exited };
}

function prerequisites(t: TestContext): string | undefined {
  const setpriv = requireProgram(t, "setpriv", "util-linux");
  if (!setpriv || !requireOrSkip(t, process.getuid?.() === 0, "running as another uid with a supplementary group needs root (CI runs as root)")) return undefined;
  return requireOrSkip(t, builtBinaryAvailable(), BUILD_HINT) ? setpriv : undefined;
}

const balance = async (base: string, key: string) => (await fetch(`${base}/res.php?key=${key}&action=getbalance`)).text();

describe("deploy/systemd: the unit's reload, tried as systemd runs it", () => {
  test("a new CaptchaAI key and new client keys in their files are used after a reload (SIGHUP, as ExecReload= sends; or the change seen on its own); the token comes from the credential", async (t) => {
    const setpriv = prerequisites(t);
    if (!setpriv) return;
    assert.deepEqual(setting("ExecReload"), ["/bin/kill -HUP $MAINPID"]);
    const l = layOut();
    const w = spawnAsService(setpriv, l, [KEYS_GID]);
    const base = await pollUntil("the start line", () => {
      const line = w.lines.find((x) => x.includes('"msg":"captcha-worker started"'));
      return line === undefined ? undefined : `http://${JSON.parse(line).listen}`;
    }, { timeoutMs: 20_000, intervalMs: 25 });
    const issues = async () => ((await (await fetch(`${base}/health/ready`)).json()) as { issues: string[] }).issues;
    await pollUntil("the old key refused", async () => (await issues()).some((i) => i.startsWith("upstream_auth=")), { timeoutMs: 15_000, intervalMs: 50 });
    assert.notEqual(await balance(base, ALPHA), "ERROR_KEY_DOES_NOT_EXIST", "the gateway is on with the clients file");
    const tasks = await fetch(`${base}/v1/tasks/1`, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(tasks.status, 404, "the credential's token is taken on /v1/tasks");

    // What the header says to do: a new file of the group, mode 0640 (install -m 0640 -g ...).
    for (const [name, text] of [["captchaai-api-key", `${NEW}\n`], ["clients", `bravo ${BRAVO}\n`]] as const) {
      const fresh = join(l.etc, `.${name}.new`);
      writeFileSync(fresh, text);
      chownSync(fresh, 0, KEYS_GID);
      chmodSync(fresh, 0o640);
      renameSync(fresh, join(l.etc, name));
    }
    sim.control.reset(); // the simulator's ban of an address sending bad keys lifted: what is tested is the reload
    w.child.kill("SIGHUP");
    await pollUntil("ready with the new key", async () => (await fetch(`${base}/health/ready`)).status === 200, { timeoutMs: 15_000, intervalMs: 50 });
    await pollUntil("the new client key", async () => (await balance(base, BRAVO)) === "10", { timeoutMs: 10_000, intervalMs: 50 });
    assert.equal(await balance(base, ALPHA), "ERROR_KEY_DOES_NOT_EXIST");
    assert.ok(!w.lines.some((x) => /EACCES|could not be re-read|not reloaded/.test(x)), w.lines.join("\n"));
    w.child.kill("SIGTERM");
    assert.equal(await w.exited, 0);
  });

  test("without the group the same worker cannot read the key (exit 78, EACCES, naming --api-key-file): the files are the group's alone", async (t) => {
    const setpriv = prerequisites(t);
    if (!setpriv) return;
    const w = spawnAsService(setpriv, layOut(), []);
    assert.equal(await w.exited, 78);
    assert.ok(w.lines.some((x) => x.includes("--api-key-file") && x.includes("EACCES")), w.lines.join("\n"));
  });
});
