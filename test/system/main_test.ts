import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { OPTIONS } from "../../src/config/options.ts";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { packageVersion, runCli, runMain } from "../_support/cli.ts";
import { tempDir } from "../_support/temp_dirs.ts";

const KEY = "f00dfeedf00dfeedf00dfeedf00dfeed";

describe("main", () => {
  test("--version prints the package version and the runtime", async () => {
    const r = await runMain(["--version"]);
    assert.equal(r.code, 0);
    assert.match(r.stdout, new RegExp(`^captcha-worker ${packageVersion().replaceAll(".", "\\.")} \\(node v24\\.`));
  });

  test("--help lists every command; each command's --help its own flags, variables and defaults", async () => {
    const r = await runMain(["--help"]);
    assert.equal(r.code, 0);
    for (const cmd of ["run", "config", "status", "probe", "simulate", "types", "COMMAND --help", "--version"]) assert.ok(r.stdout.includes(cmd), cmd);
    const run = await runMain(["run", "--help"]);
    assert.equal(run.code, 0);
    for (const o of OPTIONS) {
      assert.ok(run.stdout.includes(`--${o.flag}`), o.flag);
      assert.ok(run.stdout.includes(o.env), o.env);
      if (o.default) assert.ok(run.stdout.includes(`default: ${o.default}`), o.flag);
    }
    for (const s of ["CAPTCHAAI_API_KEY", "CAPTCHAAI_API_KEY_FILE", "78"]) assert.ok(run.stdout.includes(s), s);
    for (const s of ["--timeout", "--url"]) assert.ok((await runMain(["probe", "--help"])).stdout.includes(s), s);
    assert.equal((await runMain(["-h"])).code, 0);
  });

  test("an unknown command exits 2 with one line pointing at --help", async () => {
    const r = await runMain(["frobnicate"]);
    assert.equal(r.code, 2);
    assert.equal(r.stderr.trim().split("\n").length, 1);
    assert.match(r.stderr, /frobnicate/);
    assert.match(r.stderr, /Run `captcha-worker --help`/);
  });

  test("a misspelt flag exits 2 with the flag it resembles; a negative number after a flag is its value (exit 78 naming it)", async () => {
    const typo = await runMain(["run", "--threds", "5"]);
    assert.equal(typo.code, 2);
    assert.match(typo.stderr, /--threds.*did you mean --threads\?/);
    const negative = await runMain(["config", "--min-balance", "-1"], { CAPTCHAAI_API_KEY: "key-0123456789abcdef" });
    assert.equal(negative.code, 78, negative.stderr);
    assert.match(negative.stderr, /--min-balance/);
    assert.doesNotMatch(negative.stderr, /ambiguous/);
  });

  test("an unknown flag exits 2 naming it and the command's help", async () => {
    for (const argv of [["--frob"], ["run", "--frob"], ["config", "--frob=1"], ["probe", "live", "--frob"]]) {
      const r = await runMain(argv);
      assert.equal(r.code, 2, argv.join(" "));
      assert.match(r.stderr, /--frob/);
      assert.match(r.stderr, /Run `captcha-worker (?:run|config|probe) --help`/);
    }
  });

  test("a flag without its value is a usage error", async () => {
    const r = await runMain(["config", "--threads"]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--threads/);
  });

  test("config --threads=abc exits 78 naming --threads", async () => {
    const r = await runMain(["config", "--threads=abc"], { CAPTCHAAI_API_KEY: KEY });
    assert.equal(r.code, 78);
    assert.match(r.stderr, /--threads/);
    assert.match(r.stderr, /CAPTCHA_WORKER_THREADS/);
    assert.equal(r.stdout, "");
  });

  test("a bad variable exits 78 naming the variable", async () => {
    const r = await runMain(["config"], { CAPTCHAAI_API_KEY: KEY, CAPTCHA_WORKER_POLL_INTERVAL: "often" });
    assert.equal(r.code, 78);
    assert.match(r.stderr, /CAPTCHA_WORKER_POLL_INTERVAL/);
  });

  test("run and config without a key or --demo exit 78 naming where a key may come from", async () => {
    for (const cmd of [[], ["run"], ["config"]]) {
      const r = await runMain(cmd, {});
      assert.equal(r.code, 78);
      for (const where of ["CAPTCHAAI_API_KEY", "CAPTCHAAI_API_KEY_FILE", "--api-key-file", "CREDENTIALS_DIRECTORY", "--demo"]) {
        assert.ok(r.stderr.includes(where), `${cmd.join(" ")}: ${where}`);
      }
    }
  });

  test("config prints every option with its value and source, and the key redacted", async () => {
    const r = await runMain(["config", "--threads", "8", "--api-key-file", "/run/k"], { CAPTCHA_WORKER_QUEUE_MAX: "20" }, { "/run/k": KEY });
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.deepEqual(out.options.threads, { value: 8, source: "flag", env: "CAPTCHA_WORKER_THREADS" });
    assert.deepEqual(out.options["queue-max"], { value: 20, source: "env", env: "CAPTCHA_WORKER_QUEUE_MAX" });
    assert.deepEqual(out.options["poll-interval"], { value: "5s", source: "default", env: "CAPTCHA_WORKER_POLL_INTERVAL" });
    assert.equal(Object.keys(out.options).length, OPTIONS.length);
    assert.deepEqual(out.api_key, { value: "[REDACTED: 32 characters]", source: "flag:--api-key-file" });
    assert.ok(!r.stdout.includes(KEY));
  });

  test("config --demo needs no key", async () => {
    const r = await runMain(["config", "--demo"], {});
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).api_key.source, "none");
  });

  test("config lists the providers: without a file the one CaptchaAI provider, with one each line's, every key redacted", async () => {
    const alone = JSON.parse((await runMain(["config", "--threads", "8", "--api-key-file", "/run/k"], {}, { "/run/k": KEY })).stdout);
    assert.equal(alone.providers.length, 1);
    assert.deepEqual(alone.providers[0], {
      name: "captchaai", protocol: "legacy", dialect: "captchaai", url: "https://ocr.captchaai.com/", threads: 8, price: null, prices: {}, after: "5s",
      daily_budget: null, types: "all", key: "[REDACTED: 32 characters]", key_source: "flag:--api-key-file", key_origin: "--api-key-file /run/k", line: null,
    });
    const capKey = "CAP-5ec2e75ec2e75ec2e75ec2e75ec2e7";
    const files = {
      "/etc/cw/providers": `captchaai legacy https://ocr.captchaai.com key-file=/etc/cw/cai threads=10\ncapsolver v2 https://api.capsolver.com key-file=/etc/cw/cap dialect=capsolver price=1.2 price.image=0.4 after=10s daily-budget=20 types=image,turnstile\n`,
      "/etc/cw/cai": KEY,
      "/etc/cw/cap": capKey + "\n",
    };
    const r = await runMain(["config"], { CAPTCHA_WORKER_PROVIDERS_FILE: "/etc/cw/providers" }, files);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.deepEqual(out.options["providers-file"], { value: "/etc/cw/providers", source: "env", env: "CAPTCHA_WORKER_PROVIDERS_FILE" });
    assert.deepEqual(out.api_key, { value: null, source: "none" }, "the CaptchaAI key's own sources serve only the default provider");
    assert.deepEqual(out.providers.map((p: { name: string }) => p.name), ["captchaai", "capsolver"]);
    assert.deepEqual(out.providers[1], {
      name: "capsolver", protocol: "v2", dialect: "capsolver", url: "https://api.capsolver.com/", threads: null, price: 1.2, prices: { image: 0.4 }, after: "10s",
      daily_budget: 20, types: ["image", "turnstile"], key: `[REDACTED: ${capKey.length} characters]`, key_source: "key-file", key_origin: "key-file /etc/cw/cap", line: 2,
    });
    for (const k of [KEY, capKey]) assert.ok(!r.stdout.includes(k) && !r.stderr.includes(k));
  });

  test("a bad providers file: run and config exit 78 naming the file, the line and the field, quoting no key", async () => {
    const files = { "/p": `# providers\nok legacy https://ocr.captchaai.com key-file=/k threads=2\nbad legacy https://2captcha.com key-file=/k threads=2 price=1 ${KEY}=1\n`, "/k": KEY };
    for (const cmd of ["config", "run"]) {
      const r = await runMain([cmd, "--providers-file", "/p"], {}, files);
      assert.equal(r.code, 78, `${cmd}: ${r.stderr}`);
      assert.match(r.stderr, /Invalid --providers-file "\/p" line 3: word 7 is an unknown field/);
      assert.ok(!r.stderr.includes(KEY));
      assert.equal(r.stdout, "");
    }
    const noKey = await runMain(["run", "--providers-file", "/p"], {}, { "/p": "ok legacy https://ocr.captchaai.com key-file=/gone threads=2\n" });
    assert.equal(noKey.code, 78);
    assert.match(noKey.stderr, /line 1, field key-file: cannot read the file it names \(ENOENT\)/);
    assert.doesNotMatch(noKey.stderr, /\/gone/, "the path is not quoted: a key pasted as a path stays out of the message");
  });

  test("the real process exits with the same codes", async () => {
    assert.equal((await runCli(["frobnicate"])).code, 2);
    assert.equal((await runCli(["config", "--threads=abc"], { CAPTCHAAI_API_KEY: KEY })).code, 78);
    const noKey = await runCli(["run"]);
    assert.equal(noKey.code, 78);
    assert.match(noKey.stderr, /CAPTCHAAI_API_KEY/);
    const dir = tempDir("cw-providers-");
    writeFileSync(join(dir, "providers"), "p legacy https://2captcha.com key-file=missing.key price=2.99 daily-budget=ten\n");
    const badFile = await runCli(["run", "--providers-file", join(dir, "providers")]);
    assert.equal(badFile.code, 78, badFile.stderr);
    assert.match(badFile.stderr, /line 1, field daily-budget: expected USD from 0 to 1000000/);
    assert.equal((await runCli(["--version"])).code, 0);
  });
});
