import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { once } from "node:events";
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, test } from "node:test";
import { BUILT_BIN, builtBinaryAvailable, collectOutput, packageVersion, spawnCli, waitForStart } from "../_support/cli.ts";
import { requireOrSkip, requireProgram } from "../_support/programs.ts";
import { commandUsage } from "../../src/cli/usage.ts";

const KEY = "binary-smoke-key-0d9e8f";
const BUILD_HINT = "dist/captcha-worker is not built: npm run build (npm test builds it first)";

describe("the built executable", () => {
  test("answers --version, serves /health/live, passes its own probe, and exits 0 on SIGTERM", async (t) => {
    if (!requireOrSkip(t, builtBinaryAvailable(), BUILD_HINT)) return;
    const version = execFileSync(BUILT_BIN, ["--version"], { encoding: "utf8", env: {} });
    assert.match(version, new RegExp(`^captcha-worker ${packageVersion().replaceAll(".", "\\.")} \\(node v24\\.`));

    const child = spawnCli(["run", "--listen", "127.0.0.1:0"], { CAPTCHAAI_API_KEY: KEY }, BUILT_BIN);
    const out = collectOutput(child);
    const { listen } = await waitForStart(child);
    const probe = execFileSync(BUILT_BIN, ["probe", "live", "--url", `http://${listen}`], { encoding: "utf8", env: {} });
    assert.match(probe, /^ok: .* answered 200/);
    child.kill("SIGTERM");
    const [code] = await once(child, "exit");
    assert.equal(code, 0);
    assert.ok(!out.text().includes(KEY));
  });

  test("exits 78 for bad configuration and 2 for an unknown command, and prints run's help page, like the source", async (t) => {
    if (!requireOrSkip(t, builtBinaryAvailable(), BUILD_HINT)) return;
    const bad = spawnCli(["config", "--threads=abc"], { CAPTCHAAI_API_KEY: KEY }, BUILT_BIN);
    assert.equal((await once(bad, "exit"))[0], 78);
    const r = spawnCli(["frobnicate"], {}, BUILT_BIN);
    const [code] = await once(r, "exit");
    assert.equal(code, 2);
    // Help pages are generated from the tables at run time: the bundle prints what the source does.
    assert.equal(execFileSync(BUILT_BIN, ["run", "--help"], { encoding: "utf8", env: {} }), commandUsage("run"));
  });

  test("locks its state dir with node:sqlite: a second executable on the dir exits 75 naming the owner's pid", async (t) => {
    if (!requireOrSkip(t, builtBinaryAvailable(), BUILD_HINT)) return;
    const dir = mkdtempSync(join(tmpdir(), "cw-bin-lock-"));
    const owner = spawnCli(["run", "--listen", "127.0.0.1:0", "--state-dir", dir], { CAPTCHAAI_API_KEY: KEY }, BUILT_BIN);
    try {
      await waitForStart(owner);
      const second = spawnCli(["run", "--listen", "127.0.0.1:0", "--state-dir", dir], { CAPTCHAAI_API_KEY: KEY }, BUILT_BIN);
      const out = collectOutput(second);
      assert.equal((await once(second, "exit"))[0], 75);
      assert.ok(out.text().includes(`pid ${owner.pid}`), out.text());
      assert.ok(!out.text().includes("ExperimentalWarning"), "node:sqlite loads quietly");
    } finally {
      owner.kill("SIGKILL");
      await once(owner, "exit");
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("runs as uid 65532 in a chroot holding only what distroless/cc gives: the binary and the libraries ldd lists", async (t) => {
    if (!requireOrSkip(t, builtBinaryAvailable(), BUILD_HINT)) return;
    if (!requireOrSkip(t, process.getuid?.() === 0, "needs root to chroot and mknod (CI runs as root)")) return;
    const chroot = requireProgram(t, "chroot", "coreutils");
    if (!chroot || !requireProgram(t, "ldd", "libc-bin")) return;

    const root = mkdtempSync(join(tmpdir(), "distroless-"));
    chmodSync(root, 0o755); // mkdtemp makes it 0700: uid 65532 could not enter it
    t.after(() => rmSync(root, { recursive: true, force: true }));
    const libs = execFileSync("ldd", [BUILT_BIN], { encoding: "utf8" })
      .split("\n")
      .map((l) => /(?:=>\s*)?(\/\S+)\s+\(0x/.exec(l)?.[1])
      .filter((p): p is string => p !== undefined);
    assert.ok(libs.some((l) => l.includes("libc.so")), "ldd lists libc");
    for (const lib of libs) {
      mkdirSync(join(root, dirname(lib)), { recursive: true });
      copyFileSync(lib, join(root, lib));
    }
    mkdirSync(join(root, "dev"));
    execFileSync("mknod", ["-m", "666", join(root, "dev/null"), "c", "1", "3"]);
    execFileSync("mknod", ["-m", "444", join(root, "dev/urandom"), "c", "1", "9"]);
    mkdirSync(join(root, "etc"));
    writeFileSync(join(root, "etc/passwd"), "root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n");
    writeFileSync(join(root, "etc/group"), "root:x:0:\nnonroot:x:65532:\n");
    mkdirSync(join(root, "tmp"));
    chmodSync(join(root, "tmp"), 0o1777);
    copyFileSync(BUILT_BIN, join(root, "captcha-worker"));
    chmodSync(join(root, "captcha-worker"), 0o755);
    assert.throws(() => execFileSync(chroot, [root, "/bin/sh", "-c", "true"], { stdio: "ignore" }), "no shell in the image");

    const worker = spawnCli(
      ["--userspec=65532:65532", root, "/captcha-worker", "run", "--listen", "127.0.0.1:0"],
      { CAPTCHAAI_API_KEY: KEY, HOME: "/home/nonroot" },
      chroot,
    );
    t.after(() => worker.kill("SIGKILL"));
    const { listen } = await waitForStart(worker);
    const probe = execFileSync(chroot, ["--userspec=65532:65532", root, "/captcha-worker", "probe", "live", "--url", `http://${listen}`], {
      encoding: "utf8",
      env: {},
    });
    assert.match(probe, /^ok: .* answered 200/);
    const uid = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${worker.pid}/status`, "utf8"))?.[1];
    worker.kill("SIGTERM");
    const [code] = await once(worker, "exit");
    assert.equal(code, 0);
    assert.equal(uid, "65532", "chroot execs the worker as nonroot");
  });
});
