import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { commandUsage, COMMANDS, usage } from "../../src/cli/usage.ts";
import { runMain } from "../_support/cli.ts";

describe("main: help", () => {
  test("COMMAND --help, COMMAND -h and help COMMAND print that command's page on stdout, exit 0", async () => {
    for (const c of COMMANDS) {
      for (const argv of [[c.name, "--help"], [c.name, "-h"], ["help", c.name]]) {
        const r = await runMain(argv);
        assert.equal(r.code, 0, argv.join(" "));
        assert.equal(r.stdout, commandUsage(c.name), argv.join(" "));
        assert.equal(r.stderr, "");
      }
    }
  });

  test("--help, -h and help alone print the overview; flags before --help with no command are run's", async () => {
    for (const argv of [["--help"], ["-h"], ["help"]]) assert.deepEqual(await runMain(argv), { code: 0, stdout: usage(), stderr: "" }, argv.join(" "));
    assert.equal((await runMain(["--demo", "--help"])).stdout, commandUsage("run"));
    assert.equal((await runMain(["probe", "live", "--help"])).stdout, commandUsage("probe"));
    assert.notEqual(commandUsage("run"), usage());
  });
});

describe("main: did you mean", () => {
  test("a mistyped command exits 2 naming the command it resembles, in one line pointing at the overview", async () => {
    for (const [typo, meant] of [["statsu", "status"], ["cofig", "config"], ["prob", "probe"], ["simulat", "simulate"], ["tpyes", "types"], ["rnu", "run"]] as const) {
      const r = await runMain([typo]);
      assert.equal(r.code, 2, typo);
      assert.equal(r.stdout, "");
      assert.equal(r.stderr.trim().split("\n").length, 1, typo);
      assert.ok(r.stderr.includes(`Unknown command "${typo}" (did you mean "${meant}"?)`), r.stderr);
      assert.match(r.stderr, /Run `captcha-worker --help` for usage\.$/m);
    }
  });

  test("a command like none: exit 2 listing the commands; help with an unknown command is the same usage error", async () => {
    const r = await runMain(["frobnicate"]);
    assert.equal(r.code, 2);
    assert.ok(r.stderr.includes(`commands: ${COMMANDS.map((c) => c.name).join(", ")}`), r.stderr);
    const help = await runMain(["help", "statsu"]);
    assert.equal(help.code, 2);
    assert.match(help.stderr, /did you mean "status"\?/);
  });

  test("a usage error inside a command points at that command's page; without a command, at run's", async () => {
    assert.match((await runMain(["probe", "live", "--frob"])).stderr, /Run `captcha-worker probe --help` for usage\.$/m);
    assert.match((await runMain(["status", "--jsno"])).stderr, /did you mean --json\?.*Run `captcha-worker status --help`/);
    assert.match((await runMain(["--frob"])).stderr, /Run `captcha-worker run --help` for usage\.$/m);
  });

  test("a mistyped --version first gets a suggestion; after a command or another flag, where --version is no flag, none", async () => {
    assert.match((await runMain(["--versoin"])).stderr, /Unknown option '--versoin' \(did you mean --version\?\)/);
    assert.doesNotMatch((await runMain(["run", "--versoin"])).stderr, /did you mean/);
    assert.doesNotMatch((await runMain(["--demo", "--versoin"])).stderr, /did you mean/);
  });
});
